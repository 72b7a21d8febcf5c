"""std.ssh and std.ssh_proxied, on paramiko.

Input and result are Mistral's: ``cmd`` runs on ``host`` (a name, or a list of names:
then the result is a list, one entry per host in order) as ``username``, who logs in
with ``private_key`` (the key's text), ``private_key_filename`` (a path; relative to
``~/.ssh/``, and ``..`` is refused) or ``password`` (which also unlocks an encrypted
key). The result is the command's standard output; an exit code above 0 is the error
``Failed to execute ssh cmd '<cmd>' on <host>: ...``, unless
``return_result_on_error`` is true, when every host's result is ``{stdout, stderr,
exit_code}`` whatever the exit code. A host may carry a port: ``host:2222`` or
``[::1]:2222`` (Mistral always uses 22). With no password and no key, the user's SSH
agent and ``~/.ssh`` keys are tried, as paramiko (and so Mistral) does by default.

std.ssh_proxied reaches ``host`` through ``gateway_host`` (logging in there as
``gateway_username``, default ``username``, with the same credentials). Where Mistral
runs ``nc <host> 22`` on the gateway, Meltemi opens an SSH ``direct-tcpip`` channel,
so the gateway needs TCP forwarding allowed (OpenSSH's default) and no ``nc``.
``proxy_command`` (e.g. ``ssh -W %h:%p bastion``, run locally) connects to the gateway.

Host keys: ``MELTEMI_SSH_HOST_KEY_POLICY`` is ``auto-add`` (the default, as Mistral:
an unknown host's key is accepted), ``warn`` (accepted, with a warning in the log) or
``reject`` (only hosts in ``~/.ssh/known_hosts`` or in the file named by
``MELTEMI_SSH_KNOWN_HOSTS`` are accepted). ``MELTEMI_SSH_TIMEOUT`` bounds connecting
and logging in (seconds, default 30); the command itself runs until it ends or the
action is cancelled (a task timeout does that; the channel is then closed).
"""

from __future__ import annotations

import functools
import io
import logging
import os
import select
import subprocess
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from meltemi.actions.base import Action, ActionContext, Outcome
from meltemi.actions.errors import ActionError

if TYPE_CHECKING:
    import paramiko

log = logging.getLogger(__name__)

CANCELLED = "Action was cancelled"
DEFAULT_TIMEOUT: Final = 30.0
_POLL: Final = 0.1
_CHUNK: Final = 65536
_PROXY_CLOSE = threading.Lock()


