"""Use cases on workflow executions: start, pause, resume, stop, rerun, skip, delete,
and the expiration policy. Each one runs in one transaction of the runtime's worker.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from meltemi import engine
from meltemi.engine import (
    COMPLETED,
    Event,
    PauseRequested,
    RerunRequested,
    ResumeRequested,
    SkipRequested,
    StartRequest,
    State,
    StopRequested,
    WorkflowExecution,
)
from meltemi.persistence.executions import ITEMS, RUNS, TASKS, TIMERS, WF, workflow_record
from meltemi.services._transaction import Transaction
from meltemi.services.errors import InvalidInput, NotAllowed, NotFound
from meltemi.services.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class ExpirationPolicy:
    """Deletes finished root executions: older than ``older_than``, and/or beyond the
    newest ``max_finished`` ones; never those in ``ignored_states``."""

    older_than: timedelta | None = None
    max_finished: int = 0
    batch_size: int = 100
    interval: float = 60.0
    ignored_states: frozenset[State] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.ignored_states <= COMPLETED:
            raise InvalidInput("ignored_states of the expiration policy must be final states")


class Executions:
    """Operations on workflow executions."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._expiry: threading.Timer | None = None

    # -- start ---------------------------------------------------------------------------

    def start(
        self,
        workflow: str | None = None,
        *,
        namespace: str = "",
        input: Mapping[str, Any] | None = None,  # Mistral's field name
        params: Mapping[str, Any] | None = None,
        description: str = "",
        execution_id: str | None = None,
        source_execution_id: str | None = None,
    ) -> WorkflowExecution:
        """Starts an execution; a known ``execution_id`` returns the existing one.

        With ``source_execution_id`` the workflow, input and params are taken from that
        execution (what is given here overrides them).
        """
        runtime = self.runtime

        def start(tx: Transaction) -> Callable[[], WorkflowExecution]:
            if execution_id is not None:
                row = runtime.store.workflow_row(tx.conn, execution_id)
                if row is not None:
                    existing = workflow_record(row)
                    return lambda: existing
            name, ns, inp, prm, desc = workflow, namespace, input, params, description
            if source_execution_id is not None:
                source = runtime.store.workflow_row(tx.conn, source_execution_id)
                if source is None:
                    raise NotFound(f"Execution not found [id={source_execution_id}]")
                name = name or source["workflow_id"] or source["workflow_name"]
                ns = ns or source["workflow_namespace"] or ""
                inp = inp if inp is not None else source["input"]
                prm = prm if prm is not None else source["params"]
                desc = (
                    f"{desc or source['description'] or ''} Based on the execution "
                    f"'{source_execution_id}'".strip()
                )
            if not name:
                raise InvalidInput(
                    "Workflow ID or workflow name must be provided (workflow_id, "
                    "workflow_name or source_execution_id)"
                )
            definition = runtime.definitions.get_workflow(name, ns, conn=tx.conn)
            spec = runtime.definitions.spec(definition.spec_id, tx.conn)
            request = StartRequest(
                id=execution_id or runtime.new_id(),
                workflow_name=definition.name,
                spec_id=definition.spec_id,
                workflow_id=definition.id,
                namespace=definition.namespace,
                input=dict(inp or {}),
                params={k: v for k, v in (prm or {}).items() if k != "namespace"},
                description=desc,
                source_execution_id=source_execution_id,
            )
            state, decision = engine.start_workflow(spec, request, tx.ctx())
            # The execution as it started, as Mistral answers a start: RUNNING (or
            # ERROR when it could not start), even when its first tasks run in line
            # and end it within this transaction.
            started = state.workflow
            tx.started(state, decision)
            return lambda: started

        result: Callable[[], WorkflowExecution] | WorkflowExecution = runtime.call(start)
        return result if isinstance(result, WorkflowExecution) else result()

    # -- state changes ---------------------------------------------------------------------

    def _send(self, wf_id: str, event: Event) -> None:
        def apply(tx: Transaction) -> None:
            tx.handle(wf_id, event)

        self.runtime.call(apply)

    def pause(self, execution_id: str, message: str | None = None) -> None:
        self._send(execution_id, PauseRequested(message=message))

    def resume(self, execution_id: str, env: Mapping[str, Any] | None = None) -> None:
        self._send(execution_id, ResumeRequested(env=env))

    def stop(self, execution_id: str, state: State, message: str | None = None) -> None:
        """Forces SUCCESS, ERROR or CANCELLED (children first)."""
        if state not in (State.SUCCESS, State.ERROR, State.CANCELLED):
            raise InvalidInput(
                f"an execution can be stopped as SUCCESS, ERROR or CANCELLED, not {state}"
            )
        self._send(execution_id, StopRequested(state=state, message=message))

    def rerun(
        self, task_id: str, *, reset: bool = True, env: Mapping[str, Any] | None = None
    ) -> None:
        self._send(
            self._task_workflow(task_id), RerunRequested(task_id=task_id, reset=reset, env=env)
        )

    def skip(self, task_id: str) -> None:
        self._send(self._task_workflow(task_id), SkipRequested(task_id=task_id))

    def _task_workflow(self, task_id: str) -> str:
        with self.runtime.db.read() as conn:
            wf_id = conn.execute(
                sa.select(TASKS.c.workflow_execution_id).where(TASKS.c.id == task_id)
            ).scalar()
        if wf_id is None:
            raise NotFound(f"Task execution not found [id={task_id}]")
        return str(wf_id)

    def update(
        self,
        execution_id: str,
        *,
        description: str | None = None,
        env: Mapping[str, Any] | None = None,
    ) -> None:
        """Changes the description, or the env (only while IDLE, PAUSED or ERROR)."""

        def update(tx: Transaction) -> None:
            state = tx.state(execution_id)
            wf = state.workflow
            changes: dict[str, Any] = {}
            if description is not None:
                changes["description"] = description
            if env is not None:
                if wf.state not in (State.IDLE, State.PAUSED, State.ERROR):
                    raise NotAllowed(
                        f"the env of an execution can change only while it is IDLE, PAUSED "
                        f"or ERROR; this one is {wf.state}"
                    )
                changes["params"] = {**wf.params, "env": {**wf.env, **env}}
            if changes:
                state.set_workflow(wf.evolve(updated_at=tx.now, **changes))
                tx.apply(state, state.take_decision())

        self.runtime.call(update)

    # -- deleting ----------------------------------------------------------------------------

    def delete(self, execution_id: str, *, force: bool = False) -> None:
        """Deletes an execution with its sub-workflows, tasks and runs.

        Only finished executions, unless ``force`` (then running actions are cancelled).
        """
        runtime = self.runtime

        def delete(tx: Transaction) -> None:
            row = runtime.store.workflow_row(tx.conn, execution_id)
            if row is None:
                raise NotFound(f"Execution not found [id={execution_id}]")
            if row["state"] not in {str(s) for s in COMPLETED} and not force:
                raise NotAllowed(
                    f"Only completed executions can be deleted; execution {execution_id} is "
                    f"{row['state']}. Use force to delete it anyway, or cancel it first"
                )
            root = row["root_execution_id"] or execution_id
            tx.lock(root)
            ids = _subtree(tx, execution_id)
            running = tx.conn.execute(
                sa.select(RUNS.c.id).where(
                    RUNS.c.workflow_execution_id.in_(ids), RUNS.c.state == str(State.RUNNING)
                )
            ).scalars()
            tx.cancels.extend(running)
            _delete_rows(tx, ids)
            runtime.cache.evict(root)

        runtime.call(delete)

    def expire(self, policy: ExpirationPolicy) -> int:
        """Deletes the finished root executions the policy says; returns how many."""
        runtime = self.runtime
        now = runtime.clock()

        def expire(tx: Transaction) -> int:
            states = [str(s) for s in COMPLETED if s not in policy.ignored_states]
            roots = WF.c.root_execution_id.is_(None)
            doomed: list[str] = []
            if policy.older_than is not None:
                doomed += tx.conn.execute(
                    sa.select(WF.c.id)
                    .where(roots, WF.c.state.in_(states), WF.c.updated_at < now - policy.older_than)
                    .order_by(WF.c.updated_at)
                    .limit(policy.batch_size)
                ).scalars()
            if policy.max_finished > 0:
                doomed += tx.conn.execute(
                    sa.select(WF.c.id)
                    .where(roots, WF.c.state.in_(states))
                    .order_by(WF.c.updated_at.desc())
                    .offset(policy.max_finished)
                    .limit(policy.batch_size)
                ).scalars()
            doomed = list(dict.fromkeys(doomed))[: policy.batch_size]
            for root in doomed:
                _delete_rows(tx, _subtree(tx, root))
                runtime.cache.evict(root)
            return len(doomed)

        deleted: int = runtime.call(expire)
        if deleted:
            log.info("executions.expired", extra={"count": deleted})
        return deleted

    def schedule_expiration(self, policy: ExpirationPolicy) -> None:
        """Runs the policy every ``interval`` seconds until :meth:`cancel_expiration`."""

        def tick() -> None:
            try:
                self.expire(policy)
            except Exception:  # a failed sweep is retried at the next tick
                log.exception("executions.expiration_failed")
            self.schedule_expiration(policy)

        self._expiry = threading.Timer(policy.interval, tick)
        self._expiry.daemon = True
        self._expiry.start()

    def cancel_expiration(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()


def _subtree(tx: Transaction, execution_id: str) -> list[str]:
    """An execution and all its sub-workflow executions, however deep."""
    ids = [execution_id]
    frontier = [execution_id]
    while frontier:
        children = list(
            tx.conn.execute(sa.select(WF.c.id).where(WF.c.parent_id.in_(frontier))).scalars()
        )
        ids += children
        frontier = children
    return ids


def _delete_rows(tx: Transaction, ids: list[str]) -> None:
    conn = tx.conn
    task_ids = sa.select(TASKS.c.id).where(TASKS.c.workflow_execution_id.in_(ids))
    conn.execute(ITEMS.delete().where(ITEMS.c.task_execution_id.in_(task_ids)))
    conn.execute(RUNS.delete().where(RUNS.c.workflow_execution_id.in_(ids)))
    conn.execute(TIMERS.delete().where(TIMERS.c.workflow_execution_id.in_(ids)))
    conn.execute(TASKS.delete().where(TASKS.c.workflow_execution_id.in_(ids)))
    conn.execute(WF.delete().where(WF.c.id.in_(ids)))
