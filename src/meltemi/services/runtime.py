"""The runtime: the engine, the executor and the timers around one database.

One worker thread applies all events and requests, in batches: each batch is one
database transaction (so concurrent steps of different executions share a commit),
and only once it is committed are actions handed to the executor and timers armed.
Operations (start, pause, resume, cancel, rerun, ...) are queued to the same worker
and the caller waits for their result; they are therefore serialised with the
events and each runs in one transaction.

Instant actions (std.noop, std.echo without delay, ...) run in-line on the worker,
in the transaction of the decision that asked for them, which saves a commit and a
thread hop per task; a budget per batch keeps batches short.

Crash safety: on start, every stored timer is armed again, and every action that
was in flight is either run again (when its task says safe-rerun, or the action is
idempotent by contract) or completed with an error that says it was interrupted.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from meltemi import engine
from meltemi.actions import ActionRegistry, Outcome
from meltemi.engine import (
    ActionResult,
    Event,
    ExecutionState,
    RunCompleted,
    State,
    TimerFired,
    TimerKind,
    WorkflowExecution,
)
from meltemi.executor import ActionRequest, Executor
from meltemi.persistence.db import Database
from meltemi.persistence.executions import ExecutionStore
from meltemi.persistence.models import WorkflowDefinitionRow, table
from meltemi.scheduler import TimerWheel
from meltemi.services._transaction import TimerEntry, Transaction
from meltemi.services.definitions import Definitions
from meltemi.services.errors import Conflict, InvalidInput, NotFound, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
# Told how long each action ran on the executor (e.g. to feed a metrics histogram).
ActionObserver = Callable[[ActionRequest, Outcome, float], None]

INTERRUPTED = (
    "The action was in flight when Meltemi stopped, and running it again is not known "
    "to be safe; set 'safe-rerun: true' on the task to let Meltemi run it again"
)


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class StateCache:
    """Execution states in memory, by workflow execution id, checked by tree version."""

    def __init__(self) -> None:
        self._states: dict[str, ExecutionState] = {}
        self._saved_items: dict[str, set[str]] = {}
        self._roots: dict[str, str] = {}
        self._versions: dict[str, int] = {}
        self._trees: dict[str, set[str]] = {}

    def root_of(self, wf_id: str) -> str | None:
        return self._roots.get(wf_id)

    def remember_root(self, wf_id: str, root_id: str) -> None:
        self._roots[wf_id] = root_id
        self._trees.setdefault(root_id, set()).add(wf_id)

    def get(self, wf_id: str) -> ExecutionState | None:
        return self._states.get(wf_id)

    def put(self, state: ExecutionState, saved_items: set[str]) -> None:
        wf = state.workflow
        self._states[wf.id] = state
        self._saved_items[wf.id] = saved_items
        self.remember_root(wf.id, wf.root_id)

    def saved_items(self, wf_id: str) -> set[str]:
        return self._saved_items.setdefault(wf_id, set())

    def tree(self, root_id: str) -> set[str]:
        """The ids of the executions of a tree held here."""
        return set(self._trees.get(root_id, ()))

    def check_version(self, root_id: str, version: int) -> None:
        if self._versions.get(root_id) != version:
            self.evict(root_id)
            self._versions[root_id] = version

    def set_version(self, root_id: str, version: int) -> None:
        self._versions[root_id] = version

    def evict(self, root_id: str) -> None:
        for wf_id in self._trees.pop(root_id, set()):
            self._states.pop(wf_id, None)
            self._saved_items.pop(wf_id, None)
            self._roots.pop(wf_id, None)
        self._versions.pop(root_id, None)

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]  # reset every index at once


@dataclass(slots=True)
class _Work:
    wf_id: str | None = None
    event: Event | None = None
    call: Callable[[Transaction], Any] | None = None
    future: Future[Any] | None = None
    attempts: int = 0


class Runtime:
    """Runs workflow executions durably on one database."""

    def __init__(
        self,
        db: Database,
        *,
        registry: ActionRegistry | None = None,
        workers: int = 64,
        inline_budget: int = 2000,
        batch_size: int = 256,
        clock: Callable[[], datetime] = utcnow,
        callback_base: str | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.new_id = new_id
        self.store = ExecutionStore()
        self.definitions = Definitions(db)
        self.registry = registry or ActionRegistry()
        self.registry.set_resolver(self.definitions.action_resolver(self.registry))
        self.executor = Executor(
            self.registry, self._action_done, workers=workers, callback_base=callback_base
        )
        self.timers: TimerWheel[TimerEntry] = TimerWheel(self._timer_due, clock=clock)
        self.cache = StateCache()
        self.inline_budget = inline_budget
        self.batch_size = batch_size
        self._queue: queue.Queue[_Work | None] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="meltemi-engine", daemon=True)
        self._accepting = False
        self._stopped = False
        self._finished = threading.Condition()
        self._workbooks: dict[str, str | None] = {}
        self.action_observer: ActionObserver | None = None

    @property
    def queue_depth(self) -> int:
        """Events and requests waiting for the worker."""
        return self._queue.qsize()

    def _dispatch(self, request: ActionRequest) -> None:
        """Hands an action to the executor, noting when (for the action observer)."""
        stamped = {**request.extra, "dispatched_at": time.monotonic()}
        self.executor.submit(replace(request, extra=stamped))

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self.db.migrate()
        pending = self._recover()
        self._accepting = True
        self.timers.start()
        self._thread.start()
        for work in pending:
            self._queue.put(work)

    def stop(self, *, grace: float = 10.0) -> None:
        """Stops taking work, lets in-flight actions finish for ``grace`` seconds."""
        if self._stopped:
            return
        self._stopped = True
        self._accepting = False
        self.timers.stop()
        if grace <= 0:
            self.executor.shutdown(wait=False)
        else:
            self._drain(grace)
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout=max(grace, 1.0) + 30)
        self.db.dispose()

    def _drain(self, grace: float) -> None:
        done = threading.Event()

        def wait() -> None:
            self.executor.shutdown(wait=True)
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        if not done.wait(grace):
            self.executor.shutdown(wait=False)

    def _recover(self) -> list[_Work]:
        """Arms stored timers; re-runs or fails actions that were in flight."""
        work: list[_Work] = []
        with self.db.read() as conn:
            for row in self.store.all_timers(conn):
                entry = TimerEntry(
                    row["id"],
                    row["fire_at"],
                    row["workflow_execution_id"],
                    TimerFired(
                        timer_id=row["id"],
                        kind=TimerKind(row["kind"]),
                        task_id=row["task_execution_id"],
                    ),
                )
                self.timers.add(entry.id, entry.fire_at, entry)
            live = self._live_workflows(conn)
            for run in self.store.running_action_runs(conn):
                if run["workflow_execution_id"] not in live:
                    continue
                if self.executor.is_async(run["name"]):
                    continue
                if run["safe_rerun"] or self.executor.is_idempotent(run["name"]):
                    # In a transaction of its own, so that the request is built as the
                    # first one was (namespace, an ad-hoc action's task data).
                    work.append(_Work(call=partial(Transaction.redispatch, run=run)))
                else:
                    work.append(
                        _Work(
                            wf_id=run["workflow_execution_id"],
                            event=RunCompleted(
                                run_id=run["id"], result=ActionResult(error=INTERRUPTED)
                            ),
                        )
                    )
        return work

    def _live_workflows(self, conn: Connection) -> set[str]:
        from meltemi.persistence.executions import WF

        rows = conn.execute(
            sa.select(WF.c.id).where(WF.c.state.in_([str(State.RUNNING), str(State.PAUSED)]))
        ).scalars()
        return set(rows)

    # -- events from the executor and the timers ------------------------------------------

    def _action_done(self, request: ActionRequest, outcome: Outcome) -> None:
        observer, since = self.action_observer, request.extra.get("dispatched_at")
        if observer is not None and since is not None:
            try:
                observer(request, outcome, time.monotonic() - since)
            except Exception:  # an observer must never lose a result
                log.exception("runtime.observer_failed")
        if request.workflow_execution_id is None:
            from meltemi.services.action_runs import ActionRuns

            runs = ActionRuns(self)
            self.enqueue(lambda tx: runs.store_in(tx, request.run_id, outcome))
            return
        event = RunCompleted(run_id=request.run_id, result=outcome)
        self._queue.put(_Work(wf_id=request.workflow_execution_id, event=event))

    def _timer_due(self, entry: TimerEntry) -> None:
        self._queue.put(_Work(wf_id=entry.workflow_execution_id, event=entry.event))

    def submit(self, wf_id: str, event: Event) -> None:
        """Queues an event for a workflow execution (e.g. an async action's result)."""
        self._queue.put(_Work(wf_id=wf_id, event=event))

    # -- the worker --------------------------------------------------------------------

    def enqueue(self, fn: Callable[[Transaction], object]) -> None:
        """Runs ``fn`` in a coming transaction of the worker, without waiting for it."""
        self._queue.put(_Work(call=fn))

    def call(self, fn: Callable[[Transaction], T], *, timeout: float | None = 300) -> T:
        """Runs ``fn`` in the worker's next transaction and returns its result."""
        if not self._accepting:
            raise Unavailable("Meltemi is stopping; try again when it has restarted")
        future: Future[T] = Future()
        self._queue.put(_Work(call=fn, future=future))
        return future.result(timeout=timeout)

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < self.batch_size:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._queue.put(None)
                    break
                batch.append(item)
            self._process(batch)

    def _process(self, batch: list[_Work]) -> None:
        try:
            self._run_batch(batch)
        except Exception:  # one bad item must not stop the worker
            log.exception("runtime.batch_failed", extra={"size": len(batch)})
            self.cache.clear()
            if len(batch) > 1:
                for work in batch:
                    self._process([work])
                return
            self._give_up(batch[0])

    def _give_up(self, work: _Work) -> None:
        if work.future is not None:
            return  # the caller already got the exception
        work.attempts += 1
        if work.attempts < 3:
            self._queue.put(work)
            return
        log.error("runtime.event_dropped", extra={"wf": work.wf_id, "event": repr(work.event)})

    def _run_batch(self, batch: list[_Work]) -> None:
        results: list[tuple[_Work, Any, BaseException | None]] = []
        with self.db.write() as conn:
            tx = Transaction(self, conn, self.inline_budget)
            for work in batch:
                if work.call is not None:
                    try:
                        result = work.call(tx)
                    except (engine.EngineError, NotFound, InvalidInput, Conflict) as e:
                        results.append((work, None, e))
                        continue
                    except Exception as e:
                        if work.future is not None:
                            work.future.set_exception(e)
                            work.future = None
                        raise
                    results.append((work, result, None))
                elif work.wf_id is not None and work.event is not None:
                    try:
                        tx.handle(work.wf_id, work.event)
                    except NotFound:
                        log.info("runtime.event_for_unknown_execution", extra={"wf": work.wf_id})
                tx.run_local()
            tx.writes.flush(conn)
            for root in tx.touched:
                version = self.store.bump_version(conn, root)
                tx.locked[root] = version
        for root, version in tx.locked.items():
            if root in tx.touched:
                self.cache.set_version(root, version)
        self._after_commit(tx, results)

    def _after_commit(
        self, tx: Transaction, results: list[tuple[_Work, Any, BaseException | None]]
    ) -> None:
        for request in tx.dispatch:
            self._dispatch(request)
        for run_id in tx.cancels:
            self.executor.cancel(run_id)
        for timer_id in tx.cancelled_timers:
            self.timers.cancel(timer_id)
        for entry in tx.timers:
            self.timers.add(entry.id, entry.fire_at, entry)
        for action in tx.after_commit:
            action()
        for work, result, error in results:
            if work.future is None:
                continue
            if error is not None:
                work.future.set_exception(error)
            else:
                work.future.set_result(result() if callable(result) else result)
        if tx.finished_roots:
            for root in tx.finished_roots:
                self.cache.evict(root)
            with self._finished:
                self._finished.notify_all()

    # -- helpers for transactions ------------------------------------------------------

    def workbook_of(self, workflow_id: str | None, conn: Connection) -> str | None:
        if workflow_id is None:
            return None
        if workflow_id not in self._workbooks:
            definitions = table(WorkflowDefinitionRow)
            self._workbooks[workflow_id] = conn.execute(
                sa.select(definitions.c.workbook_name).where(definitions.c.id == workflow_id)
            ).scalar()
        return self._workbooks[workflow_id]

    def execution(self, execution_id: str) -> WorkflowExecution:
        from meltemi.persistence.executions import workflow_record

        with self.db.read() as conn:
            row = self.store.workflow_row(conn, execution_id)
        if row is None:
            raise NotFound(f"Execution not found [id={execution_id}]")
        return workflow_record(row)

    def wait(self, execution_id: str, timeout: float | None = None) -> WorkflowExecution:
        """Blocks until a root execution is SUCCESS, ERROR or CANCELLED (or the timeout)."""
        deadline = None if timeout is None else self.clock().timestamp() + timeout
        while True:
            wf = self.execution(execution_id)
            if wf.is_completed:
                return wf
            remaining = None if deadline is None else deadline - self.clock().timestamp()
            if remaining is not None and remaining <= 0:
                return wf
            with self._finished:
                self._finished.wait(timeout=min(remaining or 1.0, 1.0))
