"""std.email: sends a message through an SMTP server (smtplib).

Input as in Mistral: ``from_addr``, ``to_addrs`` (a list, or one address),
``smtp_server`` (``host`` or ``host:port``, port 25 by default), ``reply_to``,
``cc_addrs``, ``bcc_addrs`` (lists or single addresses), ``smtp_password``,
``subject`` (default ``<No subject>``), ``body`` (default ``<No body>``) and
``html_body`` (sent as the HTML alternative of ``body``). Bcc addresses receive the
message but are not written in it. The result is ``None``; a failure is the error
``Failed to send an email message: ...``.

With ``smtp_password`` the connection is upgraded with STARTTLS and the sender logs in
as ``from_addr``, as Mistral does. Unlike Mistral (whose STARTTLS checks no
certificate), the server's certificate is verified, since a password is about to
cross: ``MELTEMI_SMTP_CA_FILE`` names extra CA certificates to trust (a private
relay), and ``MELTEMI_SMTP_TLS_VERIFY=false`` restores Mistral's behaviour.
``MELTEMI_SMTP_TIMEOUT`` bounds each exchange with the server (seconds, default 60).
"""

from __future__ import annotations

import os
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Final

from meltemi.actions.base import Action, ActionContext, Outcome

DEFAULT_PORT: Final = 25
DEFAULT_TIMEOUT: Final = 60.0


def _addresses(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


class EmailAction(Action):
    """Sends an email message through an SMTP server."""

    def __init__(
        self,
        from_addr: str,
        to_addrs: list[str] | str,
        smtp_server: str,
        reply_to: list[str] | str | None = None,
        cc_addrs: list[str] | str | None = None,
        bcc_addrs: list[str] | str | None = None,
        smtp_password: str | None = None,
        subject: str | None = None,
        body: str | None = None,
        html_body: str | None = None,
    ) -> None:
        self.sender = from_addr
        self.to = _addresses(to_addrs)
        self.cc = _addresses(cc_addrs)
        self.bcc = _addresses(bcc_addrs)
        self.reply_to = _addresses(reply_to)
        self.smtp_server = smtp_server
        self.password = smtp_password
        self.subject = subject or "<No subject>"
        self.body = body or "<No body>"
        self.html_body = html_body

    def message(self) -> EmailMessage:
        """The message as it is sent (without its Bcc recipients)."""
        message = EmailMessage()
        message["Subject"] = self.subject
        message["From"] = self.sender
        message["To"] = ", ".join(self.to)
        if self.cc:
            message["Cc"] = ", ".join(self.cc)
        if self.reply_to:
            message["Reply-To"] = ", ".join(self.reply_to)
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain="meltemi")
        message.set_content(self.body)
        if self.html_body:
            message.add_alternative(self.html_body, subtype="html")
        return message

    def run(self, context: ActionContext) -> Any:
        if context.cancelled.is_set():
            return Outcome(cancelled=True, error="Action was cancelled")
        host, _, port = self.smtp_server.rpartition(":")
        if not host or not port.isdigit():
            host, port = self.smtp_server, str(DEFAULT_PORT)
        recipients = self.to + self.cc + self.bcc
        if not recipients:
            return Outcome(error="Failed to send an email message: no recipient (to_addrs)")
        try:
            with smtplib.SMTP(host.strip("[]"), int(port), timeout=_timeout()) as smtp:
                if self.password is not None:
                    smtp.ehlo()
                    smtp.starttls(context=_tls_context())
                    smtp.ehlo()
                    smtp.login(self.sender, self.password)
                smtp.send_message(self.message(), self.sender, recipients)
        except (smtplib.SMTPException, OSError) as e:
            reason = str(e) or type(e).__name__
            return Outcome(error=f"Failed to send an email message: {reason}")
        return None


def _timeout() -> float:
    try:
        return float(os.environ.get("MELTEMI_SMTP_TIMEOUT", "") or DEFAULT_TIMEOUT)
    except ValueError:
        return DEFAULT_TIMEOUT


def _tls_context() -> ssl.SSLContext:
    verify = os.environ.get("MELTEMI_SMTP_TLS_VERIFY", "true").strip().lower()
    if verify in ("0", "false", "no", "off"):
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context
    context = ssl.create_default_context()
    extra = os.environ.get("MELTEMI_SMTP_CA_FILE")
    if extra:
        context.load_verify_locations(cafile=extra)
    return context
