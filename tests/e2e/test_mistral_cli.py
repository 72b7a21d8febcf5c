"""The ``mistral`` command line (python-mistralclient) against a ``meltemi server``.

Each test runs the CLI as people do, in a subprocess with ``OS_MISTRAL_URL`` and no
authentication, and reads what it prints: tables, ``-f json``, ``-f value``, the exit
code and the error line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.server import ServerProcess

WORKFLOWS = """\
version: '2.0'
greet:
  description: greets someone
  input:
    - name
  tasks:
    hello:
      action: std.echo output="Hello, <% $.name %> from <% env().place %>"
      publish:
        greeting: <% task().result %>
  output:
    greeting: <% $.greeting %>
gate:
  tasks:
    wait:
      action: std.async_noop
      on-success: after
    after:
      action: std.echo output="went on"
      publish: {after: <% task().result %>}
  output:
    after: <% $.after %>
"""

ITEMS = """\
version: '2.0'
items:
  input:
    - xs: [1, 2, 3]
  tasks:
    each:
      with-items: x in <% $.xs %>
      # Item 2 fails until the env says 'fix'.
      action: >-
        <% switch($.x = 2 and not env().get(fix, false) => 'std.fail', true => 'std.echo') %>
      input: "<% switch($.x = 2 and not env().get(fix, false) =>
        dict(error_data => 'item 2 failed'), true => dict(output => $.x * 10)) %>"
      publish:
        total: <% task().result.sum() %>
  output:
    total: <% $.total %>
"""

BAD = """\
version: '2.0'
bad:
  tasks:
    first:
      action: std.echo output="x"
      on-success: missing_task
"""


@dataclass(frozen=True, slots=True)
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@dataclass(frozen=True, slots=True)
class Cli:
    url: str
    cwd: Path

    def __call__(self, *args: str, ok: bool = True) -> Result:
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env["OS_MISTRAL_URL"] = f"{self.url}/v2"
        done = subprocess.run(
            [sys.executable, "-m", "mistralclient.shell", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=self.cwd,
            timeout=120,
        )
        result = Result(done.returncode, done.stdout, done.stderr)
        if ok and result.code != 0:
            pytest.fail(f"mistral {' '.join(args)} exited {result.code}: {result.err}")
        return result

    def file(self, name: str, text: str) -> str:
        path = self.cwd / name
        path.write_text(text)
        return str(path)


@pytest.fixture(scope="module")
def mistral(module_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Cli:
    return Cli(module_server.base_url, tmp_path_factory.mktemp("cli"))


def table(text: str) -> list[dict[str, str]]:
    """The rows of a table the CLI printed (one line per row)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    return [
        dict(zip(header, (cell.strip() for cell in line.strip("|").split("|")), strict=True))
        for line in lines[1:]
    ]


def fields(text: str) -> dict[str, str]:
    """A ``Field | Value`` table as a dict (continuation lines joined)."""
    result: dict[str, str] = {}
    last = ""
    for row in table(text):
        if row["Field"]:
            last = row["Field"]
            result[last] = row["Value"]
        else:
            result[last] += "\n" + row["Value"]
    return result


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + 90
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}; last value: {value!r}")
        time.sleep(0.1)


def state_of(mistral: Cli, execution_id: str) -> str:
    return mistral("execution-get", execution_id, "-f", "value", "-c", "State").out.strip()


def finished(mistral: Cli, execution_id: str) -> str:
    """Waits (polling the API directly: the CLI takes most of a second to start) until
    the execution is over, then reads its state with the CLI."""
    wait_for(
        lambda: httpx.get(f"{mistral.url}/v2/executions/{execution_id}").json()["state"],
        lambda s: s in ("SUCCESS", "ERROR", "CANCELLED"),
        f"execution {execution_id} to finish",
    )
    return state_of(mistral, execution_id)


@pytest.fixture(scope="module")
def registered(mistral: Cli) -> list[dict[str, str]]:
    return table(mistral("workflow-create", mistral.file("wf.yaml", WORKFLOWS)).out)


