"""The workflow engine: pure functions from (state, event) to (changed state, commands).

No database, clock, threads or network here: the host passes the time and a source of
ids in a :class:`StepContext`, stores the records of each :class:`Decision` and carries
out its commands (run an action, start a sub-workflow, set a timer, ...), then feeds
the outcomes back as events.

>>> state, decision = start_workflow(spec, request, ctx)
>>> decision = handle(state, RunCompleted(run_id=..., result=ActionResult(data=1)), ctx)
"""

from __future__ import annotations

from meltemi.engine import _direct, _tasks, _workflow
from meltemi.engine._step import Step
from meltemi.engine._workflow import StartRequest, failure_message, prepare_input
from meltemi.engine.commands import (
    CancelRun,
    CancelTimer,
    Command,
    NotifyParent,
    PauseWorkflow,
    ResumeWorkflow,
    RunAction,
    ScheduleTimer,
    StartWorkflow,
    StopWorkflow,
)
from meltemi.engine.errors import EngineError, InvalidRequest, WorkflowInputError
from meltemi.engine.events import (
    ActionResult,
    Continue,
    Event,
    PauseRequested,
    RerunRequested,
    ResumeRequested,
    RunCompleted,
    RunRejected,
    RunStateChanged,
    SkipRequested,
    StopRequested,
    TimerFired,
    TimerKind,
)
from meltemi.engine.records import (
    ItemsState,
    Run,
    RunKind,
    TaskExecution,
    Trigger,
    WorkflowExecution,
)
from meltemi.engine.state import Decision, ExecutionState, StepContext
from meltemi.engine.states import COMPLETED, State
from meltemi.lang import WorkflowSpec, WorkflowType


def start_workflow(
    spec: WorkflowSpec, request: StartRequest, ctx: StepContext
) -> tuple[ExecutionState, Decision]:
    """Creates a workflow execution and starts its first tasks.

    Raises WorkflowInputError when the input or the reverse-workflow target does not
    fit the workflow (nothing is created then).
    """
    step = _workflow.start(spec, request, ctx)
    return step.state, step.state.take_decision()


def handle(state: ExecutionState, event: Event, ctx: StepContext) -> Decision:
    """Applies one event to a workflow execution; returns what changed and the commands.

    The state is advanced in place. Raises InvalidRequest for a request that does not
    apply (then the state is unchanged).
    """
    step = Step(state, ctx)
    _dispatch(step, event)
    step.drain()
    if state.spec.type is WorkflowType.DIRECT:
        _direct.evaluate_joins(step)
        step.drain()
    _workflow.check_completion(step)
    step.drain()
    return state.take_decision()


def _dispatch(step: Step, event: Event) -> None:  # one branch per event kind
    if isinstance(event, RunCompleted):
        _tasks.run_finished(step, event.run_id, event.result)
    elif isinstance(event, RunRejected):
        _tasks.run_rejected(step, event.run_id, event.reason)
    elif isinstance(event, TimerFired):
        _tasks.timer_fired(step, event.kind, event.task_id)
    elif isinstance(event, RunStateChanged):
        _workflow.run_state_changed(step, event.run_id, event.state)
    elif isinstance(event, PauseRequested):
        _workflow.pause(step, event.message)
    elif isinstance(event, ResumeRequested):
        _workflow.resume(step, event.env)
    elif isinstance(event, StopRequested):
        _workflow.stop(step, event.state, event.message)
    elif isinstance(event, RerunRequested):
        _workflow.rerun(step, event.task_id, event.reset, event.env)
    elif isinstance(event, SkipRequested):
        _workflow.skip(step, event.task_id)
    elif isinstance(event, Continue) and step.wf.state is State.RUNNING:
        _workflow.continue_workflow(step)


__all__ = [
    "COMPLETED",
    "ActionResult",
    "CancelRun",
    "CancelTimer",
    "Command",
    "Continue",
    "Decision",
    "EngineError",
    "Event",
    "ExecutionState",
    "InvalidRequest",
    "ItemsState",
    "NotifyParent",
    "PauseRequested",
    "PauseWorkflow",
    "RerunRequested",
    "ResumeRequested",
    "ResumeWorkflow",
    "Run",
    "RunAction",
    "RunCompleted",
    "RunKind",
    "RunRejected",
    "RunStateChanged",
    "ScheduleTimer",
    "SkipRequested",
    "StartRequest",
    "StartWorkflow",
    "State",
    "StepContext",
    "StopRequested",
    "StopWorkflow",
    "TaskExecution",
    "TimerFired",
    "TimerKind",
    "Trigger",
    "WorkflowExecution",
    "WorkflowInputError",
    "failure_message",
    "handle",
    "prepare_input",
    "start_workflow",
]
