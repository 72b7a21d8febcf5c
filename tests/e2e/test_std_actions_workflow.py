"""One workflow that uses every std action, run to its end by ``meltemi run``.

The servers it talks to are real and on loopback (tests/integration/actions/servers.py):
an HTTP server, an SMTP server (aiosmtpd) and two OpenSSH servers, the second reached
through the first as a gateway. Their addresses and the SSH key go in with --input.
``meltemi run`` has no API, so the asynchronous actions (std.async_noop,
std.mistral_http) end by their task's timeout, handled with on-error.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.paths import ROOT
from tests.integration.actions import servers

WORKFLOW = """
version: '2.0'
everything:
  input: [http, smtp, ssh_gateway, ssh_inner, ssh_user, ssh_key, ssh_key_file]
  tasks:
    start:
      action: std.echo output="started"
      publish: {echoed: <% task().result %>}
      on-success:
        - nothing
        - nap
        - sized
        - fetch
        - mail
        - remote
        - remote_via_gateway
        - fails
        - waits_forever
        - calls_back
    nothing:
      action: std.noop
      publish: {noop: <% task().result %>}
    nap:
      action: std.sleep seconds=0
    sized:
      action: std.test_dict size=2 key_prefix="k" val="v"
      publish: {dict: <% task().result %>}
    fetch:
      action: std.http url="<% $.http %>/json"
      publish:
        http_status: <% task().result.status %>
        http_content: <% task().result.content %>
      on-success: [compute, compute_again]
    compute:
      action: std.javascript
      input:
        context: <% $.http_content %>
        script: "return $.items.map(function (x) { return x * 10; });"
      publish: {javascript: <% task().result %>}
    compute_again:
      action: std.js
      input:
        context: {who: <% $.http_content.hello %>}
        script: "return 'hello, ' + $.who;"
      publish: {js: <% task().result %>}
    mail:
      action: std.email
      input:
        from_addr: meltemi@example.org
        to_addrs: [ops@example.org]
        smtp_server: <% $.smtp %>
        subject: "meltemi run: <% $.echoed %>"
        body: "Everything ran."
    remote:
      action: std.ssh
      input:
        cmd: echo ssh-ok
        host: <% $.ssh_gateway %>
        username: <% $.ssh_user %>
        private_key: <% $.ssh_key %>
      publish: {ssh: <% task().result %>}
    remote_via_gateway:
      action: std.ssh_proxied
      input:
        cmd: echo proxied-ok
        host: <% $.ssh_inner %>
        username: <% $.ssh_user %>
        private_key_filename: <% $.ssh_key_file %>
        gateway_host: <% $.ssh_gateway %>
      publish: {ssh_proxied: <% task().result %>}
    fails:
      action: std.fail error_data="as planned"
      publish-on-error: {failed_with: <% task().result %>}
      on-error: after_failure
    after_failure:
      action: std.echo output="recovered"
      publish: {recovered: <% task().result %>}
    waits_forever:
      action: std.async_noop
      timeout: 1
      on-error: after_async
    after_async:
      action: std.noop
    calls_back:
      action: std.mistral_http url="<% $.http %>/echo" method="POST" body="ping"
      timeout: 2
      on-error: after_callback
    after_callback:
      action: std.noop
  output:
    echoed: <% $.echoed %>
    noop: <% $.noop %>
    dict: <% $.dict %>
    http_status: <% $.http_status %>
    javascript: <% $.javascript %>
    js: <% $.js %>
    ssh: <% $.ssh %>
    ssh_proxied: <% $.ssh_proxied %>
    failed_with: <% $.failed_with %>
    recovered: <% $.recovered %>
"""


@dataclass
class World:
    http: servers.HttpServer
    smtp: servers.SmtpServer
    gateway: servers.Sshd
    inner: servers.Sshd


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    problem = servers.sshd_problem()
    if problem is not None:
        servers.unavailable(problem)
    key = tmp_path / "id_ed25519"
    servers.make_key(key)
    with ExitStack() as stack:
        yield World(
            http=stack.enter_context(servers.http_server()),
            smtp=stack.enter_context(servers.smtp_server(tmp_path / "smtp")),
            gateway=stack.enter_context(
                servers.sshd(tmp_path / "gateway", key, password_auth=False)
            ),
            inner=stack.enter_context(servers.sshd(tmp_path / "inner", key, password_auth=False)),
        )


def test_every_std_action_in_one_workflow(world: World, tmp_path: Path) -> None:
    path = tmp_path / "everything.yaml"
    path.write_text(WORKFLOW)
    given = {
        "http": world.http.url,
        "smtp": world.smtp.address,
        "ssh_gateway": world.gateway.address,
        "ssh_inner": world.inner.address,
        "ssh_user": world.gateway.user,
        "ssh_key": world.gateway.key_text,
        "ssh_key_file": str(world.gateway.key_file),
    }
    command = [sys.executable, "-m", "meltemi", "run", str(path), "--json", "--timeout", "240"]
    result = subprocess.run(
        [*command, "--input", json.dumps(given)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env=dict(os.environ),
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["state"] == "SUCCESS"
    assert report["output"] == {
        "echoed": "started",
        "noop": None,
        "dict": {"k0": "v", "k1": "v"},
        "http_status": 200,
        "javascript": [10, 20, 30],
        "js": "hello, world",
        "ssh": "ssh-ok\n",
        "ssh_proxied": "proxied-ok\n",
        "failed_with": "as planned",
        "recovered": "recovered",
    }
    states = {task["name"]: task["state"] for task in report["tasks"]}
    assert states["fails"] == "ERROR"
    assert states["waits_forever"] == "ERROR"  # ended by its timeout
    assert states["calls_back"] == "ERROR"  # no API here to send the result to
    assert {states[n] for n in ("after_failure", "after_async", "after_callback")} == {"SUCCESS"}

    [mail] = world.smtp.received
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["Subject"] == "meltemi run: started"
    assert mail.recipients == ["ops@example.org"]

    [callback] = world.http.recorded("/echo")
    assert callback.method == "POST"
    assert callback.body == b"ping"
    assert callback.headers["Mistral-Workflow-Name"] == "everything"
    assert callback.headers["Mistral-Workflow-Execution-Id"] == report["id"]
    assert "Mistral-Callback-URL" not in callback.headers
