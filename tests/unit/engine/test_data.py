"""Data in workflows: vars, input defaults, env, execution(), task(), globals."""

from __future__ import annotations

import pytest

from meltemi.engine import RunAction, StartWorkflow, State, WorkflowInputError
from tests.unit.engine.sim import Simulator, task


def test_vars_are_evaluated_from_input_and_env() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input:
    - base: 10
  vars:
    doubled: <% $.base * 2 %>
    region: <% env().region %>
  tasks:
    t:
      action: std.echo output="<% $.doubled %>-<% $.region %>"
      publish: {r: <% task().result %>}
""")
    state = sim.execute("wf", params={"env": {"region": "eu"}})
    assert task(state, "t").published == {"r": "20-eu"}


def test_execution_and_task_functions() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [x]
  tasks:
    a:
      action: std.echo output="a-out"
      on-success: b
    b:
      action: std.noop
      publish:
        exec_id: <% execution().id %>
        exec_input: <% execution().input %>
        a_result: <% task(a).result %>
        a_state: <% task(a).state %>
        me: <% task().name %>
""")
    state = sim.execute("wf", {"x": 1})
    assert task(state, "b").published == {
        "exec_id": state.workflow.id,
        "exec_input": {"x": 1},
        "a_result": "a-out",
        "a_state": "SUCCESS",
        "me": "b",
    }


def test_execution_and_task_specs_are_the_definition_as_mistral_keeps_it() -> None:
    """In Mistral, execution().spec is the workflow's mapping as written plus its name
    and version, and task().spec the task's, plus its name, version and the workflow
    type (inline action parameters stay text)."""
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input:
    - k1
    - k2: v2
  tasks:
    a:
      action: std.echo output=1
      publish:
        wf_spec: <% execution().spec %>
        a_spec: <% task().spec %>
""")
    state = sim.execute("wf", {"k1": 1})
    published = task(state, "a").published
    a_spec = {
        "action": "std.echo output=1",
        "publish": {"wf_spec": "<% execution().spec %>", "a_spec": "<% task().spec %>"},
        "name": "a",
        "version": "2.0",
        "type": "direct",
    }
    assert published["a_spec"] == a_spec
    assert published["wf_spec"] == {
        "input": ["k1", {"k2": "v2"}],
        "tasks": {"a": a_spec},
        "name": "wf",
        "version": "2.0",
    }


def test_later_publish_wins_along_a_path_and_branches_see_their_own() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      publish: {v: 1}
      on-success: [b, c]
    b:
      action: std.noop
      publish: {v: 2}
      on-success: j
    c:
      action: std.noop
      publish: {seen_by_c: <% $.v %>}
      on-success: j
    j:
      join: all
      action: std.noop
      publish: {joined: <% $.v %>}
""")
    state = sim.execute("wf")
    assert task(state, "c").published == {"seen_by_c": 1}
    assert task(state, "j").published == {"joined": 2}


def test_atomic_publish_is_visible_like_global() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    a:
      action: std.noop
      on-complete:
        publish:
          atomic: {counter: 5}
        next: b
    b:
      action: std.echo output=<% global(counter) %>
      publish: {r: <% task().result %>}
""")
    assert task(sim.execute("wf"), "b").published == {"r": 5}


def test_target_and_sub_workflow_reach_the_commands() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [host]
  tasks:
    a:
      action: std.echo output=1
      target: <% $.host %>
      on-success: b
    b:
      workflow: other
other:
  tasks:
    t:
      action: std.noop
""")
    wf_id = sim.start("wf", {"host": "worker-1"})
    sim.run()
    actions = [c for c in sim.log if isinstance(c, RunAction)]
    assert actions[0].target == "worker-1"
    starts = [c for c in sim.log if isinstance(c, StartWorkflow)]
    assert starts[0].workflow == "other"
    assert starts[0].root_id == wf_id
    assert sim.states[wf_id].workflow.state is State.SUCCESS


