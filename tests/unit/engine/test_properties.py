"""Property-based tests of the pure engine on random direct workflows.

Random DAGs of tasks with random on-success / on-error / on-complete transitions,
joins (all, one, N) and random action outcomes. Whatever the shape, every run ends;
no task is left running or waiting; joins run at most once and only when enough
inbound tasks reached them; the workflow fails exactly when a task failed without a
fired on-error transition (or a join failed).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meltemi.engine import ActionResult, State
from tests.unit.engine.sim import Simulator


@dataclass(frozen=True)
class Shape:
    size: int
    edges: tuple[tuple[int, int, str], ...]  # (from, to, clause)
    joins: tuple[tuple[int, str], ...]  # (task, join value)
    failing: frozenset[int]


@st.composite
def shapes(draw: st.DrawFn) -> Shape:
    size = draw(st.integers(min_value=2, max_value=12))
    edges = []
    for target in range(1, size):
        sources = draw(st.sets(st.integers(0, target - 1), min_size=0, max_size=3))
        for source in sorted(sources):
            clause = draw(st.sampled_from(["on-success", "on-error", "on-complete"]))
            edges.append((source, target, clause))
    inbound: dict[int, int] = {}
    for _s, t, _c in edges:
        inbound[t] = inbound.get(t, 0) + 1
    joins = []
    for task, count in sorted(inbound.items()):
        if count >= 2 and draw(st.booleans()):
            joins.append((task, draw(st.sampled_from(["all", "one", str(max(1, count - 1))]))))
    failing = draw(st.frozensets(st.integers(0, size - 1), max_size=size))
    return Shape(size, tuple(edges), tuple(joins), failing)


def _document(shape: Shape) -> str:
    lines = ["version: '2.0'", "wf:", "  tasks:"]
    joins = dict(shape.joins)
    for task in range(shape.size):
        lines.append(f"    t{task}:")
        lines.append(f"      action: {'std.fail' if task in shape.failing else 'std.noop'}")
        if task in joins:
            lines.append(f"      join: {joins[task]}")
        clauses: dict[str, list[str]] = {}
        for source, target, clause in shape.edges:
            if source == task:
                clauses.setdefault(clause, []).append(f"t{target}")
        for clause, targets in clauses.items():
            lines.append(f"      {clause}: [{', '.join(targets)}]")
    return "\n".join(lines) + "\n"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shapes())
def test_random_workflows_end_consistently(shape: Shape) -> None:
    sim = Simulator.from_yaml(_document(shape))
    sim.actions["std.fail"] = lambda inp: ActionResult(error="boom")
    state = sim.execute("wf")
    wf = state.workflow
    assert wf.state in (State.SUCCESS, State.ERROR)
    assert state.incomplete_count() == 0
    for task in state.iter_tasks():
        assert task.is_completed, (task.name, task.state)
        assert task.processed
    joins = dict(shape.joins)
    for index, value in joins.items():
        runs = [t for t in state.iter_tasks() if t.name == f"t{index}"]
        assert len(runs) <= 1
        if runs and runs[0].state is State.SUCCESS:
            needed = (
                len([e for e in shape.edges if e[1] == index])
                if value == "all"
                else (1 if value == "one" else int(value))
            )
            assert len(runs[0].triggered_by) >= needed
    fired: dict[str, int] = {}
    for task in state.iter_tasks():
        for target, _event in task.next_tasks:
            fired[target] = fired.get(target, 0) + 1
    for index in range(shape.size):
        name = f"t{index}"
        if index in joins:
            continue
        executions = sum(1 for t in state.iter_tasks() if t.name == name)
        is_start = not any(e[1] == index for e in shape.edges)
        assert executions == fired.get(name, 0) + (1 if is_start else 0), name
    unhandled = [t for t in state.iter_tasks() if t.state is State.ERROR and not t.error_handled]
    assert (wf.state is State.ERROR) == bool(unhandled), (wf.state_info, unhandled)
