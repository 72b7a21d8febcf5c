"""Events the engine reacts to. Names are past tense (what happened) or requests."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from meltemi.actions.base import Outcome
from meltemi.engine.states import State

# What a run gave back (data, or an error, or a cancellation): the action contract's
# own outcome, so results pass from the executor to the engine unchanged.
ActionResult = Outcome


@dataclass(frozen=True, slots=True, kw_only=True)
class RunCompleted:
    """An action run finished, or a sub-workflow run finished (then ``result.data`` is
    its output, and on failure ``result.error`` its state_info)."""

    run_id: str
    result: ActionResult


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRejected:
    """An action run could not start: no such action, or input that does not fit it.
    As in Mistral, its task and the workflow fail (no retry, no on-error)."""

    run_id: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunStateChanged:
    """A run that is not finished changed state (an async action or a sub-workflow
    paused or resumed)."""

    run_id: str
    state: State


class TimerKind(enum.StrEnum):
    WAIT_BEFORE = "wait-before"
    WAIT_AFTER = "wait-after"
    RETRY = "retry"
    TIMEOUT = "timeout"
    JOIN_RETRY = "join-retry"


@dataclass(frozen=True, slots=True, kw_only=True)
class TimerFired:
    timer_id: str
    kind: TimerKind
    task_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseRequested:
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ResumeRequested:
    env: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StopRequested:
    """Force the workflow to SUCCESS, ERROR or CANCELLED (cancel, or a user's stop)."""

    state: State
    message: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RerunRequested:
    task_id: str
    reset: bool = True
    env: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SkipRequested:
    task_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Continue:
    """Re-examine the workflow (after a restart, or when a child resumed the parent)."""


Event = (
    RunCompleted
    | RunRejected
    | RunStateChanged
    | TimerFired
    | PauseRequested
    | ResumeRequested
    | StopRequested
    | RerunRequested
    | SkipRequested
    | Continue
)
