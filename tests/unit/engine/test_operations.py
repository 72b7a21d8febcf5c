"""Rerun, pause, resume and cancel, compared with what Mistral does."""

from __future__ import annotations

from datetime import timedelta

from meltemi.engine import ActionResult, RerunRequested, State, StopRequested
from tests.unit.engine.sim import Simulator, task, tasks


def test_rerun_reopens_a_join_failed_by_a_path_further_upstream() -> None:
    """t21 fails, so t22 never runs and the join t30 fails; rerunning t21 runs t22,
    whose arrival reopens the same join execution, which then runs (as in Mistral)."""
    attempts = {"n": 0}

    def once_bad(inp: dict[str, object]) -> ActionResult:
        attempts["n"] += 1
        return ActionResult(error="bad") if attempts["n"] == 1 else ActionResult(data="ok")

    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t10:
      action: std.noop
      on-success: [t21, t30]
    t21:
      action: my.once_bad
      on-success: t22
    t22:
      action: std.noop
      on-success: t30
    t30:
      join: all
      action: std.noop
""")
    sim.actions["my.once_bad"] = once_bad
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.ERROR
    assert task(state, "t30").state is State.ERROR
    join_id = task(state, "t30").id
    sim.send(wf_id, RerunRequested(task_id=task(state, "t21").id, reset=True))
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert sorted(tasks(state)) == [
        ("t10", "SUCCESS"),
        ("t21", "SUCCESS"),
        ("t22", "SUCCESS"),
        ("t30", "SUCCESS"),
    ]
    assert task(state, "t30").id == join_id


def test_rerun_of_a_workflow_task_starts_a_new_sub_workflow() -> None:
    """Mistral sets the failed sub-workflow execution aside and starts another one."""
    attempts = {"n": 0}

    def once_bad(inp: dict[str, object]) -> ActionResult:
        attempts["n"] += 1
        return ActionResult(error="bad") if attempts["n"] == 1 else ActionResult(data="ok")

    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      on-success: after
    after:
      action: std.noop
child:
  tasks:
    work:
      action: my.once_bad
""")
    sim.actions["my.once_bad"] = once_bad
    wf_id = sim.start("parent")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.ERROR
    first = [s for s in sim.states.values() if s.workflow.parent_id == wf_id]
    assert [s.workflow.state for s in first] == [State.ERROR]
    sim.send(wf_id, RerunRequested(task_id=task(state, "call").id, reset=True))
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert tasks(state) == [("call", "SUCCESS"), ("after", "SUCCESS")]
    children = [s for s in sim.states.values() if s.workflow.parent_id == wf_id]
    assert sorted(s.workflow.state for s in children) == [State.ERROR, State.SUCCESS]
    assert first[0].workflow.state is State.ERROR
    assert [t.state for t in first[0].tasks.values()] == [State.ERROR]


def test_with_items_with_a_cancelled_and_a_failed_item_ends_cancelled() -> None:
    """Mistral looks for a cancelled item before a failed one."""
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t:
      with-items: i in [1, 2]
      action: my.slow
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("wf")
    sim.run()
    first, second = sorted(sim.held.values(), key=lambda c: c.index)
    sim.complete(first.run_id, ActionResult(error="failed", cancelled=True))
    sim.complete(second.run_id, ActionResult(error="failed"))
    sim.run()
    state = sim.states[wf_id]
    assert task(state, "t").state is State.CANCELLED
    assert task(state, "t").state_info == "One or more actions was cancelled."
    assert state.workflow.state is State.CANCELLED
    assert state.workflow.state_info == "Cancelled tasks: t"


def test_cancelling_a_parent_reports_the_reason_on_its_sub_workflow_task() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
    many:
      with-items: i in [1, 2]
      workflow: child
child:
  tasks:
    work:
      action: my.slow
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("parent")
    sim.run()
    sim.send(wf_id, StopRequested(state=State.CANCELLED, message="Cancelled by user."))
    state = sim.states[wf_id]
    assert state.workflow.state_info == "Cancelled by user."
    assert task(state, "call").state is State.CANCELLED
    assert task(state, "call").state_info == "Cancelled by user."
    assert task(state, "many").state_info == "One or more actions was cancelled."


def test_a_cancelled_action_leaves_no_state_info_and_is_not_retried() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t:
      action: my.slow
      retry: {count: 3, delay: 0}
      on-error: handler
      on-complete: after
    handler:
      action: std.noop
    after:
      action: std.noop
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("wf")
    sim.run()
    (run_id,) = sim.held
    sim.complete(run_id, ActionResult(cancelled=True))
    sim.run()
    state = sim.states[wf_id]
    assert tasks(state) == [("t", "CANCELLED")]
    assert task(state, "t").state_info is None
    assert not sim.held
    assert state.workflow.state is State.CANCELLED
    assert state.workflow.state_info == "Cancelled tasks: t"


def test_one_cancelled_item_ends_a_with_items_task_at_once() -> None:
    """Mistral completes the task CANCELLED without waiting for the other items, and
    starts no more of them."""
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t:
      with-items: i in [1, 2, 3, 4]
      concurrency: 2
      action: my.slow
      on-success: after
    after:
      action: std.noop
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("wf")
    sim.run()
    first, second = sorted(sim.held.values(), key=lambda c: c.index)
    sim.complete(first.run_id, ActionResult(cancelled=True))
    sim.run()
    state = sim.states[wf_id]
    assert tasks(state) == [("t", "CANCELLED")]
    assert task(state, "t").state_info == "One or more actions was cancelled."
    assert state.workflow.state is State.CANCELLED
    assert list(sim.held) == [second.run_id]  # not cancelled, and nothing new started
    sim.complete(second.run_id, ActionResult(data="late"))
    sim.run()
    assert tasks(state) == [("t", "CANCELLED")]


def test_a_rerun_task_has_a_new_started_at() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t:
      action: std.fail
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    first = task(state, "t")
    sim.now += timedelta(seconds=5)
    sim.send(wf_id, RerunRequested(task_id=first.id, reset=True))
    sim.run()
    second = task(state, "t")
    assert second.state is State.ERROR
    assert first.started_at is not None
    assert second.started_at is not None
    assert second.started_at > first.started_at
    assert second.finished_at is not None
    assert first.finished_at is not None
    assert second.finished_at > first.finished_at