def test_workflow_commands(mistral: Cli, registered: list[dict[str, str]]) -> None:
    assert sorted(r["Name"] for r in registered) == ["gate", "greet"]
    greet = next(r for r in registered if r["Name"] == "greet")
    assert greet["Input"] == "name"
    assert greet["Scope"] == "private"
    assert greet["Project ID"] == "<default-project>"

    listed = table(mistral("workflow-list").out)
    assert {"gate", "greet"} <= {r["Name"] for r in listed}

    shown = fields(mistral("workflow-get", "greet").out)
    assert shown["ID"] == greet["ID"]
    assert shown["Name"] == "greet"
    assert mistral("workflow-get", greet["ID"], "-f", "json").json()["Name"] == "greet"
    definition = mistral("workflow-get-definition", "greet").out
    assert "greets someone" in definition

    changed = WORKFLOWS.replace("greets someone", "greets anyone")
    (updated,) = [
        r
        for r in mistral("workflow-update", mistral.file("wf2.yaml", changed), "-f", "json").json()
        if r["Name"] == "greet"
    ]
    assert updated["ID"] == greet["ID"]
    assert updated["Updated at"] not in (None, "", "None")
    assert "greets anyone" in mistral("workflow-get-definition", "greet").out

    mistral(
        "workflow-create",
        mistral.file(
            "doomed.yaml", "version: '2.0'\ndoomed:\n  tasks:\n    t: {action: std.noop}\n"
        ),
    )
    deleted = mistral("workflow-delete", "doomed")
    assert "Request to delete workflow doomed has been accepted." in deleted.out
    missing = mistral("workflow-get", "doomed", ok=False)
    assert missing.code == 1
    assert "doomed" in missing.err


def test_workflow_validate_shows_the_line(mistral: Cli) -> None:
    path = mistral.file("bad.yaml", BAD)
    shown = fields(mistral("workflow-validate", path).out)
    assert shown["Valid"] == "False"
    assert ":6:" in shown["Error"]  # line 6: on-success: missing_task
    assert "missing_task" in shown["Error"]
    assert fields(mistral("workflow-validate", mistral.file("ok.yaml", WORKFLOWS)).out) == {
        "Valid": "True",
        "Error": "None",
    }
    refused = mistral("workflow-create", path, ok=False)
    assert refused.code == 1
    assert ":6:" in refused.err
    assert "missing_task" in refused.err


def test_execution_commands(mistral: Cli, registered: list[dict[str, str]]) -> None:
    created = mistral(
        "execution-create",
        "greet",
        '{"name": "CLI"}',
        '{"env": {"place": "the shell"}}',
        "-d",
        "from the CLI",
        "-f",
        "json",
    ).json()
    execution_id = created["ID"]
    assert created["Workflow name"] == "greet"
    assert created["Description"] == "from the CLI"
    assert finished(mistral, execution_id) == "SUCCESS"

    shown = fields(mistral("execution-get", execution_id).out)
    assert shown["State"] == "SUCCESS"
    assert shown["Root Execution ID"] == "<none>"
    assert shown["Duration"].count(":") == 2  # the CLI parsed both timestamps

    assert json.loads(mistral("execution-get-input", execution_id).out) == {"name": "CLI"}
    assert json.loads(mistral("execution-get-output", execution_id).out) == {
        "greeting": "Hello, CLI from the shell"
    }
    listed = table(mistral("execution-list").out)
    assert execution_id in {r["ID"] for r in listed}
    filtered = mistral(
        "execution-list", "--filter", "workflow_name=greet", "-f", "json", "--limit", "5"
    ).json()
    assert [r["ID"] for r in filtered] == [execution_id]

    described = mistral(
        "execution-update", execution_id, "-d", "described", "-f", "value", "-c", "Description"
    )
    assert described.out.strip() == "described"

    (task,) = mistral("task-list", execution_id, "-f", "json").json()
    assert task["Name"] == "hello"
    assert task["State"] == "SUCCESS"
    task_shown = fields(mistral("task-get", task["ID"]).out)
    assert task_shown["Workflow Execution ID"] == execution_id
    assert json.loads(mistral("task-get-result", task["ID"]).out) == "Hello, CLI from the shell"
    assert json.loads(mistral("task-get-published", task["ID"]).out) == {
        "greeting": "Hello, CLI from the shell"
    }

    (action,) = table(mistral("action-execution-list", task["ID"]).out)
    assert action["Name"] == "std.echo"
    assert action["State"] == "SUCCESS"
    assert action["Task name"] == "hello"
    action_shown = mistral("action-execution-get", action["ID"], "-f", "json").json()
    assert action_shown["Accepted"] is True
    assert json.loads(mistral("action-execution-get-output", action["ID"]).out) == {
        "result": "Hello, CLI from the shell"
    }
    assert json.loads(mistral("action-execution-get-input", action["ID"]).out) == {
        "output": "Hello, CLI from the shell"
    }
    everything = mistral("action-execution-list", "-f", "value", "-c", "ID").out.split()
    assert action["ID"] in everything


