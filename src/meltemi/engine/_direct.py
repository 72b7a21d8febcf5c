"""Direct workflows: which tasks run next after a task completes, and joins.

After a task completes, its on-error / on-skip / on-success / on-complete clauses
are evaluated (conditions against the task's outbound context) and every matching
target fires. A failed task is "handled" when at least one on-error transition fired.

A join task has one execution per workflow execution. Each inbound task either
reaches it (completes with a transition to it) or misses it (completes without one,
or can never run because no path leads to it any more). The state keeps these
counts as tasks are processed, so deciding a join costs O(1) per inbound task: the
join starts when enough inbound tasks arrived and fails when too many missed.
"""

from __future__ import annotations

import json

from meltemi.engine import _tasks, _workflow, dataflow
from meltemi.engine._step import Step
from meltemi.engine.records import JsonValue, TaskExecution, Trigger
from meltemi.engine.states import State
from meltemi.expressions import EvaluationError
from meltemi.lang import ClauseKind, EngineCommand

_SHOWN_NAMES = 20


def start(step: Step) -> None:
    for name in step.spec.start_tasks():
        enter(step, name, None)


def enter(step: Step, name: str, trigger: Trigger | None) -> None:
    """A transition reached task ``name``: run a new execution of it (joins wait)."""
    if step.wf.is_completed:
        return  # a fail/succeed transition ended the workflow: nothing more starts
    if step.spec.task(name).join is not None:
        return  # joins are decided from the state's progress, see evaluate_joins()
    task = _tasks.create(step, name, (trigger,) if trigger else ())
    _tasks.run(step, task)


Fired = tuple[str, dict[str, JsonValue], str]


def _fired(step: Step, task: TaskExecution) -> list[Fired]:
    """(target, params, event) of every transition that fires, in Mistral's order."""
    spec = step.spec
    task_spec = spec.task(task.name)
    scope = dataflow.transition_scope(step.state, task)
    fired: list[Fired] = []

    def collect(kind: ClauseKind) -> None:
        for transition in spec.transitions(task_spec, kind):
            if transition.condition is not None and not dataflow.evaluate(
                step.state, transition.condition, scope, task
            ):
                continue
            params = (
                dataflow.evaluate(step.state, dict(transition.params), scope, task)
                if transition.params
                else {}
            )
            fired.append((transition.target, params if isinstance(params, dict) else {}, kind))

    if task.state is State.ERROR:
        collect(ClauseKind.ON_ERROR)
    skip_unmatched = False
    if task.state is State.SKIPPED:
        collect(ClauseKind.ON_SKIP)
        skip_unmatched = not fired
    if task.state is State.SUCCESS or skip_unmatched:
        collect(ClauseKind.ON_SUCCESS)
    if task.state in (State.SUCCESS, State.ERROR):
        collect(ClauseKind.ON_COMPLETE)
    return fired


def on_task_completed(step: Step, task: TaskExecution, *, resuming: bool = False) -> None:
    """Evaluates a completed task's transitions and starts what they lead to (when
    ``resuming``, without its 'pause' commands)."""
    try:
        fired = _fired(step, task)
    except EvaluationError as e:
        # As in Mistral, which force-fails the task: the task ends in ERROR with the
        # reason, and the workflow fails with it (an on-error clause cannot handle it).
        message = f"Failed to evaluate the transitions of task '{task.name}': {e}"
        step.put_task(task.evolve(state=State.ERROR, state_info=message, processed=True))
        _workflow.fail(step, message)
        return
    next_tasks = tuple(
        (target, str(event)) for target, _params, event in fired if target not in _COMMANDS
    )
    handled = task.state is State.ERROR and any(e is ClauseKind.ON_ERROR for *_x, e in fired)
    task = step.put_task(task.evolve(next_tasks=next_tasks, error_handled=handled, processed=True))
    held: list[tuple[str, str]] = []
    paused = False  # by a 'pause' command here (not by a task's pause-before policy)
    for target, params, event in _arrange(fired):
        if resuming and target == EngineCommand.PAUSE:
            continue
        if paused:  # as Mistral's backlog: the rest runs on resume (commands too)
            held.append((target, json.dumps(params) if target in _COMMANDS else str(event)))
        elif target in _COMMANDS:
            _workflow.engine_command(step, EngineCommand(target), params, task)
            paused = step.wf.state is State.PAUSED
        else:
            enter(step, target, Trigger(task_id=task.id, event=str(event)))
    if held:
        step.put_task(step.state.task(task.id).evolve(held=tuple(held)))
    evaluate_joins(step)


