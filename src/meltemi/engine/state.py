"""The state of one workflow execution as the engine sees it, and what a step changed.

:class:`ExecutionState` is the aggregate the engine works on: the workflow execution
record, its task executions and their runs, with the indexes the engine needs to
decide in constant time (the latest execution of a task name, how many tasks are
still incomplete, which inbound tasks reached or missed each join).

The engine advances a state in place and returns a :class:`Decision` listing every
record it changed and the commands for the host. The state belongs to one caller at a
time; a caller whose transaction fails must throw the state away and rebuild it from
the stored records (:meth:`ExecutionState.load`). Everything but the records is
derived, so a rebuilt state decides exactly as the old one would have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from meltemi.engine.commands import Command
from meltemi.engine.records import Run, TaskExecution, WorkflowExecution
from meltemi.lang import WorkflowSpec, WorkflowType


class World(Protocol):
    """What lies outside the execution a step works on, read-only; the host provides
    it for the expression functions that look there (``tasks()``, ``executions()``)."""

    def state_of(self, workflow_execution_id: str) -> ExecutionState | None:
        """Another workflow execution, as stored; None when there is none."""

    def execution_ids(self) -> list[str]:
        """Every workflow execution, oldest first."""

    def executions(
        self,
        *,
        id: str | None,
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> list[dict[str, Any]]:
        """Workflow executions matching every filter given (created_at in
        [from_time, to_time)), as dicts, oldest first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class StepContext:
    """What the host gives a step: the time, a source of new unique ids, and
    (optionally) a read-only view of other executions."""

    now: datetime
    new_id: Callable[[], str]
    world: World | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """The outcome of one step: changed records (latest versions) and commands."""

    workflow: WorkflowExecution | None
    tasks: tuple[TaskExecution, ...]
    runs: tuple[Run, ...]
    commands: tuple[Command, ...]

    @property
    def changed(self) -> bool:
        return bool(self.workflow or self.tasks or self.runs or self.commands)


@dataclass(slots=True)
class _JoinProgress:
    """Which inbound tasks of a join reached it, and which can no longer reach it."""

    arrived: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (id, event)
    missed: set[str] = field(default_factory=set)


