"""python-mistralclient's Python API against a real ``meltemi server`` subprocess.

Existing Mistral users drive their workflows with this client; every call here is one
they make, and every field read here is one the client (or its CLI) parses.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from mistralclient.api import client as mistral_client
from mistralclient.api.base import APIException
from mistralclient.api.v2.client import Client

from tests.fixtures.server import ServerProcess

T = TypeVar("T")

# -- helpers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mistral(module_server: ServerProcess) -> Client:
    return mistral_client.client(mistral_url=f"{module_server.base_url}/v2")


def wait_for(
    probe: Callable[[], T], done: Callable[[T], bool], *, timeout: float = 60, what: str = ""
) -> T:
    """Polls ``probe`` until ``done`` says yes; fails with the last value after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what or 'a condition'}; last value: {value!r}")
        time.sleep(0.05)


def finished(mistral: Client, execution_id: str, timeout: float = 60) -> Any:
    return wait_for(
        lambda: mistral.executions.get(execution_id),
        lambda e: e.state in ("SUCCESS", "ERROR", "CANCELLED"),
        timeout=timeout,
        what=f"execution {execution_id} to finish",
    )


def parses_as_timestamp(value: str | None) -> bool:
    """The exact format python-mistralclient parses to show durations."""
    if value is None:
        return False
    datetime.strptime(value, "%Y-%m-%d %H:%M:%S")  # noqa: DTZ007  # Mistral sends naive UTC
    return True


HELLO = """
version: '2.0'
hello:
  description: says hello
  tags: [greeting]
  input:
    - name
    - punctuation: "!"
  tasks:
    greet:
      action: std.echo output="Hello, <% $.name %><% $.punctuation %>"
      publish:
        greeting: <% task().result %>
        who: <% env().get(who, nobody) %>
  output:
    greeting: <% $.greeting %>
    who: <% $.who %>
"""

HELLO_V2 = HELLO.replace("says hello", "says hello again")

GATED = """
version: '2.0'
gated:
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

ITEMS = """
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

BROKEN = """
version: '2.0'
broken:
  tasks:
    first:
      action: std.echo output="fine"
      on-success: second
    second:
      action: std.noop
      on-success: nowhere
"""


# -- workflows -------------------------------------------------------------------------


def test_workflow_create_list_get_update_delete(mistral: Client) -> None:
    (created,) = mistral.workflows.create(HELLO.replace("hello:", "crud:"))
    assert created.name == "crud"
    assert created.namespace == ""
    assert created.scope == "private"
    assert created.tags == ["greeting"]
    assert created.input == 'name, punctuation="!"'
    # As Mistral: an object in what create and update answer, JSON text in a get.
    interface = {"input": ["name", {"punctuation": "!"}], "output": ["greeting", "who"]}
    assert created.interface == interface
    assert parses_as_timestamp(created.created_at)
    # As Mistral answers a create: no updated_at at all while it is unset.
    assert not hasattr(created, "updated_at")

    listed = {w.name: w for w in mistral.workflows.list()}
    assert listed["crud"].id == created.id
    assert json.loads(listed["crud"].interface) == interface
    assert mistral.workflows.get("crud").id == created.id
    assert mistral.workflows.get(created.id).name == "crud"
    assert "says hello" in mistral.workflows.get("crud").definition

    (updated,) = mistral.workflows.update(HELLO_V2.replace("hello:", "crud:"))
    assert updated.id == created.id
    assert "says hello again" in updated.definition
    assert parses_as_timestamp(updated.updated_at)
    by_id = mistral.workflows.update(HELLO.replace("hello:", "crud:"), id=created.id)
    assert by_id.id == created.id
    assert "again" not in by_id.definition

    mistral.workflows.delete("crud")
    with pytest.raises(APIException) as e:
        mistral.workflows.get("crud")
    assert e.value.error_code == 404
    assert "crud" in e.value.error_message


def test_workflow_errors_say_what_is_wrong(mistral: Client) -> None:
    mistral.workflows.create(HELLO.replace("hello:", "twice:"))
    with pytest.raises(APIException) as e:
        mistral.workflows.create(HELLO.replace("hello:", "twice:"))
    assert e.value.error_code == 409
    assert "twice" in e.value.error_message

    with pytest.raises(APIException) as e:
        mistral.workflows.create(BROKEN)
    assert e.value.error_code == 400
    assert ":10:" in e.value.error_message  # the line of 'on-success: nowhere'
    assert "nowhere" in e.value.error_message

    assert mistral.workflows.validate(HELLO) == {"valid": True}
    result = mistral.workflows.validate(BROKEN)
    assert result["valid"] is False
    assert "nowhere" in result["error"]
    assert ":10:" in result["error"]


