"""The engine's read-only view of other executions, from inside a transaction.

``tasks()`` and ``executions()`` in expressions look beyond the execution being
stepped. The states the runtime holds in memory are used first (they include what
this transaction changed and has not written yet); others are read from the
database, unlocked and never cached, as a snapshot.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from meltemi.engine import ExecutionState, dataflow
from meltemi.persistence.executions import WF, workflow_record

if TYPE_CHECKING:
    from meltemi.services._transaction import Transaction


class TransactionWorld:
    """:class:`meltemi.engine.state.World` for one transaction."""

    def __init__(self, tx: Transaction) -> None:
        self._tx = tx
        self._loaded: dict[str, ExecutionState | None] = {}

    def state_of(self, workflow_execution_id: str) -> ExecutionState | None:
        cached = self._tx.runtime.cache.get(workflow_execution_id)
        if cached is not None:
            return cached
        if workflow_execution_id not in self._loaded:
            self._loaded[workflow_execution_id] = self._load(workflow_execution_id)
        return self._loaded[workflow_execution_id]

    def _load(self, wf_id: str) -> ExecutionState | None:
        runtime, conn = self._tx.runtime, self._tx.conn
        row = runtime.store.workflow_row(conn, wf_id)
        if row is None:
            return None
        spec = runtime.definitions.spec(row["spec_id"], conn)
        loaded = runtime.store.load(conn, wf_id, spec)
        return loaded[0] if loaded is not None else None

    def execution_ids(self) -> list[str]:
        query = sa.select(WF.c.id).order_by(WF.c.created_at, WF.c.id)
        ids = [row[0] for row in self._tx.conn.execute(query)]
        return ids + [s.workflow.id for s in self._unwritten()]

    def _unwritten(self) -> list[ExecutionState]:
        """Executions this transaction started and has not written yet (one that starts
        and runs to its end in line never was), oldest first: newer than any stored."""
        cache = self._tx.runtime.cache
        held = {
            wf_id: state
            for root_id in self._tx.locked
            for wf_id in cache.tree(root_id)
            if (state := cache.get(wf_id)) is not None
        }
        if not held:
            return []
        stored = {
            row[0] for row in self._tx.conn.execute(sa.select(WF.c.id).where(WF.c.id.in_(held)))
        }
        fresh = [state for wf_id, state in held.items() if wf_id not in stored]
        fresh.sort(key=lambda state: (_utc(state.workflow.created_at), state.workflow.id))
        return fresh

    def executions(
        self,
        *,
        id: str | None,
        root_execution_id: str | None,
        state: str | None,
        from_time: str | None,
        to_time: str | None,
    ) -> list[dict[str, Any]]:
        query = sa.select(WF).order_by(WF.c.created_at, WF.c.id)
        if id is not None:
            query = query.where(WF.c.id == id)
        if root_execution_id is not None:
            query = query.where(WF.c.root_execution_id == root_execution_id)
        if state is not None:
            query = query.where(WF.c.state == state)
        since, until = _moment(from_time), _moment(to_time)
        found = []
        for row in self._tx.conn.execute(query).mappings():
            wf = workflow_record(row)
            created = _utc(wf.created_at)
            if (since is None or created >= since) and (until is None or created < until):
                cached = self._tx.runtime.cache.get(wf.id)
                found.append(dataflow.execution_dict(cached.workflow if cached else wf))
        for fresh in self._unwritten():
            wf = fresh.workflow
            created = _utc(wf.created_at)
            root = wf.root_id if wf.root_id != wf.id else None
            if (
                (id is None or wf.id == id)
                and (root_execution_id is None or root == root_execution_id)
                and (state is None or str(wf.state) == state)
                and (since is None or created >= since)
                and (until is None or created < until)
            ):
                found.append(dataflow.execution_dict(wf))
        return found


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _moment(text: str | None) -> datetime | None:
    """A time given to executions(): ISO 8601 or Mistral's ``YYYY-MM-DD HH:MM:SS``,
    UTC unless it says otherwise."""
    if text is None:
        return None
    try:
        return _utc(datetime.fromisoformat(str(text)))
    except ValueError:
        raise ValueError(
            f"executions(): {text!r} is not a time; write it as 'YYYY-MM-DD HH:MM:SS'"
        ) from None
