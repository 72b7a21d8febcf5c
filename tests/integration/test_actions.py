"""Actions through the runtime: mistral-lib plug-ins, ad-hoc actions, bad input."""

from __future__ import annotations

import time

import sqlalchemy as sa

from meltemi.engine import State
from meltemi.persistence.executions import RUNS, TASKS
from meltemi.services.action_runs import ActionRuns
from meltemi.services.executions import Executions
from meltemi.services.queries import execution_report
from meltemi.services.runtime import Runtime

PLUGINS = """
version: '2.0'
plugins:
  tasks:
    multiply:
      action: test.multiply a=21
      publish: {product: <% task().result %>}
      on-success: context
    context:
      action: test.context
      publish: {context: <% task().result %>}
      on-success: fails
    fails:
      action: test.fails reason="on purpose"
      publish-on-error: {why: <% task().result %>}
      on-error: waits
    waits:
      action: test.async_wait
      publish: {sent: <% task().result %>}
"""


def _task_state(runtime: Runtime, name: str) -> str | None:
    with runtime.db.read() as conn:
        return conn.execute(sa.select(TASKS.c.state).where(TASKS.c.name == name)).scalar()


def test_mistral_lib_actions_run_unchanged(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(PLUGINS)
    execution = Executions(runtime).start("plugins")
    deadline = time.monotonic() + 30
    while _task_state(runtime, "waits") != "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    with runtime.db.read() as conn:
        run_id = conn.execute(sa.select(RUNS.c.id).where(RUNS.c.name == "test.async_wait")).scalar()
    assert run_id is not None, execution_report(runtime.db, execution.id)
    ActionRuns(runtime).complete(run_id, State.SUCCESS, {"answer": 42})
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS, final.state_info
    assert final.output == {
        "product": 42,
        "context": {
            "workflow_name": "plugins",
            "has_action_execution_id": True,
            "has_task_id": True,
        },
        "why": {"reason": "on purpose"},
        "sent": {"answer": 42},
    }


ADHOC = """
version: '2.0'
name: tools
actions:
  greet:
    base: std.echo
    base-input:
      output: "Hello, <% $.who %>"
    input:
      - who: world
    output:
      text: <% $ %>
  loud:
    base: greet
    base-input:
      who: <% $.name.toUpper() %>
    input: [name]
workflows:
  main:
    tasks:
      a:
        action: greet
        publish: {a: <% task().result.text %>}
        on-success: b
      b:
        action: loud name="bob"
        publish: {b: <% task().result.text %>}
        on-success: c
      c:
        action: loud nickname="bob"
        on-error: handled
      handled:
        action: std.echo output=<% task(c).state_info %>
        publish: {error: <% task().result %>}
"""


def test_adhoc_actions_in_a_workbook(runtime: Runtime) -> None:
    runtime.definitions.create_workbook(ADHOC)
    execution = Executions(runtime).start("tools.main")
    final = runtime.wait(execution.id, timeout=30)
    # Input that does not fit the action fails the workflow, on-error or not, as in
    # Mistral; what the tasks before published stays in the output.
    assert final.state is State.ERROR
    assert final.output["a"] == "Hello, world"
    assert final.output["b"] == "Hello, BOB"
    assert (
        "Invalid input for action 'tools.loud': missing 'name'; unexpected 'nickname'. "
        "It accepts: name"
    ) in (final.state_info or "")
    with runtime.db.read() as conn:
        names = conn.execute(
            sa.select(TASKS.c.name).where(TASKS.c.workflow_execution_id == execution.id)
        ).scalars()
        assert sorted(names) == ["a", "b", "c"]


def test_run_action_directly(runtime: Runtime) -> None:
    runs = ActionRuns(runtime)
    row = runs.run("test.multiply", {"a": 3, "b": 4}, run_sync=True)
    assert row["output"] == 12
    assert row["state"] == "SUCCESS"
    assert row["id"] is None
    saved = runs.run("std.echo", {"output": "kept"}, save_result=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with runtime.db.read() as conn:
            state = conn.execute(sa.select(RUNS.c.state).where(RUNS.c.id == saved["id"])).scalar()
        if state == "SUCCESS":
            break
        time.sleep(0.05)
    assert state == "SUCCESS"