# -- executions ------------------------------------------------------------------------


def test_execution_with_input_and_env(mistral: Client) -> None:
    mistral.workflows.create(HELLO)
    execution = mistral.executions.create(
        "hello", workflow_input={"name": "Meltemi"}, env={"who": "tester"}
    )
    assert execution.workflow_name == "hello"
    # As Mistral answers a start, even though this workflow's echo tasks run in line
    # and have ended it by the time the answer is sent.
    assert execution.state == "RUNNING"
    assert json.loads(execution.output) == {}
    # Mistral stores the input with the defaults filled in.
    assert json.loads(execution.input) == {"name": "Meltemi", "punctuation": "!"}
    assert json.loads(execution.params)["env"] == {"who": "tester"}
    assert parses_as_timestamp(execution.created_at)

    done = finished(mistral, execution.id)
    assert done.state == "SUCCESS"
    assert json.loads(done.output) == {"greeting": "Hello, Meltemi!", "who": "tester"}
    assert parses_as_timestamp(done.updated_at)
    assert done.root_execution_id is None

    listed = mistral.executions.list(workflow_name="hello", sort_dirs="desc")
    assert listed[0].id == execution.id
    assert not hasattr(listed[0], "output")  # lists leave the output out, as Mistral's

    (task,) = mistral.tasks.list(execution.id)
    assert task.name == "greet"
    assert task.state == "SUCCESS"
    assert task.workflow_execution_id == execution.id
    assert parses_as_timestamp(task.started_at)
    assert parses_as_timestamp(task.finished_at)
    full = mistral.tasks.get(task.id)
    assert json.loads(full.result) == "Hello, Meltemi!"
    assert json.loads(full.published) == {"greeting": "Hello, Meltemi!", "who": "tester"}

    (action,) = mistral.action_executions.list(task.id)
    assert action.name == "std.echo"
    assert action.state == "SUCCESS"
    assert action.accepted is True
    got = mistral.action_executions.get(action.id)
    assert json.loads(got.output) == {"result": "Hello, Meltemi!"}
    assert json.loads(got.input) == {"output": "Hello, Meltemi!"}


def test_execution_by_workflow_id_and_bad_input(mistral: Client) -> None:
    (workflow,) = mistral.workflows.create(HELLO.replace("hello:", "by_id:"))
    execution = mistral.executions.create(workflow.id, workflow_input={"name": "id"})
    assert execution.workflow_id == workflow.id
    assert finished(mistral, execution.id).state == "SUCCESS"

    with pytest.raises(APIException) as e:
        mistral.executions.create("by_id", workflow_input={"nom": "typo"})
    assert e.value.error_code == 400
    assert "nom" in e.value.error_message

    with pytest.raises(APIException) as e:
        mistral.executions.create("no_such_workflow")
    assert e.value.error_code == 404


def test_pause_resume_and_cancel(mistral: Client) -> None:
    mistral.workflows.create(GATED)
    execution = mistral.executions.create("gated")
    (wait,) = wait_for(
        lambda: mistral.tasks.list(execution.id),
        lambda tasks: len(tasks) == 1 and tasks[0].state == "RUNNING",
        what="the task 'wait' to run",
    )
    paused = mistral.executions.update(execution.id, "PAUSED")
    assert paused.state == "PAUSED"

    (action,) = mistral.action_executions.list(wait.id)
    completed = mistral.action_executions.update(action.id, "SUCCESS", output={"done": 1})
    assert completed.state == "SUCCESS"
    # Paused: the task that was running finishes, but nothing new starts.
    wait_for(
        lambda: mistral.tasks.get(wait.id).state,
        lambda state: state == "SUCCESS",
        what="the task 'wait' to succeed",
    )
    assert [t.name for t in mistral.tasks.list(execution.id)] == ["wait"]
    assert mistral.executions.get(execution.id).state == "PAUSED"

    resumed = mistral.executions.update(execution.id, "RUNNING")
    assert resumed.state in ("RUNNING", "SUCCESS")
    done = finished(mistral, execution.id)
    assert done.state == "SUCCESS"
    assert json.loads(done.output) == {"after": "went on"}

    other = mistral.executions.create("gated", description="to be cancelled")
    assert other.description == "to be cancelled"
    cancelled = mistral.executions.update(other.id, "CANCELLED")
    assert cancelled.state == "CANCELLED"
    assert finished(mistral, other.id).state == "CANCELLED"

    described = mistral.executions.update(other.id, None, description="cancelled on purpose")
    assert described.description == "cancelled on purpose"

    mistral.executions.delete(other.id)
    with pytest.raises(APIException) as e:
        mistral.executions.get(other.id)
    assert e.value.error_code == 404


