"""Task policies: retry, wait-before, wait-after, timeout, pause-before, fail-on, keep-result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from meltemi.engine import ActionResult, ResumeRequested, RunAction, State
from tests.unit.engine.sim import DEFAULT_ACTIONS, Simulator, task, tasks


def _flaky(failures: int) -> Any:
    calls = {"n": 0}

    def action(inp: dict[str, Any]) -> ActionResult:
        calls["n"] += 1
        if calls["n"] <= failures:
            return ActionResult(error=f"attempt {calls['n']} failed")
        return ActionResult(data=calls["n"])

    return action, calls


def test_retry_until_success_with_delay() -> None:
    action, calls = _flaky(2)
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t1:
      action: my.flaky
      retry:
        count: 5
        delay: 10
      publish: {attempts: <% task().result %>}
""",
        actions={**DEFAULT_ACTIONS, "my.flaky": action},
    )
    start = sim.now
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert calls["n"] == 3
    assert task(state, "t1").retry_no == 2
    assert task(state, "t1").published == {"attempts": 3}
    assert sim.now - start == timedelta(seconds=20)


def test_retry_gives_up_after_count() -> None:
    action, calls = _flaky(10)
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t1:
      action: my.flaky
      retry: count=2 delay=0
""",
        actions={**DEFAULT_ACTIONS, "my.flaky": action},
    )
    state = sim.execute("wf")
    assert calls["n"] == 3
    assert task(state, "t1").state_info == "attempt 3 failed"
    assert state.workflow.state is State.ERROR


def test_retry_break_on_and_continue_on() -> None:
    action, calls = _flaky(10)
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t1:
      action: my.flaky
      retry:
        count: 5
        delay: 1
        break-on: <% task().result = 'attempt 2 failed' %>
""",
        actions={**DEFAULT_ACTIONS, "my.flaky": action},
    )
    sim.execute("wf")
    assert calls["n"] == 2

    counter = {"n": 0}

    def count(inp: dict[str, Any]) -> ActionResult:
        counter["n"] += 1
        return ActionResult(data=counter["n"])

    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t1:
      action: my.count
      retry:
        count: 10
        delay: 1
        continue-on: <% task().result < 4 %>
""",
        actions={**DEFAULT_ACTIONS, "my.count": count},
    )
    state = sim.execute("wf")
    assert counter["n"] == 4
    assert state.workflow.state is State.SUCCESS


def test_wait_before_and_wait_after_delay_the_task() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      wait-before: 5
      wait-after: 7
      on-success: t2
    t2:
      action: std.noop
""")
    start = sim.now
    wf_id = sim.start("wf")
    state = sim.states[wf_id]
    assert task(state, "t1").state is State.DELAYED
    assert task(state, "t1").state_info == "Delayed by 'wait-before' policy [delay=5]"
    sim.run()
    assert state.workflow.state is State.SUCCESS
    assert sim.now - start == timedelta(seconds=12)


def test_timeout_fails_a_slow_task_and_cancels_its_action() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    slow:
      action: my.slow
      timeout: 30
      on-error: after
    after:
      action: std.noop
""",
        hold={"my.slow"},
    )
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert task(state, "slow").state is State.ERROR
    assert task(state, "slow").state_info == "Task timed out [timeout(s)=30]."
    assert not sim.held
    assert state.workflow.state is State.SUCCESS


def test_pause_before_pauses_until_resumed() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      on-success: t2
    t2:
      pause-before: true
""")
    wf_id = sim.start("wf")
    sim.run()
    state = sim.states[wf_id]
    assert state.workflow.state is State.PAUSED
    assert task(state, "t2").state is State.IDLE
    assert task(state, "t2").state_info == "Set by 'pause-before' policy"
    sim.send(wf_id, ResumeRequested())
    sim.run()
    assert state.workflow.state is State.SUCCESS


def test_fail_on_turns_success_into_error() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output=3
      fail-on: <% task().result > 2 %>
""")
    state = sim.execute("wf")
    assert task(state, "t1").state is State.ERROR
    assert task(state, "t1").state_info == "Failed by 'fail-on' policy"


def test_keep_result_false_publishes_then_drops_the_result() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo output="big"
      keep-result: false
      publish: {kept: <% task().result %>}
""")
    state = sim.execute("wf")
    assert task(state, "t1").published == {"kept": "big"}
    assert task(state, "t1").result is None


def test_task_defaults_policies_apply_when_task_does_not_switch_on() -> None:
    action, calls = _flaky(1)
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  task-defaults:
    retry: {count: 3, delay: 0}
  tasks:
    t1:
      action: my.flaky
""",
        actions={**DEFAULT_ACTIONS, "my.flaky": action},
    )
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert calls["n"] == 2


def test_action_defaults_from_env() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t1:
      action: std.echo
      publish: {r: <% task().result %>}
""")
    state = sim.execute("wf", params={"env": {"__actions": {"std.echo": {"output": "dflt"}}}})
    assert task(state, "t1").published == {"r": "dflt"}
    commands = [c for c in sim.log if isinstance(c, RunAction)]
    assert commands[0].input == {"output": "dflt"}
    assert tasks(state) == [("t1", "SUCCESS")]


def test_retry_does_not_rerun_a_join_failed_by_its_inbound_tasks() -> None:
    # In Mistral, retrying a join only decides it again; its inbound tasks are done,
    # so the join fails again and stays in ERROR (it never runs).
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  task-defaults:
    retry: {count: 1, delay: 0}
  tasks:
    t1:
      on-success: joined
    t2:
      action: std.fail
      on-success: joined
    joined:
      join: all
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.ERROR
    assert task(state, "t2").state is State.ERROR
    assert task(state, "joined").state is State.ERROR
    assert [n for n, _s in tasks(state)].count("joined") == 1


def test_concurrency_from_an_expression_is_checked_without_with_items() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [c]
  tasks:
    t1:
      action: std.echo output=1
      concurrency: <% $.c %>
""")
    assert sim.execute("wf", {"c": 2}).workflow.state is State.SUCCESS
    state = sim.execute("wf", {"c": -1})
    assert state.workflow.state is State.ERROR
    assert task(state, "t1").state is State.ERROR
    assert "concurrency" in (task(state, "t1").state_info or "")


def test_a_negative_retry_count_fails_the_task_before_its_action_runs() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [n]
  tasks:
    t1:
      action: std.echo output=1
      retry:
        count: <% $.n %>
        delay: 0
""")
    state = sim.execute("wf", {"n": -1})
    assert state.workflow.state is State.ERROR
    assert task(state, "t1").state is State.ERROR
    assert not [c for c in sim.log if isinstance(c, RunAction)]
