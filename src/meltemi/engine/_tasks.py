"""The life of a task execution: start, policies, runs, results, publish, completion.

A task goes IDLE (created; or held by pause-before or a paused workflow) ->
DELAYED (wait-before) -> RUNNING (its runs are out) -> SUCCESS / ERROR / CANCELLED,
possibly through DELAYED again (wait-after, retry). Join tasks wait in WAITING
until enough inbound tasks reached them (see ``_direct``).
"""

from __future__ import annotations

import json
from typing import Final

from meltemi.engine import _policies, _workflow, dataflow
from meltemi.engine._step import Step
from meltemi.engine.commands import CancelRun, CancelTimer, RunAction, ScheduleTimer, StartWorkflow
from meltemi.engine.events import ActionResult, TimerKind
from meltemi.engine.records import (
    ItemsState,
    JsonValue,
    Run,
    RunKind,
    TaskExecution,
    Trigger,
    WorkflowExecution,
)
from meltemi.engine.states import State
from meltemi.expressions import EvaluationError, is_expression
from meltemi.lang import ClauseKind, PublishSpec, TaskSpec, TaskType

_KEEP: Final = object()


class TaskFailure(Exception):
    """Something about a task cannot be evaluated; the task fails with this message."""


def describe(error: JsonValue) -> str | None:
    """A task's state_info for an action error: the text, or the error data as JSON."""
    if error is None:
        return None
    if isinstance(error, str):
        return error
    try:
        return json.dumps(error, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return str(error)


# -- creating and starting -------------------------------------------------------------------


def create(
    step: Step,
    name: str,
    triggers: tuple[Trigger, ...],
    *,
    state: State = State.IDLE,
    state_info: str | None = None,
) -> TaskExecution:
    wf = step.wf
    seq = wf.task_seq + 1
    step.set_workflow(wf.evolve(task_seq=seq))
    spec = step.spec.task(name)
    task = TaskExecution(
        id=step.new_id(),
        workflow_execution_id=wf.id,
        name=name,
        type=spec.type,
        seq=seq,
        state=state,
        state_info=state_info,
        triggered_by=triggers,
        created_at=step.now,
    )
    return step.put_task(task)


def run(step: Step, task: TaskExecution) -> None:
    """Starts a task: before-start policies, then its action(s) or sub-workflow(s).

    A task of a workflow that is not running stays IDLE and starts on resume.
    """
    if step.wf.state is not State.RUNNING:
        return
    spec = step.spec.task(task.name)
    policies = step.spec.policies(spec)
    scope = dataflow.task_scope(step.state, task)
    try:
        if not task.pause_before_done and _policies.flag(step, task, policies.pause_before, scope):
            step.put_task(
                task.evolve(
                    state=State.IDLE,
                    state_info="Set by 'pause-before' policy",
                    pause_before_done=True,
                )
            )
            _workflow.pause(step, None)
            return
        timeout = _policies.count(step, task, policies.timeout, scope, "timeout")
        # Mistral checks all its numeric policies before a task starts (a task with a
        # negative retry count fails before its action runs), concurrency too.
        _policies.count(step, task, policies.wait_after, scope, "wait-after")
        if policies.retry is not None:
            _policies.count(step, task, policies.retry.count, scope, "retry count")
            _policies.count(step, task, policies.retry.delay, scope, "retry delay")
        if not spec.with_items:
            _policies.count(step, task, policies.concurrency, scope, "concurrency")
        wait = 0
        if not task.wait_before_done:
            wait = _policies.count(step, task, policies.wait_before, scope, "wait-before")
    except _policies.PolicyValueError as e:
        fail(step, task, str(e))
        return
    changes: dict[str, object] = {"started_at": task.started_at or step.now}
    if timeout > 0 and task.timeout_timer is None:
        changes["timeout_timer"] = _timer(step, task, TimerKind.TIMEOUT, timeout)
    if wait > 0:
        step.put_task(
            task.evolve(
                state=State.DELAYED,
                state_info=f"Delayed by 'wait-before' policy [delay={wait}]",
                wait_before_done=True,
                **changes,
            )
        )
        _timer(step, task, TimerKind.WAIT_BEFORE, wait)
        return
    task = step.put_task(task.evolve(state=State.RUNNING, state_info=None, **changes))
    schedule_runs(step, task)


def _timer(step: Step, task: TaskExecution, kind: TimerKind, delay: float) -> str:
    timer_id = step.new_id()
    step.emit(
        ScheduleTimer(
            timer_id=timer_id,
            kind=kind,
            workflow_execution_id=step.wf.id,
            task_id=task.id,
            delay=delay,
        )
    )
    return timer_id


# -- runs ----------------------------------------------------------------------------------


def schedule_runs(step: Step, task: TaskExecution) -> None:
    spec = step.spec.task(task.name)
    if spec.with_items:
        _schedule_items(step, task, spec)
        return
    try:
        _start_run(step, task, spec, extra=None, index=0)
    except TaskFailure as e:
        fail(step, task, str(e))


def _evaluate(
    step: Step, task: TaskExecution, value: JsonValue, scope: dataflow.ContextView
) -> JsonValue:
    try:
        return dataflow.evaluate(step.state, value, scope, task)
    except EvaluationError as e:
        raise TaskFailure(str(e)) from e


def _action_input(
    step: Step, task: TaskExecution, spec: TaskSpec, scope: dataflow.ContextView
) -> dict[str, JsonValue]:
    value = _evaluate(step, task, spec.input, scope) if spec.input else {}
    if not isinstance(value, dict):
        raise TaskFailure(
            f"the input of task '{task.name}' must evaluate to a mapping, "
            f"not {type(value).__name__}: {value!r}"
        )
    if spec.action:
        actions = step.wf.env.get("__actions")
        defaults = actions.get(spec.action) if isinstance(actions, dict) else None
        if isinstance(defaults, dict):
            value = {**defaults, **value}
    return value


def _name(step: Step, task: TaskExecution, raw: str, scope: dataflow.ContextView) -> str:
    if not is_expression(raw):
        return raw
    value = _evaluate(step, task, raw, scope)
    return str(value) if value else ""


def _start_run(
    step: Step,
    task: TaskExecution,
    spec: TaskSpec,
    *,
    extra: dict[str, JsonValue] | None,
    index: int,
) -> None:
    scope = dataflow.task_scope(step.state, task, extra)
    action_input = _action_input(step, task, spec, scope)
    policies = step.spec.policies(spec)
    wf = step.wf
    run_id = step.new_id()
    if spec.type is TaskType.WORKFLOW:
        name = _name(step, task, spec.workflow or "", scope)
        if not name:
            raise TaskFailure(f"the workflow name of task '{task.name}' evaluated to nothing")
        _put_run(step, task, run_id, RunKind.WORKFLOW, name, action_input, index)
        step.emit(
            StartWorkflow(
                run_id=run_id,
                parent_id=wf.id,
                root_id=wf.root_id,
                task_execution_id=task.id,
                workflow=name,
                namespace=_lookup_namespace(wf),
                workbook=None,
                input=action_input,
                params=_child_params(wf, task, index),
                index=index,
            )
        )
        return
    name = _name(step, task, spec.action or "std.noop", scope) or "std.noop"
    target = None
    if spec.target:
        target_scope = dataflow.ContextView(
            action_input,
            dataflow.inbound(step.state, task).values,
            dataflow.env_layer(step.state),
            wf.context,
            wf.input,
        )
        target_value = _evaluate(step, task, spec.target, target_scope)
        target = str(target_value) if target_value is not None else None
    try:
        timeout = _policies.count(step, task, policies.timeout, scope, "timeout")
        safe_rerun = _policies.flag(step, task, step.spec.safe_rerun(spec), scope)
    except _policies.PolicyValueError as e:
        raise TaskFailure(str(e)) from e
    _put_run(
        step,
        task,
        run_id,
        RunKind.ACTION,
        name,
        action_input,
        index,
        safe_rerun=safe_rerun,
        timeout=timeout or None,
        target=target,
    )
    step.emit(
        RunAction(
            run_id=run_id,
            workflow_execution_id=wf.id,
            task_execution_id=task.id,
            task_name=task.name,
            action=name,
            input=action_input,
            namespace=wf.namespace,
            index=index,
            attempt=task.retry_no,
            target=target,
            timeout=timeout or None,
            safe_rerun=safe_rerun,
        )
    )


def _put_run(
    step: Step,
    task: TaskExecution,
    run_id: str,
    kind: RunKind,
    name: str,
    action_input: dict[str, JsonValue],
    index: int,
    **extra: object,
) -> None:
    step.put_run(
        Run(
            id=run_id,
            kind=kind,
            task_execution_id=task.id,
            workflow_execution_id=step.wf.id,
            name=name,
            input=action_input,
            index=index,
            attempt=task.retry_no,
            created_at=step.now,
            **extra,  # type: ignore[arg-type]  # the action-only fields of Run
        )
    )


def _items_values(step: Step, task: TaskExecution, spec: TaskSpec) -> ItemsState:
    scope = dataflow.task_scope(step.state, task)
    values: dict[str, tuple[JsonValue, ...]] = {}
    length = -1
    for item in spec.with_items:
        raw = _evaluate(step, task, item.source, scope)
        if isinstance(raw, dict):
            raw = list(raw)
        if not isinstance(raw, list | tuple | str):
            raise TaskFailure(
                f"with-items of task '{task.name}': '{item.var}' must be a list, "
                f"not {type(raw).__name__}: {raw!r}"
            )
        values[item.var] = tuple(raw)
        if length < 0:
            length = len(values[item.var])
        elif len(values[item.var]) != length:
            sizes = ", ".join(f"{k}: {len(v)}" for k, v in values.items())
            raise TaskFailure(
                f"with-items of task '{task.name}': all lists must have the same length ({sizes})"
            )
    try:
        concurrency = _policies.count(
            step, task, step.spec.policies(spec).concurrency, scope, "concurrency"
        )
    except _policies.PolicyValueError as e:
        raise TaskFailure(str(e)) from e
    return ItemsState(count=max(length, 0), concurrency=concurrency, values=values)


def _schedule_items(step: Step, task: TaskExecution, spec: TaskSpec) -> None:
    items = task.items
    try:
        if items is None:
            items = _items_values(step, task, spec)
            task = step.put_task(task.evolve(items=items))
            if items.count == 0:
                finished = task
                step.later(lambda: complete(step, finished, State.SUCCESS, None, result=[]))
                return
        if step.wf.state is not State.RUNNING:
            return
        capacity = items.remaining()
        if items.concurrency:
            capacity = min(capacity, items.concurrency - items.running)
        indexes = items.next_indexes(max(capacity, 0))
        if not indexes:
            return
        in_values = dataflow.inbound(step.state, task).values
        for index in indexes:
            extra = {
                var: values[index] for var, values in items.values.items() if var not in in_values
            }
            _start_run(step, task, spec, extra=extra, index=index)
    except TaskFailure as e:
        fail(step, task, str(e))
        return
    started = len(indexes)
    if items.pending is not None:
        items = _evolve_items(items, pending=items.pending[started:])
    else:
        items = _evolve_items(items, next_index=items.next_index + started)
    step.put_task(
        step.state.task(task.id).evolve(items=_evolve_items(items, running=items.running + started))
    )


def _evolve_items(items: ItemsState, **changes: object) -> ItemsState:
    fields = {
        "count": items.count,
        "concurrency": items.concurrency,
        "values": items.values,
        "next_index": items.next_index,
        "pending": items.pending,
        "running": items.running,
        "finished": items.finished,
    }
    fields.update(changes)
    return ItemsState(**fields)  # type: ignore[arg-type]  # keys are ItemsState fields


def run_finished(step: Step, run_id: str, result: ActionResult) -> None:
    """A run reported its result."""
    run = step.state.runs.get(run_id)
    if run is None or run.is_completed:
        return
    if result.cancelled:
        new_state, output = State.CANCELLED, result.error
    elif result.error is not None:
        new_state, output = State.ERROR, result.error
    else:
        new_state, output = State.SUCCESS, result.data
    reason = output
    if run.kind is RunKind.WORKFLOW and new_state is not State.SUCCESS and result.data is not None:
        # As in Mistral, a sub-workflow task's result is the child's output also when
        # the child failed (its state_info is there under "result"); the error is the
        # task's state_info.
        output = result.data
    run = step.put_run(run.evolve(state=new_state, output=output, updated_at=step.now))
    task = step.state.tasks.get(run.task_execution_id)
    if task is None or task.is_completed or not run.accepted:
        return
    if task.items is not None:
        _item_finished(step, task, run)
        return
    if new_state is State.SUCCESS:
        state_info = None
    elif new_state is State.CANCELLED:
        state_info = describe(reason) or None  # Mistral: no reason, no state_info
    else:
        state_info = describe(reason) or str(new_state)
    complete(step, task, new_state, state_info, result=output)


def _item_finished(step: Step, task: TaskExecution, run: Run) -> None:
    """An item's run ended. Costs O(1) but when the task ends (then O(items))."""
    items = task.items
    assert items is not None  # noqa: S101  # callers check
    items = _evolve_items(items, running=items.running - 1, finished=items.finished + 1)
    task = step.put_task(task.evolve(items=items))
    if run.state is State.CANCELLED:
        # As in Mistral: one cancelled item ends the task at once; the items still
        # running go on, but their results no longer count.
        result = [r.output for r in _item_runs(step, task)]
        complete(step, task, State.CANCELLED, "One or more actions was cancelled.", result=result)
        return
    if items.remaining() > 0:
        if task.state is State.RUNNING:
            _schedule_items(step, task, step.spec.task(task.name))
        return
    if items.running > 0:
        return
    runs = _item_runs(step, task)
    result = [r.output for r in runs]
    if any(r.state is State.ERROR for r in runs):
        complete(step, task, State.ERROR, "One or more actions had failed.", result=result)
    else:
        complete(step, task, State.SUCCESS, None, result=result)


def _item_runs(step: Step, task: TaskExecution) -> list[Run]:
    """The accepted runs of a with-items task, in item order."""
    return sorted((r for r in step.state.runs_of(task.id) if r.accepted), key=lambda r: r.index)


def cancel_runs(step: Step, task: TaskExecution) -> None:
    """Cancels the task's runs that are still going."""
    for run in step.state.runs_of(task.id):
        if run.is_completed or not run.accepted:
            continue
        step.put_run(run.evolve(state=State.CANCELLED, updated_at=step.now))
        step.emit(CancelRun(run_id=run.id, child_workflow=run.kind is RunKind.WORKFLOW))


# -- completion ----------------------------------------------------------------------------


def fail(step: Step, task: TaskExecution, message: str) -> None:
    """A task that cannot run or complete: an expression of its input, with-items,
    policies or publish fails, or its action cannot start (unknown, or input that does
    not fit). As in Mistral, which force-fails such a task, the task ends in ERROR and
    the workflow fails with it: no retry, no on-error or on-complete."""
    task = step.state.task(task.id)
    cancel_runs(step, task)
    if task.timeout_timer is not None:
        step.emit(CancelTimer(timer_id=task.timeout_timer))
    step.put_task(
        task.evolve(
            state=State.ERROR,
            state_info=message,
            finished_at=step.now,
            timeout_timer=None,
            delayed_state=None,
            delayed_info=None,
            processed=True,
            # Mistral's result of a task without an action result is an empty list.
            result=[] if task.result is None else task.result,
        )
    )
    _workflow.fail(step, _workflow.failure_message(step.state))


def run_rejected(step: Step, run_id: str, reason: str) -> None:
    """The host could not start a run's action (unknown, or its input does not fit)."""
    run = step.state.runs.get(run_id)
    if run is None or run.is_completed:
        return
    task = step.state.tasks.get(run.task_execution_id)
    accepted = run.accepted
    # Not accepted: the action never ran, so it gives the task no result.
    step.put_run(run.evolve(state=State.ERROR, output=reason, accepted=False, updated_at=step.now))
    if task is None or task.is_completed or not accepted:
        return
    fail(step, task, reason)


def complete(
    step: Step,
    task: TaskExecution,
    state: State,
    state_info: str | None,
    *,
    result: object = _KEEP,
) -> None:
    """Completes a task: publish, keep-result, after-completion policies, transitions."""
    task = step.state.task(task.id)
    if task.is_completed and state is not State.SKIPPED:
        return
    changes: dict[str, object] = {
        "state": state,
        "state_info": state_info,
        "finished_at": step.now,
        "delayed_state": None,
        "delayed_info": None,
    }
    if result is not _KEEP:
        changes["result"] = result
    task = step.put_task(task.evolve(**changes))
    spec = step.spec.task(task.name)
    try:
        if state in (State.SUCCESS, State.ERROR, State.SKIPPED):
            task = _publish(step, task)
        if not _keep_result(step, task, spec):
            # As in Mistral, with-items keeps one (empty) result per item.
            cleared = [None for _ in task.result] if isinstance(task.result, list) else None
            task = step.put_task(task.evolve(result=cleared))
            for run in step.state.runs_of(task.id):
                step.put_run(run.evolve(output=None))
        if state is not State.SKIPPED and _after_completion(step, task, spec):
            return
    except TaskFailure as e:
        fail(step, task, str(e))
        return
    task = step.state.task(task.id)
    if task.timeout_timer is not None:
        step.emit(CancelTimer(timer_id=task.timeout_timer))
        task = step.put_task(task.evolve(timeout_timer=None))
    _workflow.task_completed(step, task)


def _keep_result(step: Step, task: TaskExecution, spec: TaskSpec) -> bool:
    if spec.keep_result is True:
        return True
    if spec.keep_result is False:
        return False
    try:
        return _policies.flag(step, task, spec.keep_result, dataflow.task_scope(step.state, task))
    except _policies.PolicyValueError:
        return True


def publish_spec(step: Step, spec: TaskSpec, state: State) -> PublishSpec | None:
    """What a task publishes in a state: task-level, on-complete and the state's clause."""
    own = {
        State.SUCCESS: spec.publish,
        State.ERROR: spec.publish_on_error,
        State.SKIPPED: spec.publish_on_skip,
    }.get(state)
    result = PublishSpec(branch=own) if own else None
    on_complete = spec.on_complete.publish if spec.on_complete else None
    if on_complete is not None:
        result = on_complete.merged_over(result)
    kind = {
        State.SUCCESS: ClauseKind.ON_SUCCESS,
        State.ERROR: ClauseKind.ON_ERROR,
        State.SKIPPED: ClauseKind.ON_SKIP,
    }.get(state)
    clause = spec.clause(kind) if kind else None
    if clause is not None and clause.publish is not None:
        # Mistral merges the task-level and on-complete entries over the clause's own.
        result = result.merged_over(clause.publish) if result else clause.publish
    return result


def _publish(step: Step, task: TaskExecution) -> TaskExecution:
    spec = publish_spec(step, step.spec.task(task.name), task.state)
    if spec is None or spec.is_empty():
        return task
    scope = dataflow.publish_scope(step.state, task)
    try:
        branch = dataflow.evaluate(step.state, dict(spec.branch), scope, task)
        shared = dataflow.evaluate(step.state, {**spec.global_, **spec.atomic}, scope, task)
    except EvaluationError as e:
        raise TaskFailure(f"Failed to publish variables: {e}") from e
    task = step.put_task(task.evolve(published=branch if isinstance(branch, dict) else {}))
    if isinstance(shared, dict) and shared:
        wf = step.wf
        step.set_workflow(wf.evolve(context={**wf.context, **shared}))
    return task


def _after_completion(step: Step, task: TaskExecution, spec: TaskSpec) -> bool:
    """Applies wait-after, fail-on and retry; True when the task is not done after all."""
    policies = step.spec.policies(spec)
    if policies.wait_after is None and policies.fail_on is None and policies.retry is None:
        return False
    scope = dataflow.task_scope(step.state, task)
    try:
        if not task.wait_after_done and policies.wait_after is not None:
            delay = _policies.count(step, task, policies.wait_after, scope, "wait-after")
            if delay > 0:
                step.put_task(
                    task.evolve(
                        state=State.DELAYED,
                        delayed_state=task.state,
                        delayed_info=task.state_info,
                        state_info=f"Delayed by 'wait-after' policy [delay={delay}]",
                        wait_after_done=True,
                    )
                )
                _timer(step, task, TimerKind.WAIT_AFTER, delay)
                return True
        if task.state is State.SUCCESS and _policies.flag(step, task, policies.fail_on, scope):
            task = step.put_task(
                task.evolve(state=State.ERROR, state_info="Failed by 'fail-on' policy")
            )
        if policies.retry is not None:
            return _retry(step, task, spec)
    except _policies.PolicyValueError as e:
        raise TaskFailure(str(e)) from e
    return False


def _retry(step: Step, task: TaskExecution, spec: TaskSpec) -> bool:
    retry = step.spec.policies(spec).retry
    assert retry is not None  # noqa: S101  # checked by the caller
    if task.state not in (State.SUCCESS, State.ERROR):
        return False
    scope = dataflow.ContextView(
        dataflow.task_marker(task),
        dataflow.env_layer(step.state),
        dataflow.outbound(step.state, task).values,
        dataflow.inbound(step.state, task).values,
        step.wf.context,
        step.wf.input,
    )
    limit = _policies.count(step, task, retry.count, scope, "retry count")
    if limit == 0 or task.retry_no >= limit:
        return False
    if spec.join is not None and not step.state.runs_of(task.id):
        # A join failed by its inbound tasks: Mistral's retry only decides the join
        # again, which fails it again (those tasks are done), so it stays in ERROR.
        return False
    continue_on = _policies.flag(step, task, retry.continue_on, scope)
    break_on = _policies.flag(step, task, retry.break_on, scope)
    if task.state is State.SUCCESS and (retry.continue_on is None or not continue_on):
        return False
    if retry.continue_on is not None and not continue_on:
        return False
    if task.state is State.ERROR and break_on:
        return False
    delay = _policies.count(step, task, retry.delay, scope, "retry delay")
    for run in step.state.runs_of(task.id):
        if run.accepted:
            step.put_run(run.evolve(accepted=False))
    items = task.items
    if items is not None:
        items = _evolve_items(items, next_index=0, pending=None, running=0, finished=0)
    step.put_task(
        task.evolve(
            state=State.DELAYED,
            state_info=f"Delayed by 'retry' policy [delay={delay}]",
            retry_no=task.retry_no + 1,
            items=items,
            finished_at=None,
        )
    )
    _timer(step, task, TimerKind.RETRY, delay)
    return True


# -- timers ----------------------------------------------------------------------------------


def timer_fired(step: Step, kind: TimerKind, task_id: str) -> None:
    task = step.state.tasks.get(task_id)
    if task is None:
        return
    if kind is TimerKind.TIMEOUT:
        if task.timeout_timer is None or task.is_completed:
            return
        task = step.put_task(task.evolve(timeout_timer=None))
        timeout = task_timeout(step, task)
        result: object = _KEEP
        if task.items is not None:
            # As in Mistral: the results of the items that finished in time.
            result = [r.output for r in _item_runs(step, task) if r.is_completed]
        cancel_runs(step, task)
        complete(step, task, State.ERROR, f"Task timed out [timeout(s)={timeout}].", result=result)
        return
    if task.state is not State.DELAYED:
        return
    if kind is TimerKind.WAIT_AFTER:
        complete(step, task, task.delayed_state or State.SUCCESS, task.delayed_info)
        return
    if step.wf.state is not State.RUNNING:
        step.put_task(task.evolve(state=State.IDLE))
        return
    task = step.put_task(task.evolve(state=State.RUNNING, state_info=None))
    schedule_runs(step, task)


def task_timeout(step: Step, task: TaskExecution) -> int:
    policies = step.spec.policies(step.spec.task(task.name))
    try:
        return _policies.count(
            step, task, policies.timeout, dataflow.task_scope(step.state, task), "timeout"
        )
    except _policies.PolicyValueError:
        return 0


def _child_params(wf: WorkflowExecution, task: TaskExecution, index: int) -> dict[str, JsonValue]:
    """A sub-workflow's params: as in Mistral, where it hangs (root execution, task
    execution, with-items index), and what it inherits: the env, whether to evaluate
    it, and the notification settings."""
    params: dict[str, JsonValue] = {
        "root_execution_id": wf.root_id,
        "task_execution_id": task.id,
        "index": index,
        "namespace": _lookup_namespace(wf),
        "env": dict(wf.env),
    }
    for key in ("evaluate_env", "notify"):
        if key in wf.params:
            params[key] = wf.params[key]
    return params


def _lookup_namespace(wf: WorkflowExecution) -> str:
    """Where sub-workflows are looked up (then in the default namespace): as in Mistral,
    the namespace the root execution was started in, handed down through params, also
    below a workflow found in the default namespace."""
    namespace = wf.params.get("namespace")
    return namespace if isinstance(namespace, str) else wf.namespace
