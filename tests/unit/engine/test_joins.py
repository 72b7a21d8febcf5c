"""Joins: all, one, N, failed inbound tasks, paths that cannot reach the join."""

from __future__ import annotations

from meltemi.engine import State
from tests.unit.engine.sim import Simulator, task, tasks


def _fanout(n: int, join: str = "all", failing: int | None = None) -> str:
    branches = "".join(
        f"    b{i}:\n      action: {'std.fail' if i == failing else 'std.echo output=' + str(i)}\n"
        f"      publish: {{v{i}: {i}}}\n      on-success: done\n"
        for i in range(n)
    )
    targets = ", ".join(f"b{i}" for i in range(n))
    return (
        "version: '2.0'\nwf:\n  tasks:\n"
        f"    start:\n      on-success: [{targets}]\n"
        f"{branches}"
        f"    done:\n      join: {join}\n      action: std.noop\n"
    )


def test_join_all_waits_for_every_branch_and_merges_contexts() -> None:
    sim = Simulator.from_yaml(_fanout(5))
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    done = [t for t in state.iter_tasks() if t.name == "done"]
    assert len(done) == 1
    assert len(done[0].triggered_by) == 5
    assert state.workflow.output == {f"v{i}": i for i in range(5)}


def test_join_all_fails_when_a_branch_fails_without_reaching_it() -> None:
    sim = Simulator.from_yaml(_fanout(3, failing=1))
    state = sim.execute("wf")
    assert state.workflow.state is State.ERROR
    done = task(state, "done")
    assert done.state is State.ERROR
    assert done.state_info == "Failed by tasks: ['b1']"


def test_join_one_starts_on_first_arrival_only_once() -> None:
    sim = Simulator.from_yaml(_fanout(4, join="one"))
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert [n for n, _ in tasks(state)].count("done") == 1
    assert len(task(state, "done").triggered_by) == 1


def test_join_number_tolerates_failures_up_to_the_margin() -> None:
    ok = Simulator.from_yaml(_fanout(4, join="3", failing=0)).execute("wf")
    assert task(ok, "done").state is State.SUCCESS
    assert len(task(ok, "done").triggered_by) == 3


def test_join_fails_when_a_path_can_never_reach_it() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    start:
      on-success:
        - left
        - right: <% false %>
    left:
      on-success: done
    right:
      on-success: right2
    right2:
      on-success: done
    done:
      join: all
""")
    state = sim.execute("wf")
    done = task(state, "done")
    assert done.state is State.ERROR
    assert done.state_info == "Failed by tasks: ['right2']"
    assert state.workflow.state is State.ERROR


def test_failed_join_names_the_failed_inbound_tasks_in_definition_order() -> None:
    """Mistral lists the inbound tasks that failed a join in definition order."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    zeta:
      action: std.fail
      on-success: join_task
    beta:
      action: std.noop
      on-success: join_task
    alpha:
      action: std.fail
      on-success: join_task
    join_task:
      join: 2
""")
    state = sim.execute("wf")
    done = task(state, "join_task")
    assert done.state is State.ERROR
    assert done.state_info == "Failed by tasks: ['zeta', 'alpha']"


def test_failed_join_all_is_triggered_by_what_did_not_reach_it() -> None:
    """Mistral: a failed 'join: all' keeps, as its triggers, the inbound task executions
    that completed without a transition to it (event "not triggered"); an inbound task
    that never ran is not among them. Its context still comes from the tasks that did
    reach it."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    task1:
      publish: {reached: 1}
      on-success: join_task
    task2:
      action: std.fail
      on-complete: join_task
    task3:
      action: std.noop
      on-error: join_task
    task4:
      action: std.noop
      on-error: task5
    task5:
      on-success: join_task
    join_task:
      join: all
      publish-on-error:
        seen: <% $.get(reached) %>
""")
    state = sim.execute("wf")
    done = task(state, "join_task")
    assert done.state is State.ERROR
    events = {(t.task_id, t.event) for t in done.triggered_by}
    assert (task(state, "task3").id, "not triggered") in events
    assert all(event == "not triggered" for _id, event in events)
    assert "task5" not in [n for n, _s in tasks(state)]
    assert done.published == {"seen": 1}
