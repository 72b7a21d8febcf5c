"""The life of a workflow execution: start, completion, pause, resume, stop, rerun."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from meltemi.engine import _direct, _reverse, _tasks, dataflow
from meltemi.engine._step import Step
from meltemi.engine.commands import (
    NotifyParent,
    PauseWorkflow,
    ResumeWorkflow,
    StopWorkflow,
)
from meltemi.engine.errors import InvalidRequest, WorkflowInputError
from meltemi.engine.records import JsonValue, RunKind, TaskExecution, WorkflowExecution
from meltemi.engine.state import ExecutionState, StepContext
from meltemi.engine.states import State
from meltemi.expressions import EvaluationError
from meltemi.lang import EngineCommand, WorkflowSpec, WorkflowType

_MAX_ITEM_ERRORS = 5


@dataclass(frozen=True, slots=True, kw_only=True)
class StartRequest:
    """Everything needed to start a workflow execution (ids come from the host)."""

    id: str
    workflow_name: str
    spec_id: str
    workflow_id: str | None = None
    namespace: str = ""
    input: Mapping[str, JsonValue]
    params: Mapping[str, JsonValue]
    description: str = ""
    root_id: str | None = None
    parent_id: str | None = None
    task_execution_id: str | None = None
    run_index: int | None = None
    source_execution_id: str | None = None


def prepare_input(spec: WorkflowSpec, given: Mapping[str, JsonValue]) -> dict[str, JsonValue]:
    """The input with defaults applied; raises WorkflowInputError when it does not fit."""
    declared = {p.name: p for p in spec.input}
    missing = tuple(p.name for p in spec.input if p.required and p.name not in given)
    unexpected = tuple(k for k in given if k not in declared)
    if missing or unexpected:
        parts = []
        if missing:
            parts.append("missing " + ", ".join(f"'{m}'" for m in missing))
        if unexpected:
            parts.append("unexpected " + ", ".join(f"'{u}'" for u in unexpected))
        accepted = (
            ", ".join(p.name if p.required else f"{p.name} (optional)" for p in spec.input)
            or "no input"
        )
        raise WorkflowInputError(
            f"invalid input for workflow '{spec.name}': {'; '.join(parts)}. It accepts: {accepted}",
            missing=missing,
            unexpected=unexpected,
        )
    result = {p.name: p.default for p in spec.input if not p.required}
    result.update(given)
    return result


def _check_target(spec: WorkflowSpec, params: Mapping[str, JsonValue]) -> None:
    if spec.type is not WorkflowType.REVERSE:
        return
    target = params.get("task_name")
    tasks = ", ".join(spec.tasks)
    if not target:
        raise WorkflowInputError(
            f"reverse workflow '{spec.name}' needs a target task: pass params.task_name, "
            f"one of: {tasks}"
        )
    if target not in spec.tasks:
        raise WorkflowInputError(
            f"reverse workflow '{spec.name}' has no task '{target}'; its tasks are: {tasks}"
        )


def _split_child_input(
    spec: WorkflowSpec, request: StartRequest
) -> tuple[Mapping[str, JsonValue], dict[str, JsonValue]]:
    """The input and params of an execution.

    A sub-workflow task may pass keys its workflow does not declare: Mistral makes them
    the sub-execution's params instead of refusing them (so ``task_name`` picks a
    reverse sub-workflow's target, and ``env: <% env() %>`` is accepted). What the child
    inherits wins: its env stays the parent's, as Mistral's ``env()`` reads the root's.
    A top-level execution's input is taken as given (and checked).
    """
    if request.parent_id is None:
        return request.input, dict(request.params)
    declared = {p.name for p in spec.input}
    given = {k: v for k, v in request.input.items() if k in declared}
    extra = {k: v for k, v in request.input.items() if k not in declared}
    return given, {**extra, **request.params}


def start(spec: WorkflowSpec, request: StartRequest, ctx: StepContext) -> Step:
    """Creates and starts a workflow execution; raises WorkflowInputError for bad input."""
    given, params = _split_child_input(spec, request)
    workflow_input = prepare_input(spec, given)
    _check_target(spec, params)
    params.setdefault("env", {})
    params.setdefault("namespace", request.namespace)
    wf = WorkflowExecution(
        id=request.id,
        workflow_name=request.workflow_name,
        spec_id=request.spec_id,
        workflow_id=request.workflow_id,
        namespace=request.namespace,
        root_id=request.root_id or request.id,
        parent_id=request.parent_id,
        task_execution_id=request.task_execution_id,
        run_index=request.run_index,
        state=State.RUNNING,
        input=workflow_input,
        params=params,
        context={"__execution": {"id": request.id}},
        description=request.description,
        tags=spec.tags,
        source_execution_id=request.source_execution_id,
        created_at=ctx.now,
    )
    step = Step(ExecutionState(spec, wf), ctx)
    step.set_workflow(wf)
    _evaluate_env(step)
    if spec.vars:
        try:
            evaluated = dataflow.evaluate(
                step.state, dict(spec.vars), dataflow.workflow_scope(step.state, None), None
            )
        except EvaluationError as e:
            # As in Mistral, which refuses to start the execution (HTTP 400).
            raise WorkflowInputError(f"Failed to evaluate the workflow vars: {e}") from e
        if isinstance(evaluated, dict):
            step.set_workflow(step.wf.evolve(context={**step.wf.context, **evaluated}))
    if spec.type is WorkflowType.DIRECT:
        _direct.start(step)
    else:
        _reverse.start(step)
    step.drain()
    check_completion(step)
    return step


# -- completion ------------------------------------------------------------------------------


def task_completed(step: Step, task: TaskExecution, *, resuming: bool = False) -> None:
    """A task finished: follow its transitions (unless paused), then maybe finish.

    ``resuming``: the task finished while the workflow was paused; as in Mistral, its
    'pause' commands are ignored now that the workflow resumes.
    """
    if step.wf.is_completed:
        # The workflow already ended (e.g. by a fail transition): nothing follows.
        step.put_task(task.evolve(processed=True))
        return
    if step.wf.state is not State.RUNNING:
        return
    if step.spec.type is WorkflowType.DIRECT:
        _direct.on_task_completed(step, task, resuming=resuming)
    else:
        _reverse.on_task_completed(step, task)
    # Decide only after everything this step starts exists (e.g. a join that another
    # inbound task reached in the same step), as Mistral checks after its commands.
    step.later(lambda: check_completion(step))


def check_completion(step: Step) -> None:
    state = step.state
    if step.wf.state is not State.RUNNING:
        return
    if state.incomplete_count() > 0:
        if step.spec.type is WorkflowType.DIRECT and state.only_waiting_left():
            step.later(lambda: _fail_stuck(step))
        return
    if state.has_cancelled_tasks():
        names = ", ".join(t.name for t in state.cancelled_tasks())
        cancel(step, f"Cancelled tasks: {names}")
    elif not state.has_unhandled_errors():
        succeed(step, None)
    else:
        fail(step, failure_message(state))


def _fail_stuck(step: Step) -> None:
    if step.wf.state is State.RUNNING and _direct.fail_stuck_joins(step):
        step.later(lambda: check_completion(step))


def _evaluate_env(step: Step) -> None:
    """Evaluates the expressions in the env's values, as Mistral does unless
    ``params.evaluate_env`` is false: once, each against the env as given (so
    ``b: <% env().a %>`` reads ``a``'s text). The evaluated env replaces the given one.
    Raises WorkflowInputError when an expression fails: as in Mistral, the execution
    is not started."""
    wf = step.wf
    raw = wf.env
    if not raw or str(wf.params.get("evaluate_env", True)).lower() == "false":
        return
    try:
        evaluated = dataflow.evaluate(step.state, dict(raw), {"__env": dict(raw)}, None)
    except EvaluationError as e:
        raise WorkflowInputError(f"Failed to evaluate the env: {e}") from e
    if evaluated != raw:
        step.set_workflow(wf.evolve(params={**wf.params, "env": evaluated}))


def failure_message(state: ExecutionState) -> str:
    """Which tasks failed and why, in plain words."""
    failed = state.unhandled_errors()
    lines = ["Failure caused by error in tasks: " + ", ".join(t.name for t in failed), ""]
    for task in failed:
        lines.append(f"  {task.name} -> {task.state_info}")
        if task.items is None:
            continue
        errors = [r for r in state.runs_of(task.id) if r.accepted and r.state is State.ERROR]
        for run in sorted(errors, key=lambda r: r.index)[:_MAX_ITEM_ERRORS]:
            lines.append(f"    item {run.index}: {_tasks.describe(run.output)}")
        if len(errors) > _MAX_ITEM_ERRORS:
            lines.append(f"    ... and {len(errors) - _MAX_ITEM_ERRORS} more failed items")
    return "\n".join(lines)


def _notify_parent(step: Step) -> None:
    wf = step.wf
    if wf.parent_id is None:
        return
    error = None
    if wf.state is State.ERROR:
        error = wf.state_info or f"Failed subworkflow [execution_id={wf.id}]"
    elif wf.state is State.CANCELLED:
        error = wf.state_info or f"Cancelled subworkflow [execution_id={wf.id}]"
    step.emit(
        NotifyParent(
            parent_id=wf.parent_id,
            run_id=wf.id,
            state=wf.state,
            output=wf.output,
            error=error,
        )
    )


def _evaluate_output(step: Step, spec: Mapping[str, JsonValue]) -> JsonValue:
    """An output clause evaluated against the final context (raises EvaluationError)."""
    final = dataflow.final_context(step.state)
    if not spec:
        return dict(final.values)
    return dataflow.evaluate(
        step.state, dict(spec), dataflow.workflow_scope(step.state, final.values), None
    )


def succeed(step: Step, message: str | None) -> None:
    if step.wf.is_completed:
        return
    try:
        output = _evaluate_output(step, step.spec.output)
    except EvaluationError as e:
        fail(step, f"Failed to evaluate the workflow output: {e}")
        return
    step.set_workflow(step.wf.evolve(state=State.SUCCESS, state_info=message, output=output))
    _notify_parent(step)


def fail(step: Step, message: str | None, result: str | None = None) -> None:
    """Ends the execution in ERROR. Its output is, as in Mistral, ``result`` (the message,
    or ``result`` when given) updated with output-on-error, or with the final context
    when output-on-error is absent or empty (so what the finished paths published is
    kept, and a published ``result`` wins over the message)."""
    if step.wf.is_completed:
        return
    output: dict[str, JsonValue] = {"result": message if result is None else result}
    try:
        extra = _evaluate_output(step, step.spec.output_on_error)
    except EvaluationError as e:
        reason = f"Failed to evaluate output-on-error: {e}"
        message = f"{message}\n{reason}" if message else reason
        output["result"] = message
    else:
        if not extra:
            extra = dict(dataflow.final_context(step.state).values)
        if isinstance(extra, dict):
            output.update(extra)
    step.set_workflow(step.wf.evolve(state=State.ERROR, state_info=message, output=output))
    _notify_parent(step)


def cancel(step: Step, message: str | None) -> None:
    if step.wf.is_completed:
        return
    step.set_workflow(
        step.wf.evolve(state=State.CANCELLED, state_info=message, output={"result": message})
    )
    _notify_parent(step)


def engine_command(
    step: Step, command: EngineCommand, params: Mapping[str, JsonValue], task: TaskExecution
) -> None:
    """fail / succeed / pause, from a transition.

    As in Mistral, ``msg`` becomes the state_info (an object as JSON text) and, for
    ``fail``, the output's ``result`` (as text, an object in Python's notation); without
    ``msg`` both stay empty.
    """
    msg = params.get("msg")
    message = None if msg is None else json.dumps(msg) if isinstance(msg, dict) else str(msg)
    if command is EngineCommand.FAIL:
        fail(step, message, None if msg is None else str(msg))
    elif command is EngineCommand.SUCCEED:
        succeed(step, message)
    elif command is EngineCommand.PAUSE:
        pause(step, message)


# -- pause, resume, stop ---------------------------------------------------------------------


def _active_children(step: Step) -> list[str]:
    children = []
    for task in step.state.incomplete_tasks():
        for run in step.state.runs_of(task.id):
            if run.kind is RunKind.WORKFLOW and run.accepted and not run.is_completed:
                children.append(run.id)
    return children


def _with_env(wf: WorkflowExecution, env: Mapping[str, JsonValue] | None) -> WorkflowExecution:
    """The execution with ``env`` merged into its params' env."""
    return wf.evolve(params={**wf.params, "env": {**wf.env, **env}}) if env else wf


