"""``meltemi execution watch`` in a real terminal (a pseudo-terminal from the pty module).

A parent runs four sub-workflows with-items; two of them wait on an asynchronous
action, so the execution stays RUNNING while the test reads the screen: it must show
the progress of the items and the running sub-workflows as subtrees. Then the test
completes the waiting actions through the API, and the screen must show the end.
``execution start --watch`` of a run that fails must draw the failed item's subtree,
end with the explanation and exit 1.

Also how output follows the terminal: states in colour on a terminal and plain on a
pipe, tables wrapped to the width.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from tests.fixtures.server import ServerProcess

WORKFLOWS = """\
version: '2.0'
watch_parent:
  tasks:
    fan:
      with-items: x in [1, 2, 3, 4]
      workflow: watch_child
      input:
        x: <% $.x %>
watch_child:
  input: [x]
  tasks:
    step:
      action: <% switch($.x <= 2 => 'std.echo', true => 'std.async_noop') %>
      input: <% switch($.x <= 2 => dict(output => $.x), true => dict()) %>
"""
FAILING = """\
version: '2.0'
watch_fleet:
  tasks:
    deploy_hosts:
      with-items: host in <% range(10) %>
      concurrency: 4
      workflow: watch_deploy_one
      input:
        host: <% $.host %>
watch_deploy_one:
  input: [host]
  tasks:
    check:
      action: std.noop
      on-success:
        - install: <% $.host = 7 %>
    install:
      action: std.fail error_data="disk full on host <% $.host %>"
      retry:
        count: 2
        delay: 0
"""
ESCAPES = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[()][A-Z0-9]|[=>])")
DEADLINE = 90.0


class Terminal:
    """A program on a pseudo-terminal of 150x50; collects what it draws."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 150, 0, 0))
        self.process = subprocess.Popen(
            args, stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
        )
        os.close(slave)
        self._master = master
        self._raw = bytearray()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # the program ended and closed the terminal
                return
            if not chunk:
                return
            with self._lock:
                self._raw += chunk

    @property
    def raw(self) -> str:
        with self._lock:
            return self._raw.decode(errors="replace")

    @property
    def text(self) -> str:
        """What was drawn, without the escape sequences."""
        return ESCAPES.sub("", self.raw)

    def wait_for(self, *needles: str) -> None:
        deadline = time.monotonic() + DEADLINE
        while not all(n in self.text for n in needles):
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail(f"the screen never showed {needles}; it showed:\n{self.text}")
            time.sleep(0.05)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=DEADLINE)
        self._reader.join(timeout=DEADLINE)
        os.close(self._master)


@contextmanager
def terminal(*args: str, url: str) -> Iterator[Terminal]:
    script = shutil.which("meltemi", path=str(Path(sys.executable).parent))
    assert script, "the meltemi command is not installed: pip install -e ."
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    env.update(MELTEMI_URL=url, TERM="xterm-256color")
    screen = Terminal([script, *args], env)
    try:
        yield screen
    finally:
        screen.close()


def waiting_runs(v2: httpx.Client) -> list[str]:
    query = {"name": "std.async_noop", "state": "RUNNING", "workflow_name": "watch_child"}
    runs = v2.get("/action_executions", params=query).json()["action_executions"]
    return [str(r["id"]) for r in runs]


def test_watch_draws_progress_and_the_end(module_server: ServerProcess, v2: httpx.Client) -> None:
    created = v2.post("/workflows", content=WORKFLOWS, headers={"Content-Type": "text/plain"})
    assert created.status_code == 201, created.text
    started = v2.post("/executions", json={"workflow_name": "watch_parent"})
    execution_id = started.json()["id"]

    with terminal("execution", "watch", execution_id[:8], url=module_server.base_url) as screen:
        screen.wait_for("watch_parent", "fan", "2/4 done, 2 running", "watch_child", "step")
        assert "\x1b[" in screen.raw  # drawn in place, with colours
        deadline = time.monotonic() + DEADLINE
        while len(runs := waiting_runs(v2)) < 2:
            assert time.monotonic() < deadline, "the two waiting actions never started"
            time.sleep(0.05)
        for run_id in runs:
            done = v2.put(f"/action_executions/{run_id}", json={"state": "SUCCESS", "output": 1})
            assert done.status_code == 200, done.text
        screen.wait_for("4/4 done", "ended in SUCCESS")
        assert screen.process.wait(timeout=DEADLINE) == 0
    assert "output:" in screen.text