def test_pause_resume_cancel(mistral: Cli, registered: list[dict[str, str]]) -> None:
    execution_id = mistral("execution-create", "gate", "-f", "value", "-c", "ID").out.strip()
    (wait,) = wait_for(
        lambda: mistral("task-list", execution_id, "-f", "json").json(),
        lambda tasks: len(tasks) == 1 and tasks[0]["State"] == "RUNNING",
        "the task 'wait' to run",
    )
    paused = mistral("execution-update", execution_id, "-s", "PAUSED", "-f", "json").json()
    assert paused["State"] == "PAUSED"

    (action_id,) = mistral(
        "action-execution-list", wait["ID"], "-f", "value", "-c", "ID"
    ).out.split()
    completed = mistral(
        "action-execution-update", action_id, "--state", "SUCCESS", "--output", '{"ok": 1}'
    )
    assert fields(completed.out)["State"] == "SUCCESS"
    wait_for(
        lambda: mistral("task-get", wait["ID"], "-f", "value", "-c", "State").out.strip(),
        lambda state: state == "SUCCESS",
        "the task 'wait' to succeed",
    )
    assert [t["Name"] for t in mistral("task-list", execution_id, "-f", "json").json()] == ["wait"]
    assert state_of(mistral, execution_id) == "PAUSED"

    mistral("execution-update", execution_id, "-s", "RUNNING")
    assert finished(mistral, execution_id) == "SUCCESS"
    assert json.loads(mistral("execution-get-output", execution_id).out) == {"after": "went on"}

    other = mistral("execution-create", "gate", "-f", "value", "-c", "ID").out.strip()
    cancelled = mistral("execution-update", other, "-s", "CANCELLED", "-f", "json").json()
    assert cancelled["State"] == "CANCELLED"
    assert finished(mistral, other) == "CANCELLED"


@pytest.mark.parametrize("resume", [True, False], ids=["resume", "reset"])
def test_task_rerun(mistral: Cli, resume: bool) -> None:
    definition = ITEMS.replace("\nitems:", f"\nitems_{resume}:")
    mistral("workflow-create", mistral.file("items.yaml", definition))
    execution_id = mistral(
        "execution-create", f"items_{resume}", "-f", "value", "-c", "ID"
    ).out.strip()
    assert finished(mistral, execution_id) == "ERROR"
    shown = mistral("execution-get", execution_id, "-f", "json").json()
    assert "item 2 failed" in shown["State info"]
    (task,) = mistral("task-list", execution_id, "-f", "json").json()
    assert task["State"] == "ERROR"

    args = ["task-rerun", task["ID"], "-e", '{"fix": true}', "-f", "json"]
    rerun = mistral(*args, *(["--resume"] if resume else [])).json()
    assert rerun["ID"] == task["ID"]
    assert finished(mistral, execution_id) == "SUCCESS"
    assert json.loads(mistral("task-get-result", task["ID"]).out) == [10, 20, 30]
    assert json.loads(mistral("execution-get-output", execution_id).out) == {"total": 60}
    runs = mistral("action-execution-list", task["ID"], "-f", "json").json()
    # --resume reruns only the failed item; without it every item runs again.
    assert len(runs) == (4 if resume else 6)
    assert sum(1 for r in runs if r["Accepted"]) == 3


def test_rerun_of_a_task_that_succeeded_is_refused(
    mistral: Cli, registered: list[dict[str, str]]
) -> None:
    execution_id = mistral(
        "execution-create",
        "greet",
        '{"name": "x"}',
        '{"env": {"place": "y"}}',
        "-f",
        "value",
        "-c",
        "ID",
    ).out.strip()
    assert finished(mistral, execution_id) == "SUCCESS"
    task_id = mistral("task-list", execution_id, "-f", "value", "-c", "ID").out.strip()
    refused = mistral("task-rerun", task_id, ok=False)
    assert refused.code == 1
    assert "ERROR" in refused.err


def test_run_action(mistral: Cli) -> None:
    synced = mistral("run-action", "std.echo", '{"output": "hi"}')
    assert synced.out.strip() == '{"result": "hi"}'  # printed as Mistral prints it

    saved = fields(mistral("run-action", "std.echo", '{"output": "kept"}', "--save-result").out)
    assert saved["Name"] == "std.echo"
    assert saved["State"] in ("RUNNING", "SUCCESS")
    wait_for(
        lambda: mistral("action-execution-get", saved["ID"], "-f", "value", "-c", "State").out,
        lambda state: state.strip() == "SUCCESS",
        "the saved run to succeed",
    )
    assert json.loads(mistral("action-execution-get-output", saved["ID"]).out) == {"result": "kept"}

    both = mistral("run-action", "std.echo", '{"output": "now"}', "--save-result", "--run-sync")
    assert json.loads(both.out) == {"result": "now"}

    wrong = mistral("run-action", "std.echo", '{"nope": 1}', ok=False)
    assert wrong.code == 1
    assert "output" in wrong.err