def release_held(step: Step) -> None:
    """On resume: starts the transitions a 'pause' command held back (or carries out
    the engine commands it held), then the joins they reach."""
    for task in [t for t in step.state.iter_tasks() if t.held]:
        remaining = list(task.held)
        while remaining and step.wf.state is State.RUNNING:
            target, detail = remaining.pop(0)
            current = step.put_task(step.state.task(task.id).evolve(held=tuple(remaining)))
            if target in _COMMANDS:
                params = json.loads(detail)
                _workflow.engine_command(step, EngineCommand(target), params, current)
            else:
                enter(step, target, Trigger(task_id=task.id, event=detail))
    evaluate_joins(step)


_COMMANDS = frozenset(c.value for c in EngineCommand)


def _arrange(fired: list[Fired]) -> list[Fired]:
    """Mistral's ordering: a fail/succeed first wins alone; tasks before a command run
    first; after a pause, the remaining tasks are held until the workflow resumes."""
    commands = [f for f in fired if f[0] != EngineCommand.NOOP]
    for i, (target, _params, _event) in enumerate(commands):
        if target in _COMMANDS:
            if i == 0 and target != EngineCommand.PAUSE:
                return commands[:1]
            if target == EngineCommand.PAUSE:
                return commands
            return commands[: i + 1]
    return commands


def evaluate_joins(step: Step) -> None:
    if step.wf.state is State.PAUSED:
        return  # decided on resume (the joins stay touched)
    for name in step.state.take_touched_joins():
        if not step.wf.is_completed:
            _evaluate_join(step, name)


def _evaluate_join(step: Step, name: str) -> None:
    state = step.state
    arrived, missed = state.join_progress(name)
    task = state.latest(name)
    join = step.spec.task(name).join
    inbound = step.spec.inbound(name)
    total = len(inbound)
    needed = total if join == "all" or join is None else join
    if task is not None and task.state is not State.WAITING:
        # One join execution per workflow execution, decided once; but a join that
        # failed for its inbound paths opens again when a rerun makes it reachable
        # (Mistral puts it back to WAITING when a transition arrives).
        if not (is_failed_join(task) and len(missed) <= total - needed):
            return
        task = step.put_task(reopened(task))
    if task is None and not arrived:
        return
    if task is None:
        task = _tasks.create(step, name, (), state=State.WAITING)
    if len(arrived) >= needed:
        triggers = tuple(Trigger(task_id=tid, event=event) for tid, event in arrived.values())
        task = step.put_task(task.evolve(state=State.IDLE, state_info=None, triggered_by=triggers))
        _tasks.run(step, task)
        return
    if len(missed) > total - needed:
        failed = [n for n in inbound if n in missed]  # in definition order, as Mistral
        if join == "all":
            # As in Mistral, a failed 'join: all' is "triggered" by the inbound task
            # executions that completed without a transition to it.
            ran = [t for t in map(state.latest, failed) if t is not None]
            triggers = tuple(Trigger(task_id=t.id, event=dataflow.NOT_TRIGGERED) for t in ran)
            task = step.put_task(task.evolve(triggered_by=triggers))
        _tasks.complete(step, task, State.ERROR, f"{_JOIN_FAILURE}: {failed}", result=[])
        return
    waiting = total - len(arrived) - len(missed)
    if total <= _SHOWN_NAMES:
        blocked = [n for n in inbound if n not in arrived and n not in missed]
        info = f"Blocked by tasks: {blocked}"
    else:
        info = f"Blocked by {waiting} tasks"
    if task.state_info != info:
        step.put_task(task.evolve(state_info=info))


_JOIN_FAILURE = "Failed by tasks"


def is_failed_join(task: TaskExecution) -> bool:
    """A join that failed because its inbound paths cannot all arrive (it never ran)."""
    return task.state is State.ERROR and (task.state_info or "").startswith(_JOIN_FAILURE)


def reopened(task: TaskExecution) -> TaskExecution:
    """A failed join waiting again."""
    return task.evolve(
        state=State.WAITING,
        state_info=None,
        processed=False,
        error_handled=False,
        finished_at=None,
    )


def fail_stuck_joins(step: Step) -> bool:
    """Fails joins that wait for tasks that can no longer run; True if any was failed.

    Called when nothing else is left to run, so that a workflow never hangs on a
    join (possible with loops, where reachability is not decided in advance).
    """
    if not step.state.only_waiting_left():
        return False
    stuck = step.state.incomplete_tasks()
    for task in sorted(stuck, key=lambda t: t.seq):
        arrived, _missed = step.state.join_progress(task.name)
        missing = sorted(n for n in step.spec.inbound(task.name) if n not in arrived)
        _tasks.complete(step, task, State.ERROR, f"{_JOIN_FAILURE}: {missing}", result=[])
    return True