def test_rerun_a_failed_with_items_task(mistral: Client) -> None:
    mistral.workflows.create(ITEMS)
    for reset in (False, True):
        execution = mistral.executions.create("items")
        failed = finished(mistral, execution.id)
        assert failed.state == "ERROR"
        assert "item 2 failed" in failed.state_info
        (task,) = mistral.tasks.list(execution.id)
        assert task.state == "ERROR"
        before = mistral.action_executions.list(task.id)
        assert sorted(a.state for a in before) == ["ERROR", "SUCCESS", "SUCCESS"]

        rerun = mistral.tasks.rerun(task.id, reset=reset, env={"fix": True})
        assert rerun.id == task.id
        assert finished(mistral, execution.id).state == "SUCCESS"
        assert json.loads(mistral.tasks.get(task.id).result) == [10, 20, 30]
        assert json.loads(mistral.executions.get(execution.id).output) == {"total": 60}

        after = mistral.action_executions.list(task.id)
        accepted = [a for a in after if a.accepted]
        assert len(accepted) == 3
        assert all(a.state == "SUCCESS" for a in accepted)
        # reset=false reruns only the failed item; reset=true runs every item again.
        assert len(after) == (4 if not reset else 6)


def test_rerun_refuses_a_task_that_did_not_fail(mistral: Client) -> None:
    mistral.workflows.create(HELLO.replace("hello:", "fine:"))
    execution = mistral.executions.create("fine", workflow_input={"name": "x"})
    finished(mistral, execution.id)
    (task,) = mistral.tasks.list(execution.id)
    with pytest.raises(APIException) as e:
        mistral.tasks.rerun(task.id)
    assert e.value.error_code == 400
    assert "ERROR" in e.value.error_message


def test_only_a_with_items_task_reruns_without_reset(mistral: Client) -> None:
    # As in Mistral: reset false means "only the failed items", which a task without
    # items does not have.
    mistral.workflows.create(
        "version: '2.0'\nfails_once:\n  tasks:\n    boom:\n      action: std.fail\n"
    )
    execution = mistral.executions.create("fails_once")
    assert finished(mistral, execution.id).state == "ERROR"
    (task,) = mistral.tasks.list(execution.id)
    with pytest.raises(APIException) as e:
        mistral.tasks.rerun(task.id, reset=False)
    assert e.value.error_code == 400
    assert "Only with-items task has the option to not reset" in e.value.error_message
    assert mistral.tasks.rerun(task.id, reset=True).id == task.id


# -- actions run on their own ----------------------------------------------------------


def test_run_action_sync_and_saved(mistral: Client) -> None:
    result = mistral.action_executions.create("std.echo", {"output": "hi"})
    assert json.loads(result.output) == {"result": "hi"}
    assert result.state == "SUCCESS"

    saved = mistral.action_executions.create("std.echo", {"output": "kept"}, save_result=True)
    assert saved.id
    done = wait_for(
        lambda: mistral.action_executions.get(saved.id),
        lambda a: a.state == "SUCCESS",
        what="the saved action run",
    )
    assert json.loads(done.output) == {"result": "kept"}
    assert saved.id in {a.id for a in mistral.action_executions.list()}

    synced = mistral.action_executions.create(
        "std.echo", {"output": "now"}, save_result=True, run_sync=True
    )
    assert synced.state == "SUCCESS"
    assert json.loads(mistral.action_executions.get(synced.id).output) == {"result": "now"}

    with pytest.raises(APIException) as e:
        mistral.action_executions.create("std.echo", {"wrong": 1})
    assert e.value.error_code == 400
    with pytest.raises(APIException) as e:
        mistral.action_executions.create("std.no_such_action", {})
    assert e.value.error_code in (400, 404)


# -- environments ----------------------------------------------------------------------


def test_environments(mistral: Client) -> None:
    created = mistral.environments.create(
        name="staging", description="for tests", variables={"who": "staging", "n": 1}
    )
    assert created.name == "staging"
    assert created.variables == {"who": "staging", "n": 1}
    assert parses_as_timestamp(created.created_at)
    got = mistral.environments.get("staging")
    assert got.variables == {"who": "staging", "n": 1}
    assert got.description == "for tests"
    assert "staging" in {e.name for e in mistral.environments.list()}

    updated = mistral.environments.update(name="staging", variables={"who": "stage 2"})
    assert updated.variables == {"who": "stage 2"}

    mistral.workflows.create(HELLO.replace("hello:", "with_env:"))
    execution = mistral.executions.create("with_env", workflow_input={"name": "env"}, env="staging")
    done = finished(mistral, execution.id)
    assert json.loads(done.output)["who"] == "stage 2"

    mistral.environments.delete("staging")
    with pytest.raises(APIException) as e:
        mistral.environments.get("staging")
    assert e.value.error_code == 404