def pause(step: Step, message: str | None) -> None:
    if step.wf.state is not State.RUNNING:
        return
    for child in _active_children(step):
        step.emit(PauseWorkflow(workflow_execution_id=child, message=message))
    step.set_workflow(step.wf.evolve(state=State.PAUSED, state_info=message))
    _notify_parent(step)


def resume(step: Step, env: Mapping[str, JsonValue] | None) -> None:
    wf = step.wf
    if wf.state not in (State.PAUSED, State.IDLE):
        return
    wf = _with_env(wf, env)
    for child in _active_children(step):
        step.emit(ResumeWorkflow(workflow_execution_id=child, env=env))
    step.set_workflow(wf.evolve(state=State.RUNNING, state_info=None))
    _notify_parent(step)
    continue_workflow(step)


def continue_workflow(step: Step) -> None:
    """Picks up everything a pause held back: transitions, idle tasks, more items."""
    if step.spec.type is WorkflowType.DIRECT:
        _direct.release_held(step)
    for task in list(step.state.iter_tasks()):
        current = step.state.task(task.id)
        if step.wf.state is not State.RUNNING:
            return
        if current.state is State.PAUSED:
            step.put_task(current.evolve(state=State.RUNNING))
        elif current.is_completed and not current.processed:
            task_completed(step, current, resuming=True)
        elif current.state is State.IDLE:
            _tasks.run(step, current)
        elif current.state is State.RUNNING and current.items is not None:
            _tasks.schedule_runs(step, current)
    step.drain()
    check_completion(step)


