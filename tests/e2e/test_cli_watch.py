"""``meltemi execution watch`` in a real terminal (a pseudo-terminal from the pty module).

A parent runs four sub-workflows with-items; two of them wait on an asynchronous
action, so the execution stays RUNNING while the test reads the screen: it must show
the progress of the items and the running sub-workflows as subtrees. Then the test
completes the waiting actions through the API, and the screen must show the end.
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