def test_start_watch_of_a_failure_explains_it_and_exits_1(
    module_server: ServerProcess, v2: httpx.Client
) -> None:
    created = v2.post("/workflows", content=FAILING, headers={"Content-Type": "text/plain"})
    assert created.status_code == 201, created.text

    with terminal(
        "execution", "start", "watch_fleet", "--watch", url=module_server.base_url
    ) as screen:
        assert screen.process.wait(timeout=DEADLINE) == 1
        screen.wait_for("ended in ERROR")
    shown = screen.text
    assert "10/10 done, 1 failed" in shown
    assert "watch_deploy_one  ERROR" in shown
    assert "install  ERROR" in shown
    assert "retry 2" in shown
    assert "item 7 of 10 failed first" in shown
    assert "retry: 2 of 2 retries used" in shown
    assert "Traceback" not in shown


def test_states_in_colour_on_a_terminal_plain_on_a_pipe(
    module_server: ServerProcess, v2: httpx.Client
) -> None:
    started = v2.post("/executions", json={"workflow_name": "watch_child", "input": {"x": 1}})
    execution_id = started.json()["id"]
    with terminal("execution", "list", "-w", "watch_child", url=module_server.base_url) as screen:
        assert screen.process.wait(timeout=DEADLINE) == 0
        screen.wait_for(execution_id[:8])
    # SUCCESS in green (or RUNNING in cyan, if the list came first)
    assert re.search(r"\x1b\[[0-9;]*3[26]m(SUCCESS|RUNNING)", screen.raw), screen.raw

    piped = run_piped("execution", "list", "-w", "watch_child", url=module_server.base_url)
    assert execution_id[:8] in piped
    assert "\x1b" not in piped


def test_tables_wrap_to_the_width(module_server: ServerProcess, v2: httpx.Client) -> None:
    words = " ".join(f"word{n}" for n in range(12))
    body = {"workflow_name": "watch_child", "input": {"x": 1}, "description": words}
    execution_id = v2.post("/executions", json=body).json()["id"]
    finished = {"SUCCESS", "ERROR", "CANCELLED"}
    deadline = time.monotonic() + DEADLINE
    while v2.get(f"/executions/{execution_id}").json()["state"] not in finished:
        assert time.monotonic() < deadline, "the execution never finished"
        time.sleep(0.05)

    for width in (80, 160):
        shown = run_piped(
            "execution", "list", "-w", "watch_child", url=module_server.base_url, columns=width
        )
        lines = shown.splitlines()
        assert max(len(line) for line in lines) <= width
        assert lines[0].split() == ["ID", "WORKFLOW", "STATE", "STARTED", "DURATION", "INFO"]
        row = next(i for i, line in enumerate(lines) if line.startswith(execution_id[:8]))
        assert lines[row].split()[1:3] == ["watch_child", "SUCCESS"]
        # The INFO cell wraps onto the next lines, in its column; the others do not.
        column = lines[0].index("INFO")
        span = [lines[row]]
        for line in lines[row + 1 :]:
            if line[:column].strip():  # the next row
                break
            span.append(line)
        assert [w for line in span for w in line[column:].split()] == words.split()
        assert (len(span) > 1) == (width == 80)


def run_piped(*args: str, url: str, columns: int | None = None) -> str:
    script = shutil.which("meltemi", path=str(Path(sys.executable).parent))
    assert script, "the meltemi command is not installed: pip install -e ."
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "COLUMNS")}
    env.update(MELTEMI_URL=url, TERM="xterm-256color")
    if columns is not None:
        env["COLUMNS"] = str(columns)
    done = subprocess.run(
        [script, *args], capture_output=True, text=True, env=env, timeout=DEADLINE, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
