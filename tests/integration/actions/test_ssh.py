"""std.ssh and std.ssh_proxied against real OpenSSH servers on loopback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from meltemi.actions import ActionRegistry
from tests.integration.actions.conftest import RunAction
from tests.integration.actions.servers import Sshd, free_port


def test_key_from_text(sshd: Sshd, run_action: RunAction) -> None:
    outcome = run_action(
        "std.ssh",
        {
            "cmd": "echo hello; echo $((6 * 7))",
            "host": sshd.address,
            "username": sshd.user,
            "private_key": sshd.key_text,
        },
    )
    assert not outcome.is_error, outcome.error
    assert outcome.data == "hello\n42\n"


def test_key_from_file_and_several_hosts(sshd: Sshd, run_action: RunAction) -> None:
    outcome = run_action(
        "std.ssh",
        {
            "cmd": "printf '%s' \"$SSH_CONNECTION\" | cut -d' ' -f4",
            "host": [sshd.address, sshd.address],
            "username": sshd.user,
            "private_key_filename": str(sshd.key_file),
        },
    )
    assert outcome.data == [str(sshd.port) + "\n", str(sshd.port) + "\n"]


def test_password(sshd: Sshd, ssh_user: tuple[str, str], run_action: RunAction) -> None:
    user, password = ssh_user
    outcome = run_action(
        "std.ssh",
        {"cmd": "id -un", "host": sshd.address, "username": user, "password": password},
    )
    assert not outcome.is_error, f"{outcome.error}\n{sshd.log()[-2000:]}"
    assert outcome.data == f"{user}\n"
    wrong = run_action(
        "std.ssh",
        {"cmd": "id -un", "host": sshd.address, "username": user, "password": "not-it"},
    )
    assert wrong.error == (
        f"Failed to execute ssh cmd 'id -un' on {sshd.address}: "
        "AuthenticationException: Authentication failed."
    )
    assert "not-it" not in wrong.error


def test_failing_command(sshd: Sshd, run_action: RunAction) -> None:
    given = {
        "cmd": "echo out; echo oops >&2; exit 3",
        "host": sshd.address,
        "username": sshd.user,
        "private_key": sshd.key_text,
    }
    failed = run_action("std.ssh", given)
    assert failed.error == (
        f"Failed to execute ssh cmd 'echo out; echo oops >&2; exit 3' on {sshd.address}: "
        "exit code 3, oops"
    )
    kept = run_action("std.ssh", {**given, "return_result_on_error": True})
    assert kept.data == {"stdout": "out\n", "stderr": "oops\n", "exit_code": 3}


def test_big_output_on_both_streams(sshd: Sshd, run_action: RunAction) -> None:
    """Neither stream can block the other, whatever their sizes."""
    outcome = run_action(
        "std.ssh",
        {
            "cmd": "head -c 3000000 /dev/zero | tr '\\0' e >&2; head -c 3000000 /dev/zero "
            "| tr '\\0' o",
            "host": sshd.address,
            "username": sshd.user,
            "private_key": sshd.key_text,
            "return_result_on_error": True,
        },
    )
    assert outcome.data["exit_code"] == 0
    assert outcome.data["stdout"] == "o" * 3_000_000
    assert outcome.data["stderr"] == "e" * 3_000_000


def test_task_timeout_stops_a_long_command(sshd: Sshd, run_action: RunAction) -> None:
    outcome = run_action(
        "std.ssh",
        {
            "cmd": "sleep 600",
            "host": sshd.address,
            "username": sshd.user,
            "private_key": sshd.key_text,
        },
        timeout=1,
    )
    assert outcome.error == "The action 'std.ssh' timed out after 1 s"


def test_unreachable_host(sshd: Sshd, run_action: RunAction) -> None:
    address = f"127.0.0.1:{free_port()}"
    outcome = run_action(
        "std.ssh",
        {"cmd": "true", "host": address, "username": "x", "private_key": sshd.key_text},
    )
    assert outcome.error.startswith(f"Failed to execute ssh cmd 'true' on {address}: ")
    assert "Unable to connect" in outcome.error


def test_unknown_host_key_rejected_when_asked(
    sshd: Sshd, run_action: RunAction, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("MELTEMI_SSH_HOST_KEY_POLICY", "reject")
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.ssh/known_hosts
    given = {
        "cmd": "echo trusted",
        "host": sshd.address,
        "username": sshd.user,
        "private_key": sshd.key_text,
    }
    refused = run_action("std.ssh", given)
    assert "SSHException: Server '[127.0.0.1]:" in refused.error
    assert "not found in known_hosts" in refused.error
    known = tmp_path / "known_hosts"
    host_key = (sshd.folder / "host_ed25519.pub").read_text().split()
    known.write_text(f"[127.0.0.1]:{sshd.port} {host_key[0]} {host_key[1]}\n")
    monkeypatch.setenv("MELTEMI_SSH_KNOWN_HOSTS", str(known))
    assert run_action("std.ssh", given).data == "trusted\n"


def test_through_a_gateway(sshd: Sshd, inner_sshd: Sshd, run_action: RunAction) -> None:
    gateway_logins = sshd.log().count("Accepted publickey")
    outcome = run_action(
        "std.ssh_proxied",
        {
            "cmd": "printf '%s' \"$SSH_CONNECTION\" | cut -d' ' -f4",
            "host": inner_sshd.address,
            "username": inner_sshd.user,
            "private_key_filename": str(inner_sshd.key_file),
            "gateway_host": sshd.address,
        },
    )
    assert not outcome.is_error, f"{outcome.error}\n{sshd.log()[-2000:]}"
    assert outcome.data == f"{inner_sshd.port}\n"
    # The way in was through the gateway.
    assert sshd.log().count("Accepted publickey") == gateway_logins + 1


def test_gateway_reached_with_a_proxy_command(
    sshd: Sshd, inner_sshd: Sshd, run_action: RunAction
) -> None:
    if shutil.which("ssh") is None:
        pytest.skip("the ssh client is not installed")
    proxy = (
        f"ssh -q -i {sshd.key_file} -p {sshd.port} -o StrictHostKeyChecking=no "
        f"-o UserKnownHostsFile=/dev/null -o BatchMode=yes {sshd.user}@127.0.0.1 "
        f"-W 127.0.0.1:{sshd.port}"
    )
    outcome = run_action(
        "std.ssh_proxied",
        {
            "cmd": "echo via proxy",
            "host": inner_sshd.address,
            "username": inner_sshd.user,
            "private_key_filename": str(inner_sshd.key_file),
            "gateway_host": sshd.address,
            "proxy_command": proxy,
        },
    )
    assert not outcome.is_error, outcome.error
    assert outcome.data == "via proxy\n"


def test_key_file_outside_ssh_folder_by_dots(run_action: RunAction) -> None:
    outcome = run_action(
        "std.ssh",
        {
            "cmd": "true",
            "host": "127.0.0.1",
            "username": "x",
            "private_key_filename": "../../etc/shadow",
        },
    )
    assert "private_key_filename must not contain '..'" in outcome.error


def test_signatures(registry: ActionRegistry) -> None:
    assert registry.get("std.ssh").input_text == (
        'cmd, host, username, password="", private_key_filename=null, private_key=null, '
        "return_result_on_error=false"
    )
    assert registry.get("std.ssh_proxied").input_text == (
        "cmd, host, username, private_key_filename, gateway_host, gateway_username=null, "
        "password=null, proxy_command=null, private_key=null"
    )