def test_environment_commands(mistral: Cli, registered: list[dict[str, str]]) -> None:
    path = mistral.file(
        "env.yaml", "name: office\ndescription: at work\nvariables:\n  place: the office\n"
    )
    created = fields(mistral("environment-create", path).out)
    assert created["Name"] == "office"
    assert created["Description"] == "at work"
    assert json.loads(created["Variables"]) == {"place": "the office"}

    shown = mistral("environment-get", "office", "-f", "json").json()
    assert json.loads(shown["Variables"]) == {"place": "the office"}
    assert [r["Name"] for r in table(mistral("environment-list").out)] == ["office"]

    # An execution may name a stored environment as its env.
    execution_id = mistral(
        "execution-create",
        "greet",
        '{"name": "env"}',
        '{"env": "office"}',
        "-f",
        "value",
        "-c",
        "ID",
    ).out.strip()
    assert finished(mistral, execution_id) == "SUCCESS"
    assert json.loads(mistral("execution-get-output", execution_id).out) == {
        "greeting": "Hello, env from the office"
    }

    mistral("environment-delete", "office")
    assert mistral("environment-get", "office", ok=False).code == 1


WORKBOOK = """\
version: '2.0'
name: shelf
workflows:
  main:
    tasks:
      call:
        action: greet
        publish: {got: <% task().result %>}
    output:
      got: <% $.got %>
actions:
  greet:
    base: std.echo
    base-input:
      output: hi from the shelf
"""


def test_workbook_and_action_commands(mistral: Cli) -> None:
    created = fields(mistral("workbook-create", mistral.file("wb.yaml", WORKBOOK)).out)
    assert created["Name"] == "shelf"
    assert created["Scope"] == "private"
    assert [r["Name"] for r in table(mistral("workbook-list").out)] == ["shelf"]
    assert "hi from the shelf" in mistral("workbook-get-definition", "shelf").out
    names = mistral("workflow-list", "-f", "value", "-c", "Name").out.split()
    assert "shelf.main" in names

    action = fields(mistral("action-get", "shelf.greet").out)
    assert action["Name"] == "shelf.greet"
    echo = mistral("action-get", "std.echo", "-f", "json").json()
    assert echo["Input"] == "output, delay=0"

    execution_id = mistral("execution-create", "shelf.main", "-f", "value", "-c", "ID").out.strip()
    assert finished(mistral, execution_id) == "SUCCESS"
    assert json.loads(mistral("execution-get-output", execution_id).out) == {
        "got": "hi from the shelf"
    }


def test_cron_trigger_commands(mistral: Cli, registered: list[dict[str, str]]) -> None:
    for _attempt in range(3):  # if the minute turns while asking, ask the next one
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        created = mistral(
            "cron-trigger-create",
            "soon",
            "greet",
            '{"name": "cron"}',
            "--params",
            '{"env": {"place": "the scheduler"}}',
            "--first-time",
            now,
            "--utc",
            "--count",
            "1",
            ok=False,
        )
        if created.code == 0 or "past" not in created.err:
            break
    assert created.code == 0, created.err
    shown = fields(created.out)
    assert shown["Name"] == "soon"
    assert shown["Workflow"] == "greet"
    assert shown["Remaining executions"] == "1"

    def started_by_cron() -> list[dict[str, Any]]:
        executions = httpx.get(
            f"{mistral.url}/v2/executions", params={"workflow_name": "greet"}
        ).json()["executions"]
        return [e for e in executions if "cron_trigger" in e["description"]]

    (fired,) = wait_for(started_by_cron, lambda found: len(found) == 1, "the trigger to fire")
    assert finished(mistral, fired["id"]) == "SUCCESS"
    assert json.loads(mistral("execution-get-output", fired["id"]).out) == {
        "greeting": "Hello, cron from the scheduler"
    }

    mistral("cron-trigger-create", "later", "greet", '{"name": "x"}', "--pattern", "0 0 1 1 *")
    listed = table(mistral("cron-trigger-list").out)
    assert [r["Name"] for r in listed] == ["later"]  # 'soon' fired its one time and went
    assert listed[0]["Pattern"] == "0 0 1 1 *"
    assert fields(mistral("cron-trigger-get", "later").out)["Workflow"] == "greet"
    deleted = mistral("cron-trigger-delete", "later")
    assert "Request to delete cron trigger later has been accepted." in deleted.out
    assert mistral("cron-trigger-get", "later", ok=False).code == 1