def stop(step: Step, target: State, message: str | None) -> None:
    """A user forces the workflow to SUCCESS, ERROR or CANCELLED."""
    if step.wf.is_completed:
        return
    for child in _active_children(step):
        step.emit(StopWorkflow(workflow_execution_id=child, state=target, message=message))
    for task in step.state.incomplete_tasks():
        info = _stopped_task_info(step, task, target, message)
        _tasks.cancel_runs(step, task)
        step.put_task(
            task.evolve(
                state=State.CANCELLED, state_info=info, processed=True, finished_at=step.now
            )
        )
    if target is State.SUCCESS:
        succeed(step, message)
    elif target is State.ERROR:
        fail(step, message or "Stopped by a user request")
    else:
        cancel(step, message)


def _stopped_task_info(
    step: Step, task: TaskExecution, target: State, message: str | None
) -> str | None:
    """In Mistral, a task whose sub-workflows are cancelled with the workflow ends with
    what the cancelled sub-workflow reports (or the with-items summary)."""
    children = [
        r
        for r in step.state.runs_of(task.id)
        if r.kind is RunKind.WORKFLOW and r.accepted and not r.is_completed
    ]
    if target is not State.CANCELLED or not children:
        return task.state_info
    if task.items is not None:
        return "One or more actions was cancelled."
    return message or f"Cancelled subworkflow [execution_id={children[0].id}]"