ENV_WORKFLOWS = """
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      publish: {seen: <% task().result.seen %>}
child:
  tasks:
    t:
      action: std.noop
      publish:
        seen: <% env().dummy %>
  output:
    seen: <% $.seen %>
wf:
  tasks:
    t:
      action: std.noop
      publish:
        var1: <% env().var1 %>
        var2: <% env().var2 %>
"""


def test_env_values_are_expressions_evaluated_at_start() -> None:
    sim = Simulator.from_yaml(ENV_WORKFLOWS)
    env = {"var1": "val1", "var2": "<% env().var1 %>", "nested": ["{{ 1 + 1 }}"]}
    state = sim.execute("wf", params={"env": env})
    assert task(state, "t").published == {"var1": "val1", "var2": "val1"}
    assert state.workflow.env == {"var1": "val1", "var2": "val1", "nested": [2]}
    assert env["var2"] == "<% env().var1 %>"  # the request is left as it was


def test_evaluate_env_false_keeps_the_text() -> None:
    sim = Simulator.from_yaml(ENV_WORKFLOWS)
    env = {"var1": "val1", "var2": "<% env().var1 %>"}
    state = sim.execute("wf", params={"env": env, "evaluate_env": False})
    assert task(state, "t").published == {"var1": "val1", "var2": "<% env().var1 %>"}


def test_sub_workflows_inherit_the_env_and_the_choice() -> None:
    sim = Simulator.from_yaml(ENV_WORKFLOWS)
    kept = "<% $.NOT.EVALUATED %>"
    state = sim.execute("parent", params={"env": {"dummy": kept}, "evaluate_env": False})
    assert state.workflow.state is State.SUCCESS
    assert task(state, "call").published == {"seen": kept}
    state = sim.execute("parent", params={"env": {"dummy": "<% 1 + 1 %>"}})
    assert task(state, "call").published == {"seen": 2}


def test_an_env_expression_that_fails_refuses_the_start() -> None:
    sim = Simulator.from_yaml(ENV_WORKFLOWS)
    with pytest.raises(WorkflowInputError, match=r"^Failed to evaluate the env:"):
        sim.execute("wf", params={"env": {"bad": "<% $.nope.deeper %>"}})
    assert sim.states == {}


def test_a_vars_expression_that_fails_refuses_the_start() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  vars:
    a: 1
    b: <% $.a + 1 %>
  tasks:
    t:
      action: std.noop
""")
    with pytest.raises(WorkflowInputError, match=r"^Failed to evaluate the workflow vars:"):
        sim.execute("wf")
    assert sim.states == {}


FAILING_TREE = """
version: '2.0'
parent:
  tasks:
    prepare:
      action: std.noop
      on-success: deploy
    deploy:
      workflow: child
      on-error: report
    report:
      action: std.noop
      publish:
        failed: <% tasks(execution().id, true, ERROR).select([$.name, $.state_info]) %>
        flat: <% tasks(execution().id, true, ERROR, true).select($.name) %>
        mine: <% tasks(execution().id).select($.name) %>
        everywhere: <% tasks().len() %>
        running: <% executions(state => RUNNING).select($.name) %>
        me: <% executions(execution().id).select([$.id, $.state]) %>
child:
  tasks:
    ok:
      action: std.noop
      on-success: broken
    broken:
      action: std.fail error_data="disk full"
"""


def test_tasks_and_executions_see_sub_workflows_and_other_executions() -> None:
    sim = Simulator.from_yaml(FAILING_TREE)
    state = sim.execute("parent")
    published = task(state, "report").published
    (deploy, deploy_info), (broken, broken_info) = published["failed"]
    assert (deploy, broken, broken_info) == ("deploy", "broken", "disk full")
    assert "broken -> disk full" in deploy_info
    assert published["flat"] == ["broken"]  # deploy is in the state of its sub-workflow
    assert published["mine"] == ["prepare", "deploy", "report"]
    assert published["everywhere"] == 5  # three here, two in the sub-workflow
    assert published["running"] == ["parent"]
    assert published["me"] == [[state.workflow.id, "RUNNING"]]
