"""The runtime on a real database (SQLite file and PostgreSQL): runs, timers, restarts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from meltemi.actions import Action, ActionContext, ActionDescriptor, ActionRegistry
from meltemi.engine import State, WorkflowInputError
from meltemi.persistence.db import Database
from meltemi.persistence.executions import RUNS, TASKS, TIMERS, WF
from meltemi.services.errors import NotAllowed, NotFound
from meltemi.services.executions import Executions, ExpirationPolicy
from meltemi.services.runtime import INTERRUPTED, Runtime
from tests.fixtures.runtime import RuntimeFactory

HELLO = """
version: '2.0'
hello:
  input:
    - name: world
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %>"
      publish: {greeting: <% task().result %>}
      on-success: shout
    shout:
      action: std.echo output="<% $.greeting %>!" delay=0.01
      publish: {shouted: <% task().result %>}
  output:
    message: <% $.shouted %>
"""


def _tasks(runtime: Runtime, execution_id: str) -> list[tuple[str, str]]:
    with runtime.db.read() as conn:
        rows = conn.execute(
            sa.select(TASKS.c.name, TASKS.c.state)
            .where(TASKS.c.workflow_execution_id == execution_id)
            .order_by(TASKS.c.seq)
        ).all()
    return [(r[0], r[1]) for r in rows]


def test_runs_a_workflow_to_success(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    execution = Executions(runtime).start("hello", input={"name": "Ann"})
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    assert final.output == {"message": "Hello, Ann!"}
    assert _tasks(runtime, execution.id) == [("greet", "SUCCESS"), ("shout", "SUCCESS")]
    with runtime.db.read() as conn:
        runs = conn.execute(sa.select(RUNS.c.name, RUNS.c.state, RUNS.c.output)).all()
    assert sorted((r[0], r[1]) for r in runs) == [("std.echo", "SUCCESS")] * 2


def test_client_given_id_makes_start_idempotent(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    first = Executions(runtime).start("hello", execution_id="11111111-2222-3333-4444-555555555555")
    again = Executions(runtime).start("hello", execution_id=first.id)
    assert again.id == first.id
    assert runtime.wait(first.id, timeout=30).state is State.SUCCESS


def test_bad_input_creates_nothing(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    with pytest.raises(WorkflowInputError, match="unexpected 'nope'"):
        Executions(runtime).start("hello", input={"nope": 1})


WAITING = """
version: '2.0'
waiting:
  tasks:
    first:
      wait-before: 1
      action: std.echo output="waited"
      publish: {r: <% task().result %>}
"""


def test_timer_fires_and_is_removed(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(WAITING)
    started = time.monotonic()
    execution = Executions(runtime).start("waiting")
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    assert time.monotonic() - started >= 1.0
    with runtime.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TIMERS)).scalar() == 0


def test_timers_survive_a_restart(db_url: str, runtime_factory: RuntimeFactory) -> None:
    first = runtime_factory(db_url)
    first.definitions.create_workflows(WAITING.replace("wait-before: 1", "wait-before: 2"))
    execution = Executions(first).start("waiting")
    first.stop(grace=0)
    db = Database(db_url)
    try:
        with db.read() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(TIMERS)).scalar() == 1
    finally:
        db.dispose()
    second = runtime_factory(db_url)
    final = second.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    assert final.output == {"r": "waited"}


def _blocking_action() -> type[Action]:
    class Blocking(Action):
        """Blocks until released; not idempotent (running it twice would matter)."""

        release = threading.Event()
        calls = 0

        def run(self, context: ActionContext) -> Any:
            type(self).calls += 1
            type(self).release.wait(30)
            return "done"

    return Blocking


def _registry(action: type[Action]) -> ActionRegistry:
    registry = ActionRegistry()
    registry.register(ActionDescriptor("test.blocking", action))
    return registry


BLOCKING = """
version: '2.0'
blocking:
  tasks:
    once:
      action: test.blocking
      on-error: handled
    handled:
      action: std.noop
