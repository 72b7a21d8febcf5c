"""Sub-workflows, reverse workflows, and operations on executions."""

from __future__ import annotations

import pytest

from meltemi.engine import (
    ActionResult,
    InvalidRequest,
    PauseRequested,
    RerunRequested,
    ResumeRequested,
    SkipRequested,
    State,
    StopRequested,
    WorkflowInputError,
)
from tests.unit.engine.sim import Simulator, task, tasks

PARENT_CHILD = """
version: '2.0'
parent:
  input: [n]
  tasks:
    call:
      workflow: child x=<% $.n %>
      publish: {doubled: <% task().result.doubled %>}
child:
  input: [x]
  tasks:
    calc:
      action: std.echo output=<% $.x * 2 %>
      publish: {d: <% task().result %>}
  output:
    doubled: <% $.d %>
"""


def test_parent_gets_child_output() -> None:
    sim = Simulator.from_yaml(PARENT_CHILD)
    state = sim.execute("parent", {"n": 21})
    assert state.workflow.state is State.SUCCESS
    assert task(state, "call").published == {"doubled": 42}
    children = [s for s in sim.states.values() if s.workflow.parent_id == state.workflow.id]
    assert len(children) == 1
    assert children[0].workflow.root_id == state.workflow.id


def test_parent_gets_child_error() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    boom:
      action: std.fail error_data="no space left"
""")
    state = sim.execute("parent")
    assert state.workflow.state is State.ERROR
    info = task(state, "call").state_info or ""
    assert "boom -> no space left" in info


def test_a_failed_child_output_is_the_parent_task_result() -> None:
    # Mistral 23.0.0: task().result of a failed sub-workflow task is the child's output,
    # its state_info under "result" next to what output-on-error gave; the task's
    # state_info is the child's state_info.
    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      publish-on-error: {got: <% task().result %>}
      on-error: handle
    handle:
      action: std.noop
child:
  tasks:
    boom:
      action: std.fail error_data="no space left"
  output-on-error:
    why: child said no
""")
    state = sim.execute("parent")
    assert state.workflow.state is State.SUCCESS
    call = task(state, "call")
    child_info = call.state_info or ""
    assert "no space left" in child_info
    assert call.result == {"result": child_info, "why": "child said no"}
    assert call.published == {"got": call.result}


def test_bad_child_input_fails_the_parent_task() -> None:
    sim = Simulator.from_yaml(PARENT_CHILD.replace("child x=<% $.n %>", "child y=1"))
    state = sim.execute("parent", {"n": 1})
    assert task(state, "call").state is State.ERROR
    assert "missing 'x'" in (task(state, "call").state_info or "")


def test_child_input_it_does_not_declare_becomes_its_params() -> None:
    # Mistral 23.0.0 moves such keys into the sub-execution's params: `task_name` picks
    # a reverse child's target, `env` is accepted but env() still reads the root's env.
    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      input: {x: 1, extra: 2, env: {a: 5}}
      publish: {got: <% task().result.r %>}
    call_reverse:
      workflow: reverse_child
      input: {task_name: second}
child:
  input: [x]
  tasks:
    t:
      action: std.echo output=<% [$.x, env()] %>
      publish: {r: <% task().result %>}
  output:
    r: <% $.r %>
reverse_child:
  type: reverse
  tasks:
    first:
      action: std.echo output=1
    second:
      requires: [first]
      action: std.echo output=2
    third:
      requires: [second]
      action: std.echo output=3
""")
    state = sim.execute("parent", params={"env": {"a": 1}})
    assert state.workflow.state is State.SUCCESS
    assert task(state, "call").published == {"got": [1, {"a": 1}]}
    children = {s.workflow.workflow_name: s for s in sim.states.values() if s is not state}
    assert children["child"].workflow.input == {"x": 1}
    assert children["child"].workflow.params["extra"] == 2
    assert tasks(children["reverse_child"]) == [("first", "SUCCESS"), ("second", "SUCCESS")]


def test_nested_chain_of_sub_workflows() -> None:
    levels = 20
    text = (
        "version: '2.0'\n"
        + "".join(f"wf{i}:\n  tasks:\n    t:\n      workflow: wf{i + 1}\n" for i in range(levels))
        + f"wf{levels}:\n  tasks:\n    t:\n      action: std.echo output=deep\n"
    )
    state = Simulator.from_yaml(text).execute("wf0")
    assert state.workflow.state is State.SUCCESS


def test_workflow_input_is_validated() -> None:
    sim = Simulator.from_yaml(PARENT_CHILD)
    with pytest.raises(WorkflowInputError, match="missing 'n'"):
        sim.start("parent", {})
    with pytest.raises(WorkflowInputError, match="unexpected 'zz'"):
        sim.start("parent", {"n": 1, "zz": 2})


def test_reverse_workflow_runs_what_the_target_needs() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  type: reverse
  tasks:
    a:
      action: std.echo output="a"
      publish: {a: <% task().result %>}
    b:
      requires: [a]
      action: std.echo output="<% $.a %>b"
      publish: {b: <% task().result %>}
    c:
      requires: [a]
    unrelated:
      action: std.noop
""")
    state = sim.execute("wf", params={"task_name": "b"})
    assert state.workflow.state is State.SUCCESS
    assert tasks(state) == [("a", "SUCCESS"), ("b", "SUCCESS")]
    assert state.workflow.output == {"a": "a", "b": "ab"}
    with pytest.raises(WorkflowInputError, match="needs a target task"):
        sim.start("wf")


