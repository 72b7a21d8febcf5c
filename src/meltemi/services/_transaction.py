"""One write transaction of the runtime: events in, decisions stored, commands routed.

Everything that happens to one execution tree because of an event (the task that
completes, the sub-workflow it finishes, the parent that goes on) is decided and
stored in the same transaction, under the lock of the tree's root. Work for the
outside world (run an action, set a timer) is collected and carried out only after
the commit, so a crash never loses or invents work: a stored run that is RUNNING
with no result is an action in flight, and is recovered as such.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from meltemi import engine
from meltemi.actions import ActionDescriptor, ActionInputError, ActionNotFound
from meltemi.engine import (
    ActionResult,
    CancelRun,
    CancelTimer,
    Command,
    Decision,
    Event,
    ExecutionState,
    NotifyParent,
    PauseRequested,
    PauseWorkflow,
    ResumeRequested,
    ResumeWorkflow,
    RunAction,
    RunCompleted,
    RunRejected,
    RunStateChanged,
    ScheduleTimer,
    StartRequest,
    StartWorkflow,
    State,
    StepContext,
    StopRequested,
    StopWorkflow,
    TimerFired,
    WorkflowExecution,
    WorkflowInputError,
    dataflow,
)
from meltemi.executor import ActionRequest
from meltemi.persistence.executions import WriteBatch
from meltemi.services._world import TransactionWorld
from meltemi.services.errors import NotFound

if TYPE_CHECKING:
    from meltemi.services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TimerEntry:
    id: str
    fire_at: datetime
    workflow_execution_id: str
    event: TimerFired


class Transaction:
    """The work of one batch: states touched, and what to do once it commits."""

    def __init__(self, runtime: Runtime, conn: Connection, inline_budget: int) -> None:
        self.runtime = runtime
        self.conn = conn
        self.now = runtime.clock()
        self.inline_budget = inline_budget
        self.locked: dict[str, int] = {}
        self.touched: set[str] = set()
        self.local: deque[tuple[str, Any]] = deque()
        self.dispatch: list[ActionRequest] = []
        self.cancels: list[str] = []
        self.timers: list[TimerEntry] = []
        self.cancelled_timers: list[str] = []
        self.finished_roots: set[str] = set()
        self.after_commit: list[Callable[[], None]] = []
        self.writes = WriteBatch()
        self.world = TransactionWorld(self)

    def ctx(self) -> StepContext:
        return StepContext(now=self.now, new_id=self.runtime.new_id, world=self.world)

    # -- states --------------------------------------------------------------------------

    def lock(self, root_id: str) -> None:
        if root_id in self.locked:
            return
        version = self.runtime.store.lock_root(self.conn, root_id)
        self.locked[root_id] = version or 0
        self.runtime.cache.check_version(root_id, version or 0)

    def state(self, wf_id: str) -> ExecutionState:
        cache = self.runtime.cache
        root_id = cache.root_of(wf_id)
        if root_id is None:
            row = self.runtime.store.workflow_row(self.conn, wf_id)
            if row is None:
                raise NotFound(f"Execution not found [id={wf_id}]")
            root_id = row["root_execution_id"] or wf_id
            cache.remember_root(wf_id, root_id)
        self.lock(root_id)
        state = cache.get(wf_id)
        if state is None:
            row = self.runtime.store.workflow_row(self.conn, wf_id)
            if row is None:
                raise NotFound(f"Execution not found [id={wf_id}]")
            spec = self.runtime.definitions.spec(row["spec_id"], self.conn)
            loaded = self.runtime.store.load(self.conn, wf_id, spec)
            if loaded is None:
                raise NotFound(f"Execution not found [id={wf_id}]")
            state, saved_items = loaded
            cache.put(state, saved_items)
        return state

    # -- applying ------------------------------------------------------------------------

    def handle(self, wf_id: str, event: Event) -> Decision:
        state = self.state(wf_id)
        before = state.workflow.state
        if isinstance(event, TimerFired):
            self.runtime.store.delete_timers(self.conn, [event.timer_id])
        decision = engine.handle(state, event, self.ctx())
        self.apply(state, decision)
        self._log_state_change(state.workflow, before)
        return decision

    def _log_state_change(self, wf: WorkflowExecution, before: State | None) -> None:
        """One log line per execution state change, written once the change is committed."""
        if wf.state is before:
            return
        fields = {
            "execution_id": wf.id,
            "root_execution_id": wf.root_id,
            "workflow_name": wf.workflow_name,
            "previous_state": None if before is None else str(before),
            "state": str(wf.state),
        }
        self.after_commit.append(lambda: log.info("execution.state_changed", extra=fields))

    def started(self, state: ExecutionState, decision: Decision) -> None:
        """A new execution (root or child) and the decision that started it."""
        self.runtime.cache.put(state, set())
        self.runtime.cache.remember_root(state.workflow.id, state.workflow.root_id)
        if state.workflow.root_id == state.workflow.id:
            self.locked.setdefault(state.workflow.id, 0)
        self.apply(state, decision)
        self._log_state_change(state.workflow, None)

    def apply(self, state: ExecutionState, decision: Decision) -> None:
        wf = state.workflow
        self.writes.stage(state, decision, self.runtime.cache.saved_items(wf.id))
        self.touched.add(wf.root_id)
        for command in decision.commands:
            self._route(state, command)
        if wf.id == wf.root_id and wf.is_completed:
            self.finished_roots.add(wf.id)

    def _route(self, state: ExecutionState, command: Command) -> None:  # one branch per command
        if isinstance(command, RunAction):
            self._run_action(state, command)
        elif isinstance(command, StartWorkflow):
            self.local.append(("start", command))
        elif isinstance(command, ScheduleTimer):
            self._timer(state, command)
        elif isinstance(command, CancelTimer):
            self.runtime.store.delete_timers(self.conn, [command.timer_id])
            self.cancelled_timers.append(command.timer_id)
        elif isinstance(command, CancelRun):
            if command.child_workflow:
                self.local.append(
                    (command.run_id, StopRequested(state=State.CANCELLED, message=None))
                )
            else:
                self.cancels.append(command.run_id)
        elif isinstance(command, PauseWorkflow):
            self.local.append(
                (command.workflow_execution_id, PauseRequested(message=command.message))
            )
        elif isinstance(command, ResumeWorkflow):
            self.local.append((command.workflow_execution_id, ResumeRequested(env=command.env)))
        elif isinstance(command, StopWorkflow):
            self.local.append(
                (
                    command.workflow_execution_id,
                    StopRequested(state=command.state, message=command.message),
                )
            )
        elif isinstance(command, NotifyParent):
            self.local.append((command.parent_id, _parent_event(command)))

    def redispatch(self, run: Mapping[str, Any]) -> None:
        """Sends an action run that was in flight when the process stopped to the
        executor again, built as its first dispatch was (namespace, workbook action,
        the task data an ad-hoc action's base-input reads)."""
        state = self.state(str(run["workflow_execution_id"]))
        current = state.runs.get(str(run["id"]))
        if current is None or current.state is not State.RUNNING:
            return
        self._run_action(
            state,
            RunAction(
                run_id=current.id,
                workflow_execution_id=state.workflow.id,
                task_execution_id=str(run["task_execution_id"]),
                task_name=str(run["task_name"]),
                action=str(run["name"]),
                input=run["input"] or {},
                namespace=state.workflow.namespace,
                index=run["run_index"],
                attempt=run["attempt"],
                target=run["target"],
                timeout=run["timeout"],
                safe_rerun=bool(run["safe_rerun"]),
            ),
        )

    def _run_action(self, state: ExecutionState, command: RunAction) -> None:
        action = command.action
        workbook = self.runtime.workbook_of(state.workflow.workflow_id, self.conn)
        if workbook and self.runtime.registry.find(f"{workbook}.{action}", command.namespace):
            action = f"{workbook}.{action}"  # a workbook's own action wins, as in Mistral
            run = state.runs.get(command.run_id)
            if run is not None:
                # Mistral names the action execution after the action it found.
                run = run.evolve(name=action)
                state.put_run(run)
                self.writes.stage(
                    state,
                    Decision(workflow=None, tasks=(), runs=(run,), commands=()),
                    self.runtime.cache.saved_items(state.workflow.id),
                )
        descriptor = self.runtime.registry.find(action, command.namespace)
        problem = _refusal(descriptor, action, command.input)
        if problem is not None:
            self.local.append(
                (
                    command.workflow_execution_id,
                    RunRejected(run_id=command.run_id, reason=problem),
                )
            )
            return
        extra: dict[str, Any] = {}
        if descriptor is not None and descriptor.is_adhoc:
            extra["context"] = _task_data(state, command.task_execution_id)
        request = ActionRequest(
            run_id=command.run_id,
            action=action,
            namespace=command.namespace,
            input=command.input,
            workflow_execution_id=command.workflow_execution_id,
            task_execution_id=command.task_execution_id,
            workflow_name=state.workflow.workflow_name,
            task_name=command.task_name,
            index=command.index,
            attempt=command.attempt,
            timeout=command.timeout,
            extra=extra,
        )
        if self.inline_budget > 0:
            outcome = self.runtime.executor.run_now(request)
            if outcome is not None:
                self.inline_budget -= 1
                self.local.append(
                    (
                        command.workflow_execution_id,
                        RunCompleted(run_id=command.run_id, result=outcome),
                    )
                )
                return
        self.dispatch.append(request)

    def _timer(self, state: ExecutionState, command: ScheduleTimer) -> None:
        fire_at = self.now + timedelta(seconds=command.delay)
        self.runtime.store.add_timers(
            self.conn,
            [
                {
                    "id": command.timer_id,
                    "root_execution_id": state.workflow.root_id,
                    "workflow_execution_id": command.workflow_execution_id,
                    "task_execution_id": command.task_id,
                    "kind": str(command.kind),
                    "fire_at": fire_at,
                }
            ],
        )
        self.timers.append(
            TimerEntry(
                command.timer_id,
                fire_at,
                command.workflow_execution_id,
                TimerFired(timer_id=command.timer_id, kind=command.kind, task_id=command.task_id),
            )
        )

    # -- local work ------------------------------------------------------------------------

    def run_local(self) -> None:
        """Carries out the work that stays inside this transaction, until none is left."""
        while self.local:
            target, item = self.local.popleft()
            if target == "start":
                self._start_child(item)
            else:
                self.handle(target, item)

    def _start_child(self, command: StartWorkflow) -> None:
        parent = self.state(command.parent_id)
        runtime = self.runtime
        try:
            workbook = runtime.workbook_of(parent.workflow.workflow_id, self.conn)
            definition = runtime.definitions.resolve_workflow(
                command.workflow, namespace=command.namespace, workbook=workbook, conn=self.conn
            )
            spec = runtime.definitions.spec(definition.spec_id, self.conn)
            request = StartRequest(
                id=command.run_id,
                workflow_name=definition.name,
                spec_id=definition.spec_id,
                workflow_id=definition.id,
                namespace=definition.namespace,
                input=command.input,
                params=command.params,
                root_id=command.root_id,
                parent_id=command.parent_id,
                task_execution_id=command.task_execution_id,
                run_index=command.index,
                description=command.description,
            )
            state, decision = engine.start_workflow(spec, request, self.ctx())
        except (NotFound, WorkflowInputError) as e:
            self.handle(
                command.parent_id,
                RunCompleted(run_id=command.run_id, result=ActionResult(error=str(e))),
            )
            return
        self.started(state, decision)


def _refusal(
    descriptor: ActionDescriptor | None, action: str, given: Mapping[str, Any]
) -> str | None:
    """Why the action cannot start (unknown, or input that does not fit), if so."""
    if descriptor is None:
        return str(ActionNotFound(action))
    try:
        descriptor.check(given)
    except ActionInputError as e:
        return str(e)
    return None


def _task_data(state: ExecutionState, task_id: str) -> dict[str, Any]:
    """What Mistral evaluates an ad-hoc action's base-input over, beside the action's
    own input: the task's inbound context, the env and the workflow's context."""
    wf = state.workflow
    task = state.tasks.get(task_id)
    inbound = dataflow.inbound(state, task).values if task is not None else {}
    return {**wf.input, **wf.context, **dataflow.env_layer(state), **inbound}


def _parent_event(command: NotifyParent) -> Event:
    if command.state in (State.PAUSED, State.RUNNING):
        return RunStateChanged(run_id=command.run_id, state=command.state)
    if command.state is State.SUCCESS:
        return RunCompleted(run_id=command.run_id, result=ActionResult(data=command.output))
    return RunCompleted(
        run_id=command.run_id,
        result=ActionResult(
            data=command.output, error=command.error, cancelled=command.state is State.CANCELLED
        ),
    )