"""


def test_in_flight_action_that_is_not_safe_fails_after_restart(
    db_url: str, runtime_factory: RuntimeFactory
) -> None:
    blocking: Any = _blocking_action()
    first = runtime_factory(db_url, registry=_registry(blocking))
    first.definitions.create_workflows(BLOCKING)
    execution = Executions(first).start("blocking")
    deadline = time.monotonic() + 10
    while blocking.calls == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.stop(grace=0)
    blocking.release.set()
    second = runtime_factory(db_url, registry=_registry(blocking))
    final = second.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    with second.db.read() as conn:
        info = conn.execute(sa.select(TASKS.c.state_info).where(TASKS.c.name == "once")).scalar()
    assert info == INTERRUPTED
    assert blocking.calls == 1


NESTED = """
version: '2.0'
name: book
workflows:
  parent:
    input: [items]
    tasks:
      each:
        with-items: x in <% $.items %>
        concurrency: 2
        workflow: child n=<% $.x %>
        publish: {squares: <% task().result.select($.square) %>}
  child:
    input: [n]
    tasks:
      square:
        action: std.echo output=<% $.n * $.n %> delay=0.01
        publish: {square: <% task().result %>}
    output:
      square: <% $.square %>
"""


def test_workbook_sub_workflows_with_items(runtime: Runtime) -> None:
    runtime.definitions.create_workbook(NESTED)
    execution = Executions(runtime).start("book.parent", input={"items": [1, 2, 3, 4]})
    final = runtime.wait(execution.id, timeout=60)
    assert final.state is State.SUCCESS, final.state_info
    assert final.output == {"squares": [1, 4, 9, 16]}


PAUSABLE = """
version: '2.0'
waiting:
  tasks:
    first:
      wait-before: 1
      action: std.noop
      on-success: second
    second:
      action: std.noop
"""


def test_pause_resume_and_cancel(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(PAUSABLE)
    execution = Executions(runtime).start("waiting")
    Executions(runtime).pause(execution.id)
    assert runtime.execution(execution.id).state is State.PAUSED
    time.sleep(1.3)
    assert runtime.execution(execution.id).state is State.PAUSED
    Executions(runtime).resume(execution.id)
    assert runtime.wait(execution.id, timeout=30).state is State.SUCCESS

    other = Executions(runtime).start("waiting")
    Executions(runtime).stop(other.id, State.CANCELLED, "no longer needed")
    final = runtime.wait(other.id, timeout=30)
    assert final.state is State.CANCELLED
    assert final.state_info == "no longer needed"


PAUSE_COMMAND = """
version: '2.0'
held:
  tasks:
    first:
      action: std.noop
      on-success:
        - pause
        - second
    second:
      action: std.noop
"""


def test_tasks_held_by_a_pause_command_start_on_resume_after_a_restart(
    db_url: str, runtime_factory: RuntimeFactory
) -> None:
    """As in Mistral, the task after a 'pause' command is not created while the
    workflow is paused; the held transition is stored, so a restart keeps it."""
    first = runtime_factory(db_url)
    first.definitions.create_workflows(PAUSE_COMMAND)
    execution = Executions(first).start("held")
    deadline = time.monotonic() + 10
    while first.execution(execution.id).state is not State.PAUSED:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert _tasks(first, execution.id) == [("first", "SUCCESS")]
    first.stop(grace=0)
    second = runtime_factory(db_url)
    Executions(second).resume(execution.id)
    assert second.wait(execution.id, timeout=30).state is State.SUCCESS
    assert _tasks(second, execution.id) == [("first", "SUCCESS"), ("second", "SUCCESS")]


def test_delete_only_finished_unless_forced(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(PAUSABLE)
    executions = Executions(runtime)
    running = executions.start("waiting")
    with pytest.raises(NotAllowed, match="Only completed executions can be deleted"):
        executions.delete(running.id)
    executions.delete(running.id, force=True)
    with pytest.raises(NotFound):
        runtime.execution(running.id)
    with runtime.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(TASKS)).scalar() == 0
        assert conn.execute(sa.select(sa.func.count()).select_from(TIMERS)).scalar() == 0


def test_delete_removes_sub_workflows(runtime: Runtime) -> None:
    runtime.definitions.create_workbook(NESTED)
    executions = Executions(runtime)
    done = executions.start("book.parent", input={"items": [1, 2]})
    assert runtime.wait(done.id, timeout=60).state is State.SUCCESS
    executions.delete(done.id)
    with runtime.db.read() as conn:
        for table in (WF, TASKS, RUNS):
            assert conn.execute(sa.select(sa.func.count()).select_from(table)).scalar() == 0


def test_expiration_policy_deletes_old_finished_roots(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    executions = Executions(runtime)
    ids = [executions.start("hello").id for _ in range(3)]
    for execution_id in ids:
        runtime.wait(execution_id, timeout=30)
    assert executions.expire(ExpirationPolicy(max_finished=1)) == 2
    assert executions.expire(ExpirationPolicy(older_than=timedelta(hours=1))) == 0
    assert executions.expire(ExpirationPolicy(older_than=timedelta(seconds=-1))) == 1
    with runtime.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(WF)).scalar() == 0


def test_start_from_an_existing_execution(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    executions = Executions(runtime)
    first = executions.start("hello", input={"name": "Bo"}, description="first")
    copy = executions.start(source_execution_id=first.id)
    final = runtime.wait(copy.id, timeout=30)
    assert final.output == {"message": "Hello, Bo!"}
    assert final.description == f"first Based on the execution '{first.id}'"


LOOKING_AROUND = """
version: '2.0'
parent:
  tasks:
    deploy:
      workflow: child
      on-error: report
    report:
      action: std.noop
      publish:
        failed: <% tasks(execution().id, true, ERROR).select($.name) %>
        results: <% tasks(execution().id, true).where($.name = ok).select($.result) %>
        others: <% executions(state => SUCCESS).select($.name) %>
        older: <% executions(toTime => execution().created_at).len() %>
        later: <% executions(fromTime => '2999-01-01 00:00:00').len() %>