# -- rerun and skip --------------------------------------------------------------------------


def rerun(step: Step, task_id: str, reset: bool, env: Mapping[str, JsonValue] | None) -> None:
    task = step.state.tasks.get(task_id)
    if task is None:
        raise InvalidRequest(f"task execution {task_id} is not part of this workflow execution")
    if task.state is not State.ERROR:
        raise InvalidRequest(
            f"task '{task.name}' is {task.state}; only a task in ERROR can be rerun"
        )
    if step.wf.state is State.PAUSED:
        return
    wf = _with_env(step.wf, env)
    step.set_workflow(wf.evolve(state=State.RUNNING, state_info=None, output=None))
    _notify_parent(step)
    _reopen_failed_joins(step, task)
    task = step.put_task(
        task.evolve(
            state=State.RUNNING,
            state_info=None,
            processed=False,
            error_handled=False,
            next_tasks=(),
            published={},
            result=None,
            retry_no=0,
            started_at=step.now,  # as in Mistral, a rerun is a new start
            finished_at=None,
            reset_count=task.reset_count + 1,
        )
    )
    # As in Mistral, a failed sub-workflow is not rerun in place: like a failed action,
    # it is set aside (no longer accepted) and the task starts a new one.
    _reset_runs(step, task, reset)
    _tasks.schedule_runs(step, step.state.task(task.id))
    step.drain()


