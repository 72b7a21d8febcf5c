"""A deterministic host for the pure engine: runs actions in memory, fires timers on a
simulated clock, starts sub-workflows, and routes notifications between executions.

Tests drive workflows through it and assert on the records and commands, with no
database, threads or real time.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
    TaskExecution,
    TimerFired,
    WorkflowInputError,
    dataflow,
    handle,
    start_workflow,
)
from meltemi.lang import WorkflowSpec, load

Action = Callable[[dict[str, Any]], ActionResult]


def _echo(inp: dict[str, Any]) -> ActionResult:
    return ActionResult(data=inp.get("output"))


def _fail(inp: dict[str, Any]) -> ActionResult:
    return ActionResult(error=inp.get("error_data") or "Fail action expected exception.")


def _noop(inp: dict[str, Any]) -> ActionResult:
    return ActionResult(data=None)


DEFAULT_ACTIONS: dict[str, Action] = {
    "std.noop": _noop,
    "std.echo": _echo,
    "std.fail": _fail,
    "std.sleep": _noop,
}


@dataclass
class Simulator:
    specs: dict[str, WorkflowSpec]
    actions: dict[str, Action] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))
    hold: set[str] = field(default_factory=set)  # actions whose results tests send by hand
    now: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    states: dict[str, ExecutionState] = field(default_factory=dict)
    held: dict[str, RunAction] = field(default_factory=dict)
    log: list[Command] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ids = itertools.count(1)
        self._timers: list[tuple[datetime, int, str, TimerFired]] = []
        self._cancelled_timers: set[str] = set()
        self._queue: deque[RunAction] = deque()

    @classmethod
    def from_yaml(cls, text: str, **kwargs: Any) -> Simulator:
        document = load(text)
        return cls({wf.name: wf for wf in document.workflows}, **kwargs)

    # -- host plumbing -------------------------------------------------------------------

    def _new_id(self) -> str:
        return f"id-{next(self._ids):05d}"

    def ctx(self) -> StepContext:
        return StepContext(now=self.now, new_id=self._new_id, world=self)

    # -- the world the engine sees (tasks(), executions()) -------------------------------

    def state_of(self, workflow_execution_id: str) -> ExecutionState | None:
        return self.states.get(workflow_execution_id)

    def execution_ids(self) -> list[str]:
        return list(self.states)

    def executions(
        self,
        *,
        id: str | None,
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> list[dict[str, Any]]:
        return [dataflow.execution_dict(s.workflow) for s in self.states.values()]

    def start(
        self,
        name: str,
        input: Mapping[str, Any] | None = None,  # mirrors the API field
        params: Mapping[str, Any] | None = None,
        *,
        parent: StartWorkflow | None = None,
    ) -> str:
        wf_id = parent.run_id if parent else self._new_id()
        request = StartRequest(
            id=wf_id,
            workflow_name=name,
            spec_id=name,
            input=dict(input or {}),
            params=dict(params or {}),
            root_id=parent.root_id if parent else None,
            parent_id=parent.parent_id if parent else None,
            task_execution_id=parent.task_execution_id if parent else None,
            run_index=parent.index if parent else None,
            description=parent.description if parent else "",
        )
        state, decision = start_workflow(self.specs[name], request, self.ctx())
        self.states[wf_id] = state
        self._carry_out(decision)
        return wf_id

    def send(self, wf_id: str, event: Event) -> Decision:
        decision = handle(self.states[wf_id], event, self.ctx())
        self._carry_out(decision)
        return decision

    def _carry_out(self, decision: Decision) -> None:
        for command in decision.commands:
            self.log.append(command)
            self._command(command)

    def _command(self, command: Command) -> None:  # one branch per command
        if isinstance(command, RunAction):
            if command.action in self.hold:
                self.held[command.run_id] = command
            else:
                self._queue.append(command)
        elif isinstance(command, ScheduleTimer):
            at = self.now + timedelta(seconds=command.delay)
            event = TimerFired(
                timer_id=command.timer_id, kind=command.kind, task_id=command.task_id
            )
            heapq.heappush(
                self._timers, (at, next(self._ids), command.workflow_execution_id, event)
            )
        elif isinstance(command, CancelTimer):
            self._cancelled_timers.add(command.timer_id)
        elif isinstance(command, CancelRun):
            self.held.pop(command.run_id, None)
        elif isinstance(command, StartWorkflow):
            self._start_child(command)
        elif isinstance(command, NotifyParent):
            self._notify(command)
        elif isinstance(command, PauseWorkflow):
            self.send(command.workflow_execution_id, PauseRequested(message=command.message))
        elif isinstance(command, ResumeWorkflow):
            self.send(command.workflow_execution_id, ResumeRequested(env=command.env))
        elif isinstance(command, StopWorkflow):
            self.send(
                command.workflow_execution_id,
                StopRequested(state=command.state, message=command.message),
            )

    def _start_child(self, command: StartWorkflow) -> None:
        if command.workflow not in self.specs:
            error = f"Workflow not found [workflow_identifier={command.workflow}]"
            self.send(
                command.parent_id,
                RunCompleted(run_id=command.run_id, result=ActionResult(error=error)),
            )
            return
        try:
            self.start(command.workflow, command.input, command.params, parent=command)
        except WorkflowInputError as e:
            self.send(
                command.parent_id,
                RunCompleted(run_id=command.run_id, result=ActionResult(error=str(e))),
            )

    def _notify(self, command: NotifyParent) -> None:
        if command.state in (State.PAUSED, State.RUNNING):
            self.send(
                command.parent_id, RunStateChanged(run_id=command.run_id, state=command.state)
            )
            return
        result = (
            ActionResult(data=command.output)
            if command.state is State.SUCCESS
            else ActionResult(
                data=command.output,
                error=command.error,
                cancelled=command.state is State.CANCELLED,
            )
        )
        self.send(command.parent_id, RunCompleted(run_id=command.run_id, result=result))

    # -- running -------------------------------------------------------------------------

    def complete(self, run_id: str, result: ActionResult) -> None:
        command = self.held.pop(run_id)
        self.send(command.workflow_execution_id, RunCompleted(run_id=run_id, result=result))

    def step(self) -> bool:
        """Runs one queued action or fires the next timer; False when nothing is left."""
        if self._queue:
            command = self._queue.popleft()
            state = self.states[command.workflow_execution_id]
            run = state.runs.get(command.run_id)
            if run is None or run.state is not State.RUNNING:
                return True
            action = self.actions.get(command.action)
            if action is None:
                reason = f"Failed to find action [action_name={command.action}]"
                self.send(
                    command.workflow_execution_id,
                    RunRejected(run_id=command.run_id, reason=reason),
                )
                return True
            result = action(dict(command.input))
            self.send(
                command.workflow_execution_id, RunCompleted(run_id=command.run_id, result=result)
            )
            return True
        while self._timers:
            at, _seq, wf_id, event = heapq.heappop(self._timers)
            if event.timer_id in self._cancelled_timers:
                continue
            self.now = max(self.now, at)
            self.send(wf_id, event)
            return True
        return False

    def run(self, limit: int = 1_000_000) -> None:
        for _ in range(limit):
            if not self.step():
                return
        raise AssertionError("the simulation did not settle")

    def execute(
        self,
        name: str,
        input: Mapping[str, Any] | None = None,  # mirrors the API field
        params: Mapping[str, Any] | None = None,
    ) -> ExecutionState:
        wf_id = self.start(name, input, params)
        self.run()
        return self.states[wf_id]


def tasks(state: ExecutionState) -> list[tuple[str, str]]:
    """(name, state) of each task execution, in creation order."""
    return [(t.name, str(t.state)) for t in state.iter_tasks()]


def task(state: ExecutionState, name: str) -> TaskExecution:
    found = state.latest(name)
    assert found is not None, f"no task {name}"
    return found
