"""``meltemi execution|task ...`` against a ``meltemi server``: start, list, get, output,
pause, resume, cancel, rerun, delete, watch (on a pipe), explain; and how errors look.

The three-level failure: a parent whose with-items runs a sub-workflow whose task
fails in item 7 after 2 retries; ``explain`` names item 7, the task, the action, the
error, the retries, and masks the password in the action's input.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import yaml

from tests.fixtures.cli import Meltemi
from tests.fixtures.http import eventually
from tests.fixtures.server import ServerProcess, free_port

WORKFLOWS = """\
version: '2.0'
cli_hello:
  input: [name]
  tasks:
    hello:
      action: std.echo output="Hello, <% $.name %>"
      publish: {greeting: <% task().result %>}
  output:
    greeting: <% $.greeting %>
cli_gate:
  tasks:
    wait:
      action: std.async_noop
      on-success: after
    after:
      action: std.echo output="went on"
cli_items:
  tasks:
    each:
      with-items: x in [1, 2, 3]
      action: <% switch($.x = 2 and not env().get(fix, false) => 'std.fail', true => 'std.echo') %>
      input: "<% switch($.x = 2 and not env().get(fix, false) =>
        dict(error_data => 'item 2 failed'), true => dict(output => $.x * 10)) %>"
      publish:
        total: <% task().result.sum() %>
  output:
    total: <% $.total %>
"""

FLEET = """\
version: '2.0'
name: fleet
actions:
  install_package:
    base: std.fail
    base-input:
      error_data: <% "disk full on host " + str($.host) %>
    input:
      - host
      - password
workflows:
  deploy_all:
    tasks:
      deploy_hosts:
        with-items: host in <% range(10) %>
        concurrency: 4
        workflow: deploy_one
        input:
          host: <% $.host %>
  deploy_one:
    input: [host]
    tasks:
      prepare:
        action: std.noop
        on-success:
          - install: <% $.host = 7 %>
      install:
        action: install_package
        input:
          host: <% $.host %>
          password: hunter2
        retry:
          count: 2
          delay: 0