GLOBALS = """
version: '2.0'
globals:
  vars:
    limit: 10
  tasks:
    first:
      action: std.echo output=5
      on-success:
        publish:
          branch: {local: 1}
          global: {shared: <% task().result %>}
        next: second
    second:
      action: std.noop
"""


def test_published_global(mistral: Client) -> None:
    mistral.workflows.create(GLOBALS)
    execution = mistral.executions.create("globals")
    done = finished(mistral, execution.id)
    assert done.state == "SUCCESS"
    # Globals, without the workflow's vars (as Mistral shows them).
    assert json.loads(done.published_global) == {"shared": 5}
    tasks = {t.name: mistral.tasks.get(t.id) for t in mistral.tasks.list(execution.id)}
    assert json.loads(tasks["first"].published) == {"local": 1}
    assert json.loads(tasks["first"].published_global) == {"shared": 5}
    assert getattr(tasks["second"], "published_global", None) is None


# -- workbooks, actions, cron triggers -------------------------------------------------

WORKBOOK = """
version: '2.0'
name: book
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
      output: hi from the book
"""


def test_workbook_and_actions(mistral: Client) -> None:
    workbook = mistral.workbooks.create(WORKBOOK)
    assert workbook.name == "book"
    assert parses_as_timestamp(workbook.created_at)
    assert mistral.workbooks.get("book").definition.strip() == WORKBOOK.strip()
    assert "book.main" in {w.name for w in mistral.workflows.list()}

    # The client asks GET /actions/{name}/{namespace}, here with an empty namespace.
    greet = mistral.actions.get("book.greet")
    assert greet.name == "book.greet"
    echo = mistral.actions.get("std.echo")
    assert echo.input == "output, delay=0"
    assert "std.echo" in {a.name for a in mistral.actions.list()}

    execution = mistral.executions.create("book.main")
    assert json.loads(finished(mistral, execution.id).output) == {"got": "hi from the book"}


def create_now(mistral: Client, name: str, workflow: str, **options: Any) -> Any:
    """A trigger whose first time is this minute (it fires at once); if the minute
    turns while asking, the server says it is past, and the next minute is asked."""
    for _attempt in range(3):
        first = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
        try:
            return mistral.cron_triggers.create(name, workflow, first_time=first, **options)
        except APIException as e:
            if "past" not in str(e.error_message):
                raise
    pytest.fail("could not create a cron trigger for this minute")


def test_cron_triggers(mistral: Client) -> None:
    mistral.workflows.create(HELLO.replace("hello:", "by_cron:"))
    once = create_now(
        mistral,
        "once",
        "by_cron",
        workflow_input={"name": "cron"},
        workflow_params={"env": {"who": "cron"}},
        count=1,
    )
    assert once.remaining_executions == 1
    fired = wait_for(
        lambda: mistral.executions.list(workflow_name="by_cron"),
        lambda found: len(found) == 1,
        what="the trigger to fire",
    )
    description = json.loads(fired[0].description)
    assert description["triggered_by"] == {"type": "cron_trigger", "id": once.id}
    done = finished(mistral, fired[0].id)
    assert json.loads(done.output) == {"greeting": "Hello, cron!", "who": "cron"}
    # Its one execution is done, so the trigger is gone.
    wait_for(
        lambda: {t.name for t in mistral.cron_triggers.list()},
        lambda names: "once" not in names,
        what="the spent trigger to go",
    )

    yearly = mistral.cron_triggers.create(
        "yearly", "by_cron", workflow_input={"name": "new year"}, pattern="0 0 1 1 *"
    )
    assert yearly.pattern == "0 0 1 1 *"
    assert yearly.remaining_executions is None
    assert parses_as_timestamp(yearly.next_execution_time)
    assert [t.name for t in mistral.cron_triggers.list()] == ["yearly"]
    assert mistral.cron_triggers.get("yearly").id == yearly.id
    assert json.loads(mistral.cron_triggers.get("yearly").workflow_input) == {"name": "new year"}
    mistral.cron_triggers.delete("yearly")
    with pytest.raises(APIException) as e:
        mistral.cron_triggers.get("yearly")
    assert e.value.error_code == 404

    with pytest.raises(APIException) as e:
        mistral.cron_triggers.create("bad", "by_cron", pattern="every minute")
    assert e.value.error_code == 400
    assert "pattern" in e.value.error_message