def test_pause_and_resume_nested_workflows() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      on-success: last
    last:
      action: std.noop
child:
  tasks:
    slow:
      action: my.slow
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("parent")
    sim.run()
    sim.send(wf_id, PauseRequested())
    parent = sim.states[wf_id]
    child = next(s for s in sim.states.values() if s.workflow.parent_id == wf_id)
    assert parent.workflow.state is State.PAUSED
    assert child.workflow.state is State.PAUSED
    (run_id,) = sim.held
    sim.complete(run_id, ActionResult(data=1))
    assert task(child, "slow").state is State.SUCCESS
    assert child.workflow.state is State.PAUSED
    sim.send(wf_id, ResumeRequested())
    sim.run()
    assert child.workflow.state is State.SUCCESS
    assert parent.workflow.state is State.SUCCESS
    assert tasks(parent) == [("call", "SUCCESS"), ("last", "SUCCESS")]


def test_cancel_cascades_to_children() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
child:
  tasks:
    slow:
      action: my.slow
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("parent")
    sim.run()
    sim.send(wf_id, StopRequested(state=State.CANCELLED, message="user said stop"))
    parent = sim.states[wf_id]
    child = next(s for s in sim.states.values() if s.workflow.parent_id == wf_id)
    assert parent.workflow.state is State.CANCELLED
    assert parent.workflow.state_info == "user said stop"
    assert child.workflow.state is State.CANCELLED
    assert not sim.held


def test_rerun_failed_task_continues_the_workflow() -> None:
    attempts = {"n": 0}

    def once_bad(inp: dict[str, object]) -> ActionResult:
        attempts["n"] += 1
        return ActionResult(error="bad") if attempts["n"] == 1 else ActionResult(data="ok")

    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: my.once_bad
      on-success: t2
    t2:
      action: std.noop
""")
    sim.actions["my.once_bad"] = once_bad
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.ERROR
    sim.send(wf_id, RerunRequested(task_id=task(state, "t1").id, reset=True))
    with pytest.raises(InvalidRequest, match="only a task in ERROR"):
        sim.send(wf_id, RerunRequested(task_id=task(state, "t1").id, reset=True))
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert tasks(state) == [("t1", "SUCCESS"), ("t2", "SUCCESS")]


def test_rerun_with_items_without_reset_reruns_only_failed_items() -> None:
    calls: list[int] = []
    broken = {2, 4}

    def item(inp: dict[str, object]) -> ActionResult:
        x = int(str(inp["x"]))
        calls.append(x)
        return ActionResult(error=f"{x} failed") if x in broken else ActionResult(data=x)

    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in [1, 2, 3, 4]
      action: my.item
      input: {x: <% $.x %>}
      publish: {r: <% task().result %>}
""")
    sim.actions["my.item"] = item
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.ERROR
    broken.clear()
    calls.clear()
    sim.send(wf_id, RerunRequested(task_id=task(state, "t").id, reset=False))
    sim.run()
    assert sorted(calls) == [2, 4]
    assert state.workflow.state is State.SUCCESS
    assert task(state, "t").published == {"r": [1, 2, 3, 4]}


def test_skip_failed_task_follows_on_success() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.fail
      on-success: t2
    t2:
      action: std.noop
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    sim.send(wf_id, SkipRequested(task_id=task(state, "t1").id))
    sim.run()
    assert tasks(state) == [("t1", "SKIPPED"), ("t2", "SUCCESS")]
    assert state.workflow.state is State.SUCCESS


def test_a_child_params_say_where_it_hangs() -> None:
    # Mistral's sub-execution params: the root execution, the parent task execution
    # and the with-items index, beside the namespace and the inherited env.
    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      with-items: n in [1, 2]
      workflow: child x=<% $.n %>
child:
  input: [x]
  tasks:
    t:
      action: std.echo output=<% $.x %>
""")
    state = sim.execute("parent", params={"env": {"a": 1}})
    assert state.workflow.state is State.SUCCESS
    call = task(state, "call")
    children = sorted(
        (s.workflow for s in sim.states.values() if s is not state), key=lambda w: w.input["x"]
    )
    assert [c.params for c in children] == [
        {
            "root_execution_id": state.workflow.id,
            "task_execution_id": call.id,
            "index": i,
            "env": {"a": 1},
            "namespace": "",
        }
        for i in (0, 1)
    ]