"""
FINISHED = ("SUCCESS", "ERROR", "CANCELLED")


@pytest.fixture(scope="module")
def meltemi(module_server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> Meltemi:
    cli = Meltemi(module_server.base_url, tmp_path_factory.mktemp("cli"))
    cli("workflow", "create", cli.file("wf.yaml", WORKFLOWS))
    cli("workbook", "create", cli.file("fleet.yaml", FLEET))
    return cli


def finished(v2: httpx.Client, execution_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        found: dict[str, Any] = v2.get(f"/executions/{execution_id}").json()
        return found if found["state"] in FINISHED else None

    return eventually(check)


def start(meltemi: Meltemi, *args: str) -> str:
    started = meltemi("execution", "start", *args, "-o", "json").json()
    return str(started["id"])


def test_start_list_get_output(meltemi: Meltemi, v2: httpx.Client) -> None:
    plain = meltemi("execution", "start", "cli_hello", "--input", '{"name": "Ann"}').out
    assert plain.startswith("started cli_hello execution ")
    assert "follow it with: meltemi execution watch " in plain
    execution_id = plain.split()[3]
    assert finished(v2, execution_id)["state"] == "SUCCESS"

    table = [line.split() for line in meltemi("execution", "list").out.splitlines()]
    assert table[0][:5] == ["ID", "WORKFLOW", "STATE", "STARTED", "DURATION"]
    row = next(r for r in table if r[0] == execution_id[:8])
    assert row[1:3] == ["cli_hello", "SUCCESS"]
    only = meltemi("execution", "list", "-w", "cli_hello", "-s", "success", "-o", "json").json()
    assert [e["id"] for e in only] == [execution_id]

    for given in (execution_id, execution_id[:8], "cli_hello"):  # id, prefix, workflow name
        shown = meltemi("execution", "get", given, "-o", "json").json()
        assert shown["id"] == execution_id
        assert shown["input"] == {"name": "Ann"}
        assert [(t["name"], t["state"]) for t in shown["tasks"]] == [("hello", "SUCCESS")]
    details = meltemi("execution", "get", execution_id[:8]).out
    assert "Hello, Ann" in details
    assert "hello" in details
    assert json.loads(meltemi("execution", "output", execution_id[:8]).out) == {
        "greeting": "Hello, Ann"
    }
    assert yaml.safe_load(meltemi("execution", "output", execution_id, "-o", "yaml").out) == {
        "greeting": "Hello, Ann"
    }

    newest = yaml.safe_load(meltemi("execution", "list", "--limit", "1", "-o", "yaml").out)
    assert [e["id"] for e in newest] == [execution_id]

    tasks = meltemi("task", "list", "--execution", execution_id[:8], "-o", "json").json()
    assert [t["name"] for t in tasks] == ["hello"]
    task_table = [
        line.split() for line in meltemi("task", "list", "-x", execution_id).out.split("\n")
    ]
    assert task_table[0] == ["ID", "TASK", "WORKFLOW", "STATE", "STARTED", "DURATION", "INFO"]
    assert task_table[2][:5] == [
        tasks[0]["id"][:8],
        "hello",
        "cli_hello",
        execution_id[:8],
        "SUCCESS",
    ]
    task = meltemi("task", "get", "hello", "-x", execution_id, "-o", "json").json()
    assert task["result"] == "Hello, Ann"
    assert task["published"] == {"greeting": "Hello, Ann"}
    by_prefix = dict(
        line.split(None, 1) for line in meltemi("task", "get", task["id"][:10]).out.splitlines()
    )
    assert by_prefix["id"].strip() == task["id"]
    assert by_prefix["state"].strip() == "SUCCESS"
    assert by_prefix["published"].strip() == '{"greeting": "Hello, Ann"}'
    assert by_prefix["result"].strip() == "Hello, Ann"
    as_yaml = yaml.safe_load(meltemi("task", "get", task["id"], "-o", "yaml").out)
    assert as_yaml["result"] == "Hello, Ann"
    everywhere = meltemi("task", "list", "-s", "success", "-o", "json").json()
    assert task["id"] in {t["id"] for t in everywhere}
    assert {t["state"] for t in everywhere} == {"SUCCESS"}


def test_start_by_workflow_id_or_prefix(meltemi: Meltemi, v2: httpx.Client) -> None:
    [workflow] = meltemi("workflow", "list", "-f", "name=cli_hello", "-o", "json").json()
    for given in (workflow["id"], workflow["id"][:7]):
        started = meltemi("execution", "start", given, "-i", '{"name": "Id"}', "-o", "json")
        assert started.json()["workflow_name"] == "cli_hello"
        assert finished(v2, started.json()["id"])["state"] == "SUCCESS"


def test_start_with_watch_on_a_pipe(meltemi: Meltemi) -> None:
    watched = meltemi("execution", "start", "cli_hello", "-i", '{"name": "Bo"}', "--watch")
    assert "cli_hello" in watched.out
    assert "hello  SUCCESS" in watched.out
    assert "ended in SUCCESS" in watched.out
    assert '"greeting": "Hello, Bo"' in watched.out
    as_json = meltemi("execution", "start", "cli_hello", "-i", '{"name": "Cy"}', "-W", "-o", "json")
    assert as_json.json()["state"] == "SUCCESS"
    assert as_json.json()["output"] == {"greeting": "Hello, Cy"}


def _async_run(v2: httpx.Client, execution_id: str) -> str:
    def check() -> str | None:
        tasks = v2.get(f"/executions/{execution_id}/tasks").json()["tasks"]
        for task in tasks:
            runs = v2.get(f"/tasks/{task['id']}/action_executions").json()["action_executions"]
            for run in runs:
                if run["name"] == "std.async_noop" and run["state"] == "RUNNING":
                    return str(run["id"])
        return None

    return eventually(check)


def test_pause_resume_cancel_delete(meltemi: Meltemi, v2: httpx.Client) -> None:
    execution_id = start(meltemi, "cli_gate")
    run_id = _async_run(v2, execution_id)
    assert "now PAUSED" in meltemi("execution", "pause", execution_id[:8]).out
    resumed = meltemi("execution", "resume", execution_id, "-o", "json").json()
    assert resumed["state"] == "RUNNING"
    response = v2.put(f"/action_executions/{run_id}", json={"state": "SUCCESS", "output": "ok"})
    assert response.status_code == 200, response.text
    assert finished(v2, execution_id)["state"] == "SUCCESS"

    second = start(meltemi, "cli_gate")
    _async_run(v2, second)
    refused = meltemi("execution", "delete", second, code=1)
    assert refused.err.startswith("error: Only completed executions can be deleted")
    assert "cancelled execution" in meltemi("execution", "cancel", second).out
    assert finished(v2, second)["state"] == "CANCELLED"
    watched = meltemi("execution", "watch", second, code=1)
    assert "ended in CANCELLED" in watched.out
    assert f"deleted execution {second}" in meltemi("execution", "delete", second).out
    gone = meltemi("execution", "get", second, code=1)
    assert gone.err.startswith(f"error: no execution '{second}'")


def test_rerun_a_failed_task(meltemi: Meltemi, v2: httpx.Client) -> None:
    execution_id = start(meltemi, "cli_items")
    assert finished(v2, execution_id)["state"] == "ERROR"
    not_failed = start(meltemi, "cli_hello", "-i", '{"name": "x"}')
    finished(v2, not_failed)
    refused = meltemi("execution", "rerun", not_failed, "hello", code=1)
    assert "only a task in ERROR can rerun" in refused.err
    rerun = meltemi("execution", "rerun", execution_id[:8], "each", "--env", '{"fix": true}')
    assert rerun.out.startswith("rerunning task each")
    done = finished(v2, execution_id)
    assert done["state"] == "SUCCESS", done
    assert json.loads(meltemi("execution", "output", execution_id).out) == {"total": 60}


def test_explain_three_levels(meltemi: Meltemi, v2: httpx.Client) -> None:
    execution_id = start(meltemi, "fleet.deploy_all")
    assert finished(v2, execution_id)["state"] == "ERROR"

    text = meltemi("execution", "explain", execution_id[:8]).out
    assert (
        "fleet.deploy_all.deploy_hosts[7] > fleet.deploy_one.install (fleet.install_package): "
        "disk full on host 7"
    ) in text
    assert "item 7 of 10 failed first (1 failed: 7; 9 succeeded)" in text
    assert "deploy_hosts  ERROR  at workbook fleet, line 14" in text
    assert "install  ERROR  at workbook fleet, line 27" in text
    # Action executions take the workbook action's full name, as in Mistral.
    assert 'fleet.install_package  input {"host": 7, "password": "***"}' in text
    assert "hunter2" not in text
    assert "attempts  3" in text
    assert "no on-error handler; retry: 2 of 2 retries used (delay 0s)" in text

    data = meltemi("execution", "explain", execution_id, "-o", "json").json()
    assert data == v2.get(f"/executions/{execution_id}/explain").json()
    assert yaml.safe_load(meltemi("execution", "explain", execution_id, "-o", "yaml").out) == data
    parent, child = data["chain"]
    assert parent["task"]["name"] == "deploy_hosts"
    assert parent["item"]["index"] == 7
    assert parent["item"]["failed"] == [7]
    assert parent["run"]["kind"] == "workflow"
    assert child["task"]["name"] == "install"
    assert child["run"]["name"] == "fleet.install_package"
    assert child["run"]["input"] == {"host": 7, "password": "***"}
    assert child["error"] == "disk full on host 7"
    assert child["handlers"]["retry"]["used"] == 2
    assert child["handlers"]["retry"]["count"] == 2
    assert child["handlers"]["on_error"] == []

    watched = meltemi("execution", "watch", execution_id, code=1)
    assert "ended in ERROR" in watched.out
    assert "10/10 done, 1 failed" in watched.out
    assert "item 7 of 10 failed first" in watched.out


def test_explain_a_success(meltemi: Meltemi, v2: httpx.Client) -> None:
    execution_id = start(meltemi, "cli_hello", "-i", '{"name": "x"}')
    finished(v2, execution_id)
    assert (
        "cli_hello is SUCCESS: nothing failed" in meltemi("execution", "explain", execution_id).out
    )
    assert v2.get("/executions/nope/explain").status_code == 404


def test_bad_input_gets_one_line_and_a_hint(meltemi: Meltemi, v2: httpx.Client) -> None:
    unknown = meltemi("execution", "get", "nope", code=1)
    assert unknown.err.splitlines() == [
        "error: no execution 'nope' (by name, id or id prefix)",
        "  hint: give an execution id (or its first characters) or a workflow name; "
        "see 'meltemi execution list'",
    ]
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = meltemi("--url", nowhere, "workflow", "list", code=3)
    assert unreachable.err.startswith(f"error: cannot reach the Meltemi server at {nowhere}")
    assert "hint: start one with 'meltemi server'" in unreachable.err
    bad_json = meltemi("execution", "start", "cli_hello", "--input", '{"name": }', code=2)
    assert bad_json.err.splitlines()[0] == (
        "error: --input is not valid JSON: Expecting value at line 1, column 10"
    )
    assert "hint: quote it for the shell" in bad_json.err
    no_workflow = meltemi("execution", "start", "no_such_wf", code=1)
    assert no_workflow.err.splitlines() == [
        "error: no workflow 'no_such_wf' (by name, id or id prefix)",
        "  hint: see the workflows with 'meltemi workflow list'",
    ]

    for suffix in ("1", "2"):
        body = {"workflow_name": "cli_hello", "input": {"name": suffix}}
        body["id"] = f"abcdef00-0000-4000-8000-00000000000{suffix}"
        assert v2.post("/executions", json=body).status_code == 201
    ambiguous = meltemi("execution", "get", "abcdef00", code=1)
    assert ambiguous.err.startswith("error: 'abcdef00' is ambiguous: 2 executions match")
    assert "hint: give more characters of the id" in ambiguous.err

    debug = meltemi("execution", "get", "nope", "--debug", code=1)
    assert "Traceback" in debug.err
    assert "error: no execution 'nope'" in debug.err
