"""std.email against a real SMTP server (aiosmtpd) on loopback, through the executor."""

from __future__ import annotations

import email
import email.policy

import pytest

from meltemi.actions import ActionRegistry
from tests.integration.actions.conftest import RunAction
from tests.integration.actions.servers import SmtpServer, free_port


def _parsed(data: bytes) -> email.message.EmailMessage:
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, email.message.EmailMessage)
    return message


def test_plain_message_with_its_headers(smtp: SmtpServer, run_action: RunAction) -> None:
    outcome = run_action(
        "std.email",
        {
            "from_addr": "meltemi@example.org",
            "to_addrs": ["ann@example.org", "bob@example.org"],
            "cc_addrs": ["carol@example.org"],
            "bcc_addrs": ["dave@example.org"],
            "reply_to": ["help@example.org"],
            "smtp_server": smtp.address,
            "subject": "Workflow finished — ünïcode",
            "body": "All tasks succeeded.",
        },
    )
    assert not outcome.is_error, outcome.error
    assert outcome.data is None
    [mail] = smtp.received
    assert mail.sender == "meltemi@example.org"
    assert sorted(mail.recipients) == [
        "ann@example.org",
        "bob@example.org",
        "carol@example.org",
        "dave@example.org",
    ]
    message = _parsed(mail.data)
    assert message["Subject"] == "Workflow finished — ünïcode"
    assert message["From"] == "meltemi@example.org"
    assert message["To"] == "ann@example.org, bob@example.org"
    assert message["Cc"] == "carol@example.org"
    assert message["Reply-To"] == "help@example.org"
    assert message["Bcc"] is None
    assert message["Message-ID"]
    assert message.get_content().strip() == "All tasks succeeded."


def test_defaults_and_html_alternative(smtp: SmtpServer, run_action: RunAction) -> None:
    run_action(
        "std.email",
        {
            "from_addr": "meltemi@example.org",
            "to_addrs": "ann@example.org",
            "smtp_server": smtp.address,
            "html_body": "<p>Done</p>",
        },
    )
    message = _parsed(smtp.received[0].data)
    assert message["Subject"] == "<No subject>"
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None
    assert html is not None
    assert plain.get_content().strip() == "<No body>"
    assert html.get_content().strip() == "<p>Done</p>"


def test_password_means_starttls_and_login(
    smtp_tls: SmtpServer, run_action: RunAction, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert smtp_tls.ca_file is not None
    monkeypatch.setenv("MELTEMI_SMTP_CA_FILE", str(smtp_tls.ca_file))
    given = {
        "from_addr": smtp_tls.user,
        "to_addrs": ["ann@example.org"],
        "smtp_server": smtp_tls.address,
        "subject": "over TLS",
    }
    outcome = run_action("std.email", {**given, "smtp_password": smtp_tls.password})
    assert not outcome.is_error, outcome.error
    [mail] = smtp_tls.received
    assert mail.login == smtp_tls.user
    assert _parsed(mail.data)["Subject"] == "over TLS"

    wrong = run_action("std.email", {**given, "smtp_password": "wrong"})
    assert wrong.error.startswith("Failed to send an email message: (535")
    assert "wrong" not in wrong.error
    without = run_action("std.email", given)  # the server insists on TLS and a login
    assert without.error.startswith("Failed to send an email message:")
    assert len(smtp_tls.received) == 1


def test_untrusted_certificate_is_refused(smtp_tls: SmtpServer, run_action: RunAction) -> None:
    outcome = run_action(
        "std.email",
        {
            "from_addr": smtp_tls.user,
            "to_addrs": ["ann@example.org"],
            "smtp_server": smtp_tls.address,
            "smtp_password": smtp_tls.password,
        },
    )
    assert "CERTIFICATE_VERIFY_FAILED" in outcome.error
    assert not smtp_tls.received


def test_unreachable_server(run_action: RunAction) -> None:
    outcome = run_action(
        "std.email",
        {"from_addr": "a@b.c", "to_addrs": ["d@e.f"], "smtp_server": f"127.0.0.1:{free_port()}"},
    )
    assert outcome.error.startswith("Failed to send an email message: [Errno 111]")


def test_signature(registry: ActionRegistry) -> None:
    assert registry.get("std.email").input_text == (
        "from_addr, to_addrs, smtp_server, reply_to=null, cc_addrs=null, bcc_addrs=null, "
        "smtp_password=null, subject=null, body=null, html_body=null"
    )
