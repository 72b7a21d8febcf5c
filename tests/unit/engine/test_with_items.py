"""with-items: one or several lists, concurrency, failures, results in order."""

from __future__ import annotations

from meltemi.engine import ActionResult, RunAction, State
from tests.unit.engine.sim import Simulator, task


def test_results_are_ordered_by_index() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [names]
  tasks:
    greet:
      with-items: name in <% $.names %>
      action: std.echo output="hi <% $.name %>"
      publish: {greetings: <% task().result %>}
""")
    state = sim.execute("wf", {"names": ["a", "b", "c"]})
    assert task(state, "greet").published == {"greetings": ["hi a", "hi b", "hi c"]}


def test_several_lists_iterate_in_lockstep_and_must_match() -> None:
    text = """
version: '2.0'
wf:
  input: [xs, ys]
  tasks:
    t:
      with-items:
        - x in <% $.xs %>
        - y in <% $.ys %>
      action: std.echo output="<% $.x %><% $.y %>"
      publish: {r: <% task().result %>}
"""
    ok = Simulator.from_yaml(text).execute("wf", {"xs": [1, 2], "ys": ["a", "b"]})
    assert task(ok, "t").published == {"r": ["1a", "2b"]}
    bad = Simulator.from_yaml(text).execute("wf", {"xs": [1, 2], "ys": ["a"]})
    assert task(bad, "t").state is State.ERROR
    assert "same length" in (task(bad, "t").state_info or "")


def test_empty_list_succeeds_with_empty_result() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% [] %>
      action: std.fail
      publish: {r: <% task().result %>}
""")
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert task(state, "t").published == {"r": []}


def test_concurrency_limits_runs_in_flight() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in <% range(10) %>
      concurrency: 3
      action: my.held
""",
        hold={"my.held"},
    )
    wf_id = sim.start("wf")
    assert len(sim.held) == 3
    seen_max = 3
    while sim.held:
        run_id = next(iter(sim.held))
        sim.complete(run_id, ActionResult(data=1))
        seen_max = max(seen_max, len(sim.held))
    assert seen_max == 3
    assert sim.states[wf_id].workflow.state is State.SUCCESS
    assert len([c for c in sim.log if isinstance(c, RunAction)]) == 10


def test_a_failed_item_fails_the_task_after_all_items_ran() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in [1, 2, 3]
      action: my.maybe
      input: {x: <% $.x %>}
""")
    sim.actions["my.maybe"] = lambda inp: (
        ActionResult(error="two is bad") if inp.get("x") == 2 else ActionResult(data=inp)
    )
    state = sim.execute("wf")
    t = task(state, "t")
    assert t.state is State.ERROR
    assert t.state_info == "One or more actions had failed."
    assert len(state.runs_of(t.id)) == 3
    assert "item 1: two is bad" in (state.workflow.state_info or "")


def test_keep_result_false_keeps_one_empty_result_per_item() -> None:
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in [1, 2]
      action: std.echo output=<% $.x %>
      keep-result: false
      publish: {r: <% task().result %>}
      on-success: u
    u:
      action: std.noop
      publish: {later: <% task(t).result %>}
""")
    state = sim.execute("wf")
    assert task(state, "t").published == {"r": [1, 2]}
    assert task(state, "u").published == {"later": [None, None]}


def test_a_timed_out_task_has_the_results_of_the_items_that_finished() -> None:
    sim = Simulator.from_yaml(
        """
version: '2.0'
wf:
  tasks:
    t:
      with-items: x in [1, 2]
      action: <% $.x = 2 and 'my.held' or 'std.echo' %>
      input: {output: <% $.x %>}
      timeout: 1
      publish-on-error: {r: <% task().result %>}
      on-error: noop
""",
        hold={"my.held"},
    )
    state = sim.execute("wf")
    assert state.workflow.state is State.SUCCESS
    assert task(state, "t").state is State.ERROR
    assert task(state, "t").published == {"r": [1]}


def test_the_work_per_item_does_not_grow_with_the_items(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Counted, not timed: how many runs the engine looks at over a whole with-items
    # task. Looking at every run at each item's end (quadratic) would be n * n / 2.
    from meltemi.engine.state import ExecutionState

    looked_at = 0
    runs_of = ExecutionState.runs_of

    def counting(self: ExecutionState, task_id: str) -> list:  # type: ignore[type-arg]
        nonlocal looked_at
        found = runs_of(self, task_id)
        looked_at += len(found)
        return found

    monkeypatch.setattr(ExecutionState, "runs_of", counting)
    n = 2000
    sim = Simulator.from_yaml("""
version: '2.0'
wf:
  input: [xs]
  tasks:
    each:
      with-items: x in <% $.xs %>
      concurrency: 10
      action: std.echo output=<% $.x %>
""")
    state = sim.execute("wf", {"xs": list(range(n))})
    assert task(state, "each").state is State.SUCCESS
    assert looked_at < 5 * n