class ExecutionState:
    """One workflow execution: its record, tasks and runs, with derived indexes."""

    def __init__(self, spec: WorkflowSpec, workflow: WorkflowExecution) -> None:
        self.spec = spec
        self.workflow = workflow
        self.tasks: dict[str, TaskExecution] = {}
        self.runs: dict[str, Run] = {}
        self._latest: dict[str, str] = {}
        self._runs_by_task: dict[str, list[str]] = {}
        self._incomplete: set[str] = set()
        self._unhandled_errors: set[str] = set()
        self._cancelled: set[str] = set()
        self._waiting: set[str] = set()
        self._touched_joins: dict[str, None] = {}
        self._joins: dict[str, _JoinProgress] = {}
        self._missed_from: dict[str, set[str]] = {}
        self._dead: set[str] = set()
        self._processed: set[str] = set()
        # Derived caches the engine fills (pure functions of the records).
        self.contexts: dict[str, Any] = {}
        self._journal_workflow = False
        self._journal_tasks: dict[str, None] = {}
        self._journal_runs: dict[str, None] = {}
        self._commands: list[Command] = []
        # Set by each step from its context: other executions, for tasks()/executions().
        self.world: World | None = None

    # -- building --------------------------------------------------------------------

    @classmethod
    def load(
        cls,
        spec: WorkflowSpec,
        workflow: WorkflowExecution,
        tasks: Iterable[TaskExecution],
        runs: Iterable[Run],
    ) -> ExecutionState:
        """A state rebuilt from stored records (tasks in any order)."""
        state = cls(spec, workflow)
        for task in sorted(tasks, key=lambda t: t.seq):
            state._index_task(task)
        for run in runs:
            state._index_run(run)
        return state

    # -- reading ---------------------------------------------------------------------

    def task(self, task_id: str) -> TaskExecution:
        return self.tasks[task_id]

    def latest(self, name: str) -> TaskExecution | None:
        """The most recent execution of the task called ``name``."""
        task_id = self._latest.get(name)
        return self.tasks[task_id] if task_id is not None else None

    def runs_of(self, task_id: str) -> list[Run]:
        return [self.runs[r] for r in self._runs_by_task.get(task_id, ())]

    def run_ids_of(self, task_id: str) -> list[str]:
        return self._runs_by_task.get(task_id, [])

    def incomplete_count(self) -> int:
        return len(self._incomplete)

    def incomplete_tasks(self) -> list[TaskExecution]:
        return [self.tasks[t] for t in self._incomplete]

    def only_waiting_left(self) -> bool:
        """True when every incomplete task is a join waiting for inbound tasks."""
        return bool(self._incomplete) and len(self._waiting) == len(self._incomplete)

    def has_unhandled_errors(self) -> bool:
        return bool(self._unhandled_errors)

    def unhandled_errors(self) -> list[TaskExecution]:
        return sorted((self.tasks[t] for t in self._unhandled_errors), key=lambda t: t.name)

    def has_cancelled_tasks(self) -> bool:
        return bool(self._cancelled)

    def cancelled_tasks(self) -> list[TaskExecution]:
        return sorted((self.tasks[t] for t in self._cancelled), key=lambda t: t.name)

    def take_touched_joins(self) -> list[str]:
        """Joins whose progress changed since the last call."""
        touched = list(self._touched_joins)
        self._touched_joins = {}
        return touched

    def join_progress(self, join_name: str) -> tuple[dict[str, tuple[str, str]], set[str]]:
        progress = self._joins.get(join_name)
        if progress is None:
            return {}, set()
        return progress.arrived, progress.missed

    def is_dead(self, name: str) -> bool:
        return name in self._dead

    def iter_tasks(self) -> Iterator[TaskExecution]:
        """Task executions in the order they were created."""
        return iter(self.tasks.values())

    # -- writing (engine only) -------------------------------------------------------

    def set_workflow(self, workflow: WorkflowExecution) -> None:
        self.workflow = workflow
        self._journal_workflow = True

    def put_task(self, task: TaskExecution) -> None:
        self._index_task(task)
        self._journal_tasks[task.id] = None

    def put_run(self, run: Run) -> None:
        self._index_run(run)
        self._journal_runs[run.id] = None

    def emit(self, command: Command) -> None:
        self._commands.append(command)

    def take_decision(self) -> Decision:
        """The changes since the last call, as a Decision; starts a new journal."""
        decision = Decision(
            workflow=self.workflow if self._journal_workflow else None,
            tasks=tuple(self.tasks[t] for t in self._journal_tasks),
            runs=tuple(self.runs[r] for r in self._journal_runs),
            commands=tuple(self._commands),
        )
        self._journal_workflow = False
        self._journal_tasks = {}
        self._journal_runs = {}
        self._commands = []
        return decision

    # -- indexes -----------------------------------------------------------------------

    def _index_task(self, task: TaskExecution) -> None:
        previous = self.tasks.get(task.id)
        self.tasks[task.id] = task
        latest_id = self._latest.get(task.name)
        if latest_id is None or self.tasks[latest_id].seq <= task.seq:
            self._latest[task.name] = task.id
        if task.is_completed:
            self._incomplete.discard(task.id)
        else:
            self._incomplete.add(task.id)
        if task.state == "ERROR" and not task.error_handled and task.processed:
            self._unhandled_errors.add(task.id)
        else:
            self._unhandled_errors.discard(task.id)
        if task.state == "CANCELLED":
            self._cancelled.add(task.id)
        else:
            self._cancelled.discard(task.id)
        if task.state == "WAITING":
            self._waiting.add(task.id)
        else:
            self._waiting.discard(task.id)
        if previous is not None and previous is not task:
            self.contexts.pop(task.id, None)
        if task.processed and task.id not in self._processed:
            self._processed.add(task.id)
            if self.spec.type is WorkflowType.DIRECT:
                self._track_transitions(task)
        elif not task.processed:
            self._processed.discard(task.id)

    def _index_run(self, run: Run) -> None:
        if run.id not in self.runs:
            self._runs_by_task.setdefault(run.task_execution_id, []).append(run.id)
        self.runs[run.id] = run

    def _track_transitions(self, task: TaskExecution) -> None:
        """Records which joins a processed task reached or missed (dead paths)."""
        self._dead.discard(task.name)
        fired = {name for name, _event in task.next_tasks}
        for target, event in task.next_tasks:
            if self.spec.tasks.get(target) is not None and self.spec.tasks[target].join:
                progress = self._joins.setdefault(target, _JoinProgress())
                progress.arrived[task.name] = (task.id, event)
                progress.missed.discard(task.name)
                self._touched_joins[target] = None
        for target in self.spec.outbound(task.name) - fired:
            self._missed(target, task.name)

    def _missed(self, target: str, source: str) -> None:
        """``source`` finished (or can never run) without a transition to ``target``."""
        target_spec = self.spec.tasks.get(target)
        if target_spec is None:
            return  # an engine command
        if target_spec.join:
            progress = self._joins.setdefault(target, _JoinProgress())
            if source not in progress.arrived:
                progress.missed.add(source)
                self._touched_joins[target] = None
            return
        if target in self._latest or target in self._dead:
            return
        missed = self._missed_from.setdefault(target, set())
        missed.add(source)
        if len(missed) >= len(self.spec.inbound(target)):
            # No inbound task can lead here any more: this path is dead, and so are
            # the transitions it would have made.
            self._dead.add(target)
            for following in self.spec.outbound(target):
                self._missed(following, target)