def _reset_runs(step: Step, task: TaskExecution, reset: bool) -> None:
    runs = [r for r in step.state.runs_of(task.id) if r.accepted]
    items = task.items
    if items is None or reset:
        for run in runs:
            step.put_run(run.evolve(accepted=False))
        if items is not None:
            step.put_task(
                task.evolve(
                    items=_tasks._evolve_items(
                        items, next_index=0, pending=None, running=0, finished=0
                    )
                )
            )
        return
    failed = sorted(
        (r for r in runs if r.state in (State.ERROR, State.CANCELLED)), key=lambda r: r.index
    )
    for run in failed:
        step.put_run(run.evolve(accepted=False))
    pending = tuple(r.index for r in failed)
    step.put_task(
        task.evolve(
            items=_tasks._evolve_items(
                items, pending=pending, running=0, finished=items.count - len(pending)
            )
        )
    )


def _reopen_failed_joins(step: Step, task: TaskExecution) -> None:
    if step.spec.type is not WorkflowType.DIRECT:
        return
    for name in step.spec.outbound(task.name):
        join = step.state.latest(name)
        if join is not None and _direct.is_failed_join(join):
            step.put_task(_direct.reopened(join))


def skip(step: Step, task_id: str) -> None:
    task = step.state.tasks.get(task_id)
    if task is None or task.state is not State.ERROR:
        raise InvalidRequest("only a task in ERROR can be skipped")
    if step.wf.state is State.ERROR:
        step.set_workflow(step.wf.evolve(state=State.RUNNING, state_info=None, output=None))
        _notify_parent(step)
    task = step.put_task(task.evolve(processed=False, error_handled=False, next_tasks=()))
    _tasks.complete(step, task, State.SKIPPED, task.state_info)
    step.drain()


# -- children ----------------------------------------------------------------------------------


def run_state_changed(step: Step, run_id: str, target: State) -> None:
    """A running action or sub-workflow paused or resumed (or a failed one was rerun)."""
    run = step.state.runs.get(run_id)
    if run is None:
        return
    task = step.state.tasks.get(run.task_execution_id)
    if task is None:
        return
    step.put_run(run.evolve(state=target, accepted=True, updated_at=step.now))
    if target is State.PAUSED:
        if task.state is State.RUNNING:
            step.put_task(task.evolve(state=State.PAUSED))
        pause(step, None)
        return
    if target is not State.RUNNING:
        return
    if task.state is State.ERROR:
        step.put_task(
            task.evolve(
                state=State.RUNNING,
                state_info=None,
                processed=False,
                error_handled=False,
                next_tasks=(),
                finished_at=None,
            )
        )
        if step.wf.state is State.ERROR:
            step.set_workflow(step.wf.evolve(state=State.RUNNING, state_info=None, output=None))
            _notify_parent(step)
        return
    if task.state is State.PAUSED:
        step.put_task(task.evolve(state=State.RUNNING))
    if step.wf.state is State.PAUSED and not any(
        t.state is State.PAUSED for t in step.state.incomplete_tasks()
    ):
        resume(step, None)
