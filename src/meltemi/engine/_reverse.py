"""Reverse workflows: run what the target task requires, in dependency order."""

from __future__ import annotations

from meltemi.engine import _tasks
from meltemi.engine._step import Step
from meltemi.engine.records import TaskExecution, Trigger
from meltemi.engine.states import State
from meltemi.lang import WorkflowSpec


def needed(spec: WorkflowSpec, target: str) -> dict[str, tuple[str, ...]]:
    """The target and every task it requires, directly or not, with their requires."""
    result: dict[str, tuple[str, ...]] = {}
    stack = [target]
    while stack:
        name = stack.pop()
        if name in result or name not in spec.tasks:
            continue
        requires = tuple(r for r in spec.requires(spec.tasks[name]) if r in spec.tasks)
        result[name] = requires
        stack.extend(requires)
    return result


def _needed(step: Step) -> dict[str, tuple[str, ...]]:
    target = str(step.wf.params.get("task_name") or "")
    cached = step.state.contexts.get("reverse:needed")
    if cached is not None and cached[0] == target:
        return cached[1]  # type: ignore[no-any-return]  # (target, needed) pair
    result = needed(step.spec, target)
    step.state.contexts["reverse:needed"] = (target, result)
    return result


def start(step: Step) -> None:
    for name, requires in _needed(step).items():
        if not requires:
            _tasks.run(step, _tasks.create(step, name, ()))


def on_task_completed(step: Step, task: TaskExecution) -> None:
    tasks = _needed(step)
    dependents = [name for name, requires in tasks.items() if task.name in requires]
    next_tasks = (
        tuple((name, "on-success") for name in dependents) if task.state is State.SUCCESS else ()
    )
    step.put_task(task.evolve(next_tasks=next_tasks, processed=True))
    if task.state is not State.SUCCESS or step.wf.is_completed:
        return
    for name in dependents:
        if step.state.latest(name) is not None:
            continue
        upstream = [step.state.latest(r) for r in tasks[name]]
        if all(u is not None and u.state is State.SUCCESS for u in upstream):
            triggers = tuple(
                Trigger(task_id=u.id, event="on-success") for u in upstream if u is not None
            )
            _tasks.run(step, _tasks.create(step, name, triggers))
