"""Commands the engine asks its host to carry out. Names are imperative."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meltemi.engine.events import TimerKind
from meltemi.engine.states import State


@dataclass(frozen=True, slots=True, kw_only=True)
class RunAction:
    """Run an action; report the result as RunCompleted(run_id)."""

    run_id: str
    workflow_execution_id: str
    task_execution_id: str
    task_name: str
    action: str
    input: Mapping[str, Any]
    namespace: str = ""
    workbook: str | None = None
    index: int = 0
    attempt: int = 0
    target: str | None = None
    timeout: int | None = None
    safe_rerun: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class StartWorkflow:
    """Start a sub-workflow execution with id ``run_id`` for a task."""

    run_id: str
    parent_id: str
    root_id: str
    task_execution_id: str
    workflow: str
    namespace: str
    workbook: str | None
    input: Mapping[str, Any]
    params: Mapping[str, Any]
    index: int = 0
    description: str = "sub-workflow execution"  # what Mistral writes there


@dataclass(frozen=True, slots=True, kw_only=True)
class ScheduleTimer:
    timer_id: str
    kind: TimerKind
    workflow_execution_id: str
    task_id: str
    delay: float


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelTimer:
    timer_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class CancelRun:
    """Cancel a running action (best effort) or sub-workflow execution."""

    run_id: str
    child_workflow: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseWorkflow:
    """Pause a child workflow execution."""

    workflow_execution_id: str
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeWorkflow:
    workflow_execution_id: str
    env: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StopWorkflow:
    workflow_execution_id: str
    state: State
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifyParent:
    """A sub-workflow finished (or paused/resumed): tell the parent's run."""

    parent_id: str
    run_id: str
    state: State
    output: Any = None
    error: str | None = None


Command = (
    RunAction
    | StartWorkflow
    | ScheduleTimer
    | CancelTimer
    | CancelRun
    | PauseWorkflow
    | ResumeWorkflow
    | StopWorkflow
    | NotifyParent
)
