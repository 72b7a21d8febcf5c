"""Real servers on loopback for the std actions: HTTP, SSH (OpenSSH's sshd) and SMTP.

- :func:`http_server`: a threaded ``http.server`` with endpoints for status codes,
  redirects, JSON and text bodies, basic auth, cookies, big bodies, a slow answer
  (released when the server stops) and an echo of what was sent; every request is
  recorded.
- :func:`sshd`: Debian's ``/usr/sbin/sshd`` as a foreground child process, with its
  own host key, configuration and authorized keys in a temporary folder, listening on
  a free loopback port. Key authentication works for the user running the tests.
  Password authentication needs an account with a known password: as root, a system
  user ``meltemi-ssh-test`` is created with a random password (and deleted at the
  end); otherwise password tests skip (fail under CI=true).
- :func:`smtp_server`: aiosmtpd's controller, keeping every message it receives;
  with ``tls=True`` it offers STARTTLS with a self-signed certificate for 127.0.0.1
  and asks for a login.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import os
import secrets
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
PASSWORD_USER = "meltemi-ssh-test"
BASIC_USER, BASIC_PASSWORD = "ann", "s3cret:with:colons"


def in_ci() -> bool:
    return os.environ.get("CI") == "true"


def unavailable(reason: str) -> None:
    """Skips the test, or fails it under CI=true, where every server must run."""
    if in_ci():
        pytest.fail(f"{reason}; under CI=true these tests must run (see scripts/test)")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(condition: Any, *, timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up waiting for {what} after {timeout} s")
        time.sleep(0.02)


# -- HTTP ---------------------------------------------------------------------------------


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class HttpServer:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    slow_started: threading.Event = field(default_factory=threading.Event)

    def recorded(self, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.path.split("?")[0] == path]


class _Handler(BaseHTTPRequestHandler):
    server_version = "MeltemiTest/1.0"
    state: HttpServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json", headers)

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.state.requests.append(
            Recorded(self.command, self.path, dict(self.headers.items()), body)
        )
        segments = [s for s in parts.path.split("/") if s]
        route = segments[0] if segments else ""
        if route == "json":
            self._json(200, {"hello": "world", "items": [1, 2, 3]})
        elif route == "text":
            self._send(200, "plain text, ünïcode".encode(), "text/plain; charset=utf-8")
        elif route == "status":
            code = int(segments[1])
            self._json(code, {"status": code, "why": "asked for"})
        elif route == "redirect":
            left = int(segments[1])
            target = f"/redirect/{left - 1}" if left > 1 else "/json"
            self._send(302, b"", "text/plain", {"Location": target})
        elif route == "basic-auth":
            expected = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
            if self.headers.get("Authorization") == f"Basic {expected}":
                self._json(200, {"authenticated": True})
            else:
                self._json(401, {"authenticated": False}, {"WWW-Authenticate": "Basic"})
        elif route == "cookie":
            self._json(200, {"got": self.headers.get("Cookie")}, {"Set-Cookie": "flavour=oat"})
        elif route == "big":
            self._send(200, b"x" * int(query.get("size", "0")), "application/octet-stream")
        elif route == "undeclared":
            # No Content-Length: the body ends when the connection closes.
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"y" * int(query.get("size", "0")))
            self.close_connection = True
        elif route == "slow":
            self.state.slow_started.set()
            self.state.release.wait(float(query.get("seconds", "60")))
            self._json(200, {"slow": True})
        else:  # echo
            self._json(
                int(query.get("status", "200")),
                {
                    "method": self.command,
                    "path": parts.path,
                    "query": query,
                    "headers": dict(self.headers.items()),
                    "body": body.decode("utf-8", errors="replace"),
                },
            )

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle


@contextmanager
def http_server() -> Iterator[HttpServer]:
    state = HttpServer(url="")
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="test-http", daemon=True
    )
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


# -- SSH ----------------------------------------------------------------------------------


@dataclass
class Sshd:
    port: int
    folder: Path
    process: subprocess.Popen[bytes]
    user: str
    key_file: Path
    key_text: str

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def log(self) -> str:
        path = self.folder / "sshd.log"
        return path.read_text(errors="replace") if path.exists() else ""


def sshd_problem() -> str | None:
    """Why sshd cannot run here, or None."""
    if not SSHD.exists():
        return f"{SSHD} is missing (Debian package openssh-server; scripts/test installs it)"
    if shutil.which(SSH_KEYGEN) is None:
        return "ssh-keygen is missing (Debian package openssh-client)"
    if os.geteuid() == 0:
        try:
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        except OSError as e:
            return f"cannot create sshd's privilege separation folder /run/sshd: {e}"
    return None


def make_key(path: Path, *, passphrase: str = "") -> str:
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", passphrase, "-C", "meltemi-test", "-f", path],
        check=True,
        capture_output=True,
    )
    return path.read_text()


@contextmanager
def sshd(folder: Path, user_key: Path, *, password_auth: bool) -> Iterator[Sshd]:
    """A started sshd accepting ``user_key`` (and passwords when asked)."""
    folder.mkdir(parents=True, exist_ok=True)
    make_key(folder / "host_ed25519")
    authorized = folder / "authorized_keys"
    authorized.write_text(Path(f"{user_key}.pub").read_text())
    authorized.chmod(0o644)
    folder.chmod(0o755)
    port = free_port()
    root = os.geteuid() == 0
    config = folder / "sshd_config"
    config.write_text(
        "\n".join(
            [
                f"Port {port}",
                "ListenAddress 127.0.0.1",
                f"HostKey {folder / 'host_ed25519'}",
                f"PidFile {folder / 'sshd.pid'}",
                f"AuthorizedKeysFile {authorized}",
                "StrictModes no",
                "UsePAM no",
                "PubkeyAuthentication yes",
                f"PasswordAuthentication {'yes' if password_auth else 'no'}",
                "KbdInteractiveAuthentication no",
                f"PermitRootLogin {'yes' if root else 'no'}",
                "AllowTcpForwarding yes",
                "PrintMotd no",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    log = (folder / "sshd.log").open("wb")
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT
    )
    server = Sshd(
        port=port,
        folder=folder,
        process=process,
        user=_current_user(),
        key_file=user_key,
        key_text=user_key.read_text(),
    )
    try:
        _wait_for_banner(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _current_user() -> str:
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def _wait_for_banner(server: Sshd) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"sshd exited with {server.process.returncode}:\n{server.log()}")
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"sshd did not answer on port {server.port}:\n{server.log()}")


@contextmanager
def password_user() -> Iterator[tuple[str, str]]:
    """A local account with a random password (root only), removed at the end."""
    password = secrets.token_urlsafe(18)
    created = False
    if subprocess.run(["id", PASSWORD_USER], capture_output=True, check=False).returncode:
        command = ["useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent"]
        subprocess.run(
            [*command, "--shell", "/bin/sh", PASSWORD_USER],
            check=True,
            capture_output=True,
        )
        created = True
    subprocess.run(
        ["chpasswd"], input=f"{PASSWORD_USER}:{password}".encode(), check=True, capture_output=True
    )
    try:
        yield PASSWORD_USER, password
    finally:
        if created:
            subprocess.run(["userdel", PASSWORD_USER], capture_output=True, check=False)
        else:
            subprocess.run(["passwd", "-l", PASSWORD_USER], capture_output=True, check=False)


# -- SMTP ---------------------------------------------------------------------------------


@dataclass
class Mail:
    sender: str
    recipients: list[str]
    data: bytes
    login: str | None


@dataclass
class SmtpServer:
    address: str
    received: list[Mail] = field(default_factory=list)
    ca_file: Path | None = None
    user: str = ""
    password: str = ""


class _Collector:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        login = session.auth_data if isinstance(session.auth_data, str) else None
        self.server.received.append(
            Mail(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content, login)
        )
        return "250 OK"


@contextmanager
def smtp_server(folder: Path, *, tls: bool = False) -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    port = free_port()
    state = SmtpServer(address=f"127.0.0.1:{port}")
    options: dict[str, Any] = {}
    if tls:
        state.user, state.password = "robot@example.org", secrets.token_urlsafe(12)
        cert, key = self_signed_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        state.ca_file = cert

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and data.login.decode() == state.user
                and data.password.decode() == state.password
            )
            return AuthResult(success=ok, handled=False, auth_data=state.user if ok else None)

        options = {
            "tls_context": context,
            "require_starttls": True,
            "authenticator": authenticate,
            "auth_required": True,
            "auth_require_tls": True,
        }
    controller = Controller(
        _Collector(state), hostname="127.0.0.1", port=port, ready_timeout=30, **options
    )
    controller.start()
    try:
        yield state
    finally:
        controller.stop()


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, and its key, as PEM files."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
