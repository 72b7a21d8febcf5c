"""One step of the engine: the state being advanced, the host's context, and a queue.

Work that would otherwise recurse (a task that completes while it starts, which
starts the next task, which ...) is queued with :meth:`Step.later` and run after the
current operation, so long chains never deepen the Python stack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from datetime import datetime

from meltemi.engine.commands import Command
from meltemi.engine.records import Run, TaskExecution, WorkflowExecution
from meltemi.engine.state import ExecutionState, StepContext
from meltemi.lang import WorkflowSpec

# Mistral trims every execution's state_info to this many characters (and adds "...").
STATE_INFO_LIMIT = 65500


def _trimmed(info: str | None) -> str | None:
    if info is not None and len(info) > STATE_INFO_LIMIT:
        return f"{info[:STATE_INFO_LIMIT]}..."
    return info


class Step:
    __slots__ = ("_queue", "ctx", "state")

    def __init__(self, state: ExecutionState, ctx: StepContext) -> None:
        self.state = state
        self.ctx = ctx
        state.world = ctx.world
        self._queue: deque[Callable[[], None]] = deque()

    @property
    def spec(self) -> WorkflowSpec:
        return self.state.spec

    @property
    def wf(self) -> WorkflowExecution:
        return self.state.workflow

    @property
    def now(self) -> datetime:
        return self.ctx.now

    def new_id(self) -> str:
        return self.ctx.new_id()

    def put_task(self, task: TaskExecution) -> TaskExecution:
        task = task.evolve(updated_at=self.ctx.now, state_info=_trimmed(task.state_info))
        self.state.put_task(task)
        return task

    def put_run(self, run: Run) -> Run:
        if run.state_info is not None and len(run.state_info) > STATE_INFO_LIMIT:
            run = run.evolve(state_info=_trimmed(run.state_info))
        self.state.put_run(run)
        return run

    def set_workflow(self, workflow: WorkflowExecution) -> WorkflowExecution:
        workflow = workflow.evolve(
            updated_at=self.ctx.now, state_info=_trimmed(workflow.state_info)
        )
        self.state.set_workflow(workflow)
        return workflow

    def emit(self, command: Command) -> None:
        self.state.emit(command)

    def later(self, work: Callable[[], None]) -> None:
        self._queue.append(work)

    def drain(self) -> None:
        while self._queue:
            self._queue.popleft()()