child:
  tasks:
    ok:
      action: std.echo output="fine"
      on-success: broken
    broken:
      action: std.fail error_data="disk full"
"""


def test_tasks_and_executions_read_the_database(runtime: Runtime) -> None:
    runtime.definitions.create_workflows(HELLO)
    runtime.definitions.create_workflows(LOOKING_AROUND)
    first = Executions(runtime).start("hello")
    assert runtime.wait(first.id, timeout=30).state is State.SUCCESS
    time.sleep(1.1)  # executions() compares times to the second
    execution = Executions(runtime).start("parent")
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS, final.state_info
    with runtime.db.read() as conn:
        published = conn.execute(
            sa.select(TASKS.c.published).where(
                TASKS.c.workflow_execution_id == execution.id, TASKS.c.name == "report"
            )
        ).scalar_one()
    assert published == {
        "failed": ["deploy", "broken"],
        "results": ["fine"],
        "others": ["hello"],
        "older": 1,
        "later": 0,
    }


ADHOC_WORKBOOK = """
version: '2.0'
name: adhoc_wb
actions:
  greet_env:
    base: std.echo
    base-input:
      output: <% env().greeting %>, <% $.who %>
    input:
      - who
  later:
    base: std.async_noop
    output: (((<% $ %>)))
workflows:
  wf:
    tasks:
      greet:
        action: greet_env who="Ann"
        publish: {greeting: <% task().result %>}
        on-success: wait
      wait:
        action: later
        publish: {waited: <% task().result %>}
"""


def test_adhoc_actions_see_the_env_and_transform_results_sent_in(runtime: Runtime) -> None:
    # As in Mistral: base-input is evaluated over the task's data (env() works), the
    # action execution is named after the workbook action found, and the result of an
    # async base action sent through the API goes through the ad-hoc output.
    from meltemi.services.action_runs import ActionRuns

    runtime.definitions.create_workbook(ADHOC_WORKBOOK)
    execution = Executions(runtime).start("adhoc_wb.wf", params={"env": {"greeting": "Hi"}})

    def waiting() -> list[Any]:
        with runtime.db.read() as conn:
            return list(
                conn.execute(
                    sa.select(RUNS.c.id).where(
                        RUNS.c.task_name == "wait", RUNS.c.state == "RUNNING"
                    )
                ).scalars()
            )

    deadline = time.monotonic() + 30
    while not waiting() and time.monotonic() < deadline:
        time.sleep(0.02)
    ActionRuns(runtime).complete(waiting()[0], State.SUCCESS, "done")
    final = runtime.wait(execution.id, timeout=30)
    assert final.state is State.SUCCESS
    with runtime.db.read() as conn:
        runs = conn.execute(sa.select(RUNS.c.task_name, RUNS.c.name, RUNS.c.output)).all()
    assert sorted(tuple(r) for r in runs) == [
        ("greet", "adhoc_wb.greet_env", "Hi, Ann"),
        ("wait", "adhoc_wb.later", "(((done)))"),
    ]
