"""The engine's records: a workflow execution, its task executions and their runs.

Records are immutable; the engine returns new versions in a
:class:`~meltemi.engine.decisions.Decision` and the services store them. A *run* is
one unit of work of a task: an action execution, or a sub-workflow execution (then
its id is the child workflow execution's id). A with-items task has one run per item
and attempt.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Self

from meltemi.engine.states import COMPLETED, State
from meltemi.lang import TaskType

JsonValue = Any
"""JSON data (None, bool, int, float, str, lists and dicts of them)."""


class RunKind(enum.StrEnum):
    ACTION = "action"
    WORKFLOW = "workflow"


@dataclass(frozen=True, slots=True, kw_only=True)
class WorkflowExecution:
    id: str
    workflow_name: str
    spec_id: str
    workflow_id: str | None = None
    namespace: str = ""
    root_id: str
    parent_id: str | None = None
    task_execution_id: str | None = None
    run_index: int | None = None
    state: State = State.RUNNING
    state_info: str | None = None
    input: Mapping[str, JsonValue] = field(default_factory=dict)
    params: Mapping[str, JsonValue] = field(default_factory=dict)
    context: Mapping[str, JsonValue] = field(default_factory=dict)
    output: JsonValue = None
    description: str = ""
    tags: tuple[str, ...] = ()
    source_execution_id: str | None = None
    created_at: datetime
    updated_at: datetime | None = None
    task_seq: int = 0

    @property
    def env(self) -> Mapping[str, JsonValue]:
        env = self.params.get("env")
        return env if isinstance(env, Mapping) else {}

    @property
    def is_completed(self) -> bool:
        return self.state in COMPLETED

    def evolve(self, **changes: Any) -> Self:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Trigger:
    """A transition that led to a task: from which task execution, on which event."""

    task_id: str
    event: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemsState:
    """Progress of a with-items task.

    ``values`` holds the evaluated lists by variable name; ``pending`` the indexes not
    yet started (in order); ``running`` how many runs are in flight.
    """

    count: int
    concurrency: int = 0
    values: Mapping[str, tuple[JsonValue, ...]] = field(default_factory=dict)
    next_index: int = 0
    pending: tuple[int, ...] | None = None
    running: int = 0
    finished: int = 0

    def next_indexes(self, limit: int) -> tuple[int, ...]:
        if self.pending is not None:
            return self.pending[:limit]
        return tuple(range(self.next_index, min(self.count, self.next_index + limit)))

    def remaining(self) -> int:
        if self.pending is not None:
            return len(self.pending)
        return self.count - self.next_index


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskExecution:
    id: str
    workflow_execution_id: str
    name: str
    type: TaskType = TaskType.ACTION
    seq: int
    state: State = State.IDLE
    state_info: str | None = None
    triggered_by: tuple[Trigger, ...] = ()
    published: Mapping[str, JsonValue] = field(default_factory=dict)
    result: JsonValue = None
    processed: bool = False
    error_handled: bool = False
    next_tasks: tuple[tuple[str, str], ...] = ()
    # What a 'pause' command held back, for the resume: (task, event) of transitions,
    # (command, its params as JSON text) of engine commands.
    held: tuple[tuple[str, str], ...] = ()
    retry_no: int = 0
    wait_before_done: bool = False
    wait_after_done: bool = False
    pause_before_done: bool = False
    timeout_timer: str | None = None
    delayed_state: State | None = None
    delayed_info: str | None = None
    items: ItemsState | None = None
    reset_count: int = 0
    created_at: datetime
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @property
    def is_completed(self) -> bool:
        return self.state in COMPLETED

    @property
    def has_next_tasks(self) -> bool:
        return bool(self.next_tasks)

    def evolve(self, **changes: Any) -> Self:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One action execution or sub-workflow execution of a task."""

    id: str
    kind: RunKind
    task_execution_id: str
    workflow_execution_id: str
    name: str
    state: State = State.RUNNING
    state_info: str | None = None
    input: Mapping[str, JsonValue] = field(default_factory=dict)
    output: JsonValue = None
    accepted: bool = True
    index: int = 0
    attempt: int = 0
    safe_rerun: bool = False
    timeout: int | None = None
    target: str | None = None
    created_at: datetime
    updated_at: datetime | None = None

    @property
    def is_completed(self) -> bool:
        return self.state in COMPLETED

    def evolve(self, **changes: Any) -> Self:
        return replace(self, **changes)
