"""Tasks that cannot run or complete fail the workflow, as Mistral's force-fail does:
an expression of the input, with-items, policies or publish that fails, or an action
that cannot start. The task's retry, on-error and on-complete do not apply."""

from __future__ import annotations

import pytest

from meltemi.engine import State
from tests.unit.engine.sim import Simulator, task, tasks

TEMPLATE = """
version: '2.0'
wf:
  tasks:
    t:
{body}
      retry: {{count: 2, delay: 0}}
      on-error: handler
      on-complete: after
    handler:
      action: std.noop
    after:
      action: std.noop
"""

BODIES = {
    "input": "      action: std.echo output=<% $.missing.key %>",
    "with-items": "      with-items: x in <% 5 %>\n      action: std.noop",
    "lists of other lengths": "      with-items:\n        - x in [1, 2]\n"
    "        - y in [1]\n      action: std.noop",
    "policy": "      action: std.noop\n      timeout: <% $.missing.key %>",
    "publish": "      action: std.noop\n      publish: {a: <% $.missing.key %>}",
    "publish-on-error": "      action: std.fail\n      publish-on-error: {a: <% $.missing.key %>}",
    "fail-on": "      action: std.noop\n      fail-on: <% $.missing.key %>",
    "unknown action": "      action: std.nosuch",
}


@pytest.mark.parametrize("what", list(BODIES))
def test_a_task_that_cannot_run_or_complete_fails_the_workflow(what: str) -> None:
    sim = Simulator.from_yaml(TEMPLATE.format(body=BODIES[what]))
    state = sim.execute("wf")
    assert state.workflow.state is State.ERROR
    assert tasks(state) == [("t", "ERROR")]
    failed = task(state, "t")
    assert failed.retry_no == 0
    if what in ("input", "policy", "unknown action"):
        assert failed.result == []  # no action ran
    assert failed.state_info
    assert failed.state_info in (state.workflow.state_info or "")


def test_the_failure_reaches_the_parent_as_a_failed_sub_workflow() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
parent:
  tasks:
    call:
      workflow: child
      on-error: handler
    handler:
      action: std.noop
child:
  tasks:
    t:
      action: std.echo output=<% $.missing.key %>
      on-error: noop
""")
    state = sim.execute("parent")
    assert state.workflow.state is State.SUCCESS
    assert tasks(state) == [("call", "ERROR"), ("handler", "SUCCESS")]


def test_a_failed_join_has_an_empty_list_as_result() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    a:
      action: std.fail
      on-success: j
      on-error: noop
    b:
      action: std.noop
      on-success: j
    j:
      join: all
      action: std.noop
      on-error: after
    after:
      action: std.noop
      publish: {r: <% task(j).result %>}
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert task(state, "after").published == {"r": []}