class SshError(ActionError):
    """An SSH command could not be run."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    host: str
    port: int = 22

    @classmethod
    def parse(cls, text: str) -> Endpoint:
        text = str(text).strip()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            return cls(host, int(rest[1:]) if rest.startswith(":") else 22)
        if text.count(":") == 1:
            host, port = text.split(":")
            if port.isdigit():
                return cls(host, int(port))
        return cls(text)


@dataclass(frozen=True, slots=True)
class CommandResult:
    exit_code: int
    stdout: str
    stderr: str


class SshAction(Action):
    """Runs a command on one or more hosts over SSH."""

    def __init__(
        self,
        cmd: str,
        host: str | list[str],
        username: str,
        password: str | None = "",
        private_key_filename: str | None = None,
        private_key: str | None = None,
        return_result_on_error: bool = False,
    ) -> None:
        self.cmd = cmd
        self.hosts = [str(h) for h in host] if isinstance(host, list | tuple) else [str(host)]
        self.username = username
        self.password = password or None
        self.private_key_filename = private_key_filename
        self.private_key = private_key
        self.return_result_on_error = bool(return_result_on_error)

    def run(self, context: ActionContext) -> Any:
        results: list[Any] = []
        for host in self.hosts:
            if context.cancelled.is_set():
                return Outcome(cancelled=True, error=CANCELLED)
            try:
                result = self.execute(host, context)
            except _Cancelled:
                return Outcome(cancelled=True, error=CANCELLED)
            except Exception as e:  # noqa: BLE001  # any failure of paramiko or the network
                log.info("ssh.failed", extra={"host": host, "error": type(e).__name__})
                return Outcome(error=f"{self._failed(host)}: {_explain(e)}")
            if self.return_result_on_error:
                results.append(
                    {
                        "stdout": result.stdout,
                        "stderr": result.stderr,
                        "exit_code": result.exit_code,
                    }
                )
            elif result.exit_code > 0:
                detail = f"exit code {result.exit_code}"
                last = result.stderr.strip().splitlines()[-1:] if result.stderr.strip() else []
                if last:
                    detail += f", {last[0][:200]}"
                return Outcome(error=f"{self._failed(host)}: {detail}")
            else:
                results.append(result.stdout)
        return results if len(results) > 1 else results[0]

    def _failed(self, host: str) -> str:
        return f"Failed to execute ssh cmd '{self.cmd}' on {host}"

    def execute(self, host: str, context: ActionContext) -> CommandResult:
        """Runs the command on one host."""
        key = load_private_key(self.private_key_filename, self.private_key, self.password)
        with ExitStack() as stack:
            client = stack.enter_context(
                _connected(Endpoint.parse(host), self.username, self.password, key)
            )
            return _run_command(client, self.cmd, context)


class SshProxiedAction(SshAction):
    """Runs a command over SSH on hosts reached through a gateway host."""

    def __init__(
        self,
        cmd: str,
        host: str | list[str],
        username: str,
        private_key_filename: str | None,
        gateway_host: str,
        gateway_username: str | None = None,
        password: str | None = None,
        proxy_command: str | None = None,
        private_key: str | None = None,
    ) -> None:
        super().__init__(cmd, host, username, password, private_key_filename, private_key)
        self.gateway_host = gateway_host
        self.gateway_username = gateway_username or username
        self.proxy_command = proxy_command

    def execute(self, host: str, context: ActionContext) -> CommandResult:
        key = load_private_key(self.private_key_filename, self.private_key, self.password)
        gateway = Endpoint.parse(self.gateway_host)
        target = Endpoint.parse(host)
        with ExitStack() as stack:
            sock = None
            if self.proxy_command:
                sock = _proxy_command_class()(self.proxy_command)
                stack.callback(sock.close)
            hop = stack.enter_context(
                _connected(gateway, self.gateway_username, self.password, key, sock=sock)
            )
            transport = hop.get_transport()
            if transport is None:
                raise SshError(f"the connection to the gateway {self.gateway_host} closed")
            channel = transport.open_channel(
                "direct-tcpip", (target.host, target.port), ("127.0.0.1", 0), timeout=_timeout()
            )
            client = stack.enter_context(
                _connected(target, self.username, self.password, key, sock=channel)
            )
            return _run_command(client, self.cmd, context)


class _Cancelled(Exception):
    pass


def load_private_key(
    filename: str | None, text: str | None, passphrase: str | None
) -> paramiko.PKey | None:
    """The key given as text or as a file (relative names are in ``~/.ssh/``)."""
    import paramiko

    if not text and not filename:
        return None
    path: Path | None = None
    if not text and filename:
        if ".." in Path(filename).parts:
            raise SshError(f"private_key_filename must not contain '..': {filename}")
        path = Path(filename) if Path(filename).is_absolute() else Path.home() / ".ssh" / filename
    failure: Exception | None = None
    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            if text:
                return kind.from_private_key(io.StringIO(text), password=passphrase)
            return kind.from_private_key_file(str(path), password=passphrase)
        except paramiko.PasswordRequiredException as e:
            raise SshError("the private key is encrypted and no password was given") from e
        except (OSError, paramiko.SSHException, ValueError) as e:
            failure = e
    source = "private_key" if text else f"private key file {path}"
    raise SshError(f"cannot read the {source}: {_explain(failure)}")


@contextmanager
def _connected(
    endpoint: Endpoint,
    username: str,
    password: str | None,
    key: paramiko.PKey | None,
    *,
    sock: Any = None,
) -> Iterator[paramiko.SSHClient]:
    import paramiko

    client = paramiko.SSHClient()
    try:
        _apply_host_key_policy(client)
        explicit = bool(password or key)
        timeout = _timeout()
        client.connect(
            endpoint.host,
            port=endpoint.port,
            username=username,
            password=password,
            pkey=key,
            sock=sock,
            timeout=timeout,
            banner_timeout=timeout,
            auth_timeout=timeout,
            channel_timeout=timeout,
            look_for_keys=not explicit,
            allow_agent=not explicit,
        )
        yield client
    finally:
        client.close()


@functools.cache
def _proxy_command_class() -> type[paramiko.ProxyCommand]:
    import paramiko

    class ReapedProxyCommand(paramiko.ProxyCommand):
        """paramiko's ProxyCommand whose close() may come twice (from us and from the
        transport's thread) and which reaps its process instead of only signalling it."""

        def close(self) -> None:
            with _PROXY_CLOSE:
                if getattr(self, "_reaped", False):
                    return
                self._reaped = True
            process = self.process
            if process.poll() is None:
                process.terminate()
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    return ReapedProxyCommand


def _apply_host_key_policy(client: paramiko.SSHClient) -> None:
    import paramiko

    policy = os.environ.get("MELTEMI_SSH_HOST_KEY_POLICY", "auto-add").strip().lower()
    if policy in ("reject", "strict"):
        client.load_system_host_keys()
        known = os.environ.get("MELTEMI_SSH_KNOWN_HOSTS")
        if known:
            client.load_host_keys(known)
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
    elif policy in ("warn", "warning"):
        client.set_missing_host_key_policy(paramiko.WarningPolicy())
    else:
        client.set_missing_host_key_policy(paramiko.AutoAddPolicy())


def _run_command(client: paramiko.SSHClient, cmd: str, context: ActionContext) -> CommandResult:
    transport = client.get_transport()
    if transport is None:
        raise SshError("the SSH connection closed before the command could start")
    channel = transport.open_session(timeout=_timeout())
    try:
        channel.exec_command(cmd)
        out: list[bytes] = []
        err: list[bytes] = []
        # Both streams are read as data comes (reading one to its end first can hang
        # when the other fills its window), until the server's end of file.
        while True:
            if context.cancelled.is_set():
                raise _Cancelled
            while channel.recv_ready():
                out.append(channel.recv(_CHUNK))
            while channel.recv_stderr_ready():
                err.append(channel.recv_stderr(_CHUNK))
            if channel.eof_received or channel.closed:
                if not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                continue
            select.select([channel], [], [], _POLL)
        while not channel.exit_status_ready():
            if context.cancelled.is_set():
                raise _Cancelled
            channel.status_event.wait(_POLL)
        return CommandResult(
            exit_code=channel.recv_exit_status(),
            stdout=b"".join(out).decode("utf-8", errors="replace"),
            stderr=b"".join(err).decode("utf-8", errors="replace"),
        )
    finally:
        channel.close()


def _timeout() -> float:
    try:
        return float(os.environ.get("MELTEMI_SSH_TIMEOUT", "") or DEFAULT_TIMEOUT)
    except ValueError:
        return DEFAULT_TIMEOUT


def _explain(error: BaseException | None) -> str:
    if error is None:
        return "unknown error"
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
