"""Storing the engine's records: executions, tasks, runs and timers.

The hot path: :meth:`ExecutionStore.save` writes one engine Decision with a few
batched Core statements (insert-or-update of every changed record), and
:meth:`ExecutionStore.load` rebuilds an :class:`ExecutionState` from its rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping

from meltemi.engine import (
    Decision,
    ExecutionState,
    ItemsState,
    Run,
    RunKind,
    State,
    TaskExecution,
    Trigger,
    WorkflowExecution,
)
from meltemi.lang import TaskType, WorkflowSpec
from meltemi.persistence.models import (
    RunRow,
    TaskExecutionRow,
    TaskItemsRow,
    TimerRow,
    WorkflowExecutionRow,
    table,
)

WF = table(WorkflowExecutionRow)
TASKS = table(TaskExecutionRow)
ITEMS = table(TaskItemsRow)
RUNS = table(RunRow)
TIMERS = table(TimerRow)

Row = RowMapping | Mapping[str, Any]

# -- records <-> rows --------------------------------------------------------------------------


def workflow_row(wf: WorkflowExecution) -> dict[str, Any]:
    return {
        "id": wf.id,
        "workflow_name": wf.workflow_name,
        "workflow_id": wf.workflow_id,
        "workflow_namespace": wf.namespace,
        "spec_id": wf.spec_id,
        "root_execution_id": wf.root_id if wf.root_id != wf.id else None,
        "parent_id": wf.parent_id,
        "task_execution_id": wf.task_execution_id,
        "run_index": wf.run_index,
        "state": str(wf.state),
        "state_info": wf.state_info,
        "input": dict(wf.input),
        "params": dict(wf.params),
        "context": dict(wf.context),
        "output": wf.output,
        "description": wf.description,
        "tags": list(wf.tags),
        "source_execution_id": wf.source_execution_id,
        "task_seq": wf.task_seq,
        "created_at": wf.created_at,
        "updated_at": wf.updated_at,
    }


def workflow_record(row: Row) -> WorkflowExecution:
    return WorkflowExecution(
        id=row["id"],
        workflow_name=row["workflow_name"],
        spec_id=row["spec_id"],
        workflow_id=row["workflow_id"],
        namespace=row["workflow_namespace"] or "",
        root_id=row["root_execution_id"] or row["id"],
        parent_id=row["parent_id"],
        task_execution_id=row["task_execution_id"],
        run_index=row["run_index"],
        state=State(row["state"]),
        state_info=row["state_info"],
        input=row["input"] or {},
        params=row["params"] or {},
        context=row["context"] or {},
        output=row["output"],
        description=row["description"] or "",
        tags=tuple(row["tags"] or ()),
        source_execution_id=row["source_execution_id"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        task_seq=row["task_seq"],
    )


def _items_json(items: ItemsState | None) -> dict[str, Any] | None:
    if items is None:
        return None
    return {
        "count": items.count,
        "concurrency": items.concurrency,
        "next_index": items.next_index,
        "pending": list(items.pending) if items.pending is not None else None,
        "running": items.running,
        "finished": items.finished,
    }


def task_row(task: TaskExecution, wf: WorkflowExecution) -> dict[str, Any]:
    return {
        "id": task.id,
        "workflow_execution_id": task.workflow_execution_id,
        "root_execution_id": wf.root_id,
        "workflow_name": wf.workflow_name,
        "name": task.name,
        "type": str(task.type),
        "seq": task.seq,
        "state": str(task.state),
        "state_info": task.state_info,
        "triggered_by": [{"task_id": t.task_id, "event": t.event} for t in task.triggered_by],
        "published": dict(task.published),
        # A task's result is its runs' output (derived on load), not stored twice.
        "result": None,
        "processed": task.processed,
        "error_handled": task.error_handled,
        "next_tasks": [list(n) for n in task.next_tasks],
        "retry_no": task.retry_no,
        "runtime": {
            "wait_before_done": task.wait_before_done,
            "wait_after_done": task.wait_after_done,
            "pause_before_done": task.pause_before_done,
            "timeout_timer": task.timeout_timer,
            "delayed_state": str(task.delayed_state) if task.delayed_state else None,
            "delayed_info": task.delayed_info,
            "reset_count": task.reset_count,
            "held": [list(h) for h in task.held],
        },
        "items": _items_json(task.items),
        "created_at": task.created_at,
        "updated_at": task.updated_at,
        "started_at": task.started_at,
        "finished_at": task.finished_at,
    }


def task_record(row: Row, values: Mapping[str, Any] | None) -> TaskExecution:
    runtime = row["runtime"] or {}
    items = row["items"]
    return TaskExecution(
        id=row["id"],
        workflow_execution_id=row["workflow_execution_id"],
        name=row["name"],
        type=TaskType(row["type"]),
        seq=row["seq"],
        state=State(row["state"]),
        state_info=row["state_info"],
        triggered_by=tuple(
            Trigger(task_id=t["task_id"], event=t["event"]) for t in row["triggered_by"] or ()
        ),
        published=row["published"] or {},
        result=row["result"],
        processed=row["processed"],
        error_handled=row["error_handled"],
        next_tasks=tuple((n[0], n[1]) for n in row["next_tasks"] or ()),
        retry_no=row["retry_no"],
        wait_before_done=runtime.get("wait_before_done", False),
        wait_after_done=runtime.get("wait_after_done", False),
        pause_before_done=runtime.get("pause_before_done", False),
        timeout_timer=runtime.get("timeout_timer"),
        delayed_state=State(runtime["delayed_state"]) if runtime.get("delayed_state") else None,
        delayed_info=runtime.get("delayed_info"),
        reset_count=runtime.get("reset_count", 0),
        held=tuple((h[0], h[1]) for h in runtime.get("held", ())),
        items=None
        if items is None
        else ItemsState(
            count=items["count"],
            concurrency=items["concurrency"],
            values={k: tuple(v) for k, v in (values or {}).items()},
            next_index=items["next_index"],
            pending=tuple(items["pending"]) if items["pending"] is not None else None,
            running=items["running"],
            finished=items["finished"],
        ),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
    )


def task_result(task: TaskExecution, runs: Sequence[Run]) -> Any:
    """A task's result from its runs: one output, or the list of item outputs (as in
    Mistral, an empty list when no run finished)."""
    accepted = sorted((r for r in runs if r.accepted and r.is_completed), key=lambda r: r.index)
    if task.items is not None:
        return [r.output for r in accepted]
    return accepted[-1].output if accepted else []


def _with_results(tasks: list[TaskExecution], runs: Sequence[Run]) -> list[TaskExecution]:
    by_task: dict[str, list[Run]] = {}
    for run in runs:
        by_task.setdefault(run.task_execution_id, []).append(run)
    # A task waiting after its action (wait-after) has its result too.
    return [
        t.evolve(result=task_result(t, by_task.get(t.id, [])))
        if t.is_completed or t.delayed_state is not None
        else t
        for t in tasks
    ]


def run_row(run: Run, wf: WorkflowExecution, task_name: str | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "kind": str(run.kind),
        "task_execution_id": run.task_execution_id,
        "workflow_execution_id": run.workflow_execution_id,
        "root_execution_id": wf.root_id,
        "workflow_name": wf.workflow_name,
        "task_name": task_name,
        "name": run.name,
        "state": str(run.state),
        "state_info": run.state_info,
        "input": dict(run.input),
        "output": run.output,
        "accepted": run.accepted,
        "run_index": run.index,
        "attempt": run.attempt,
        "safe_rerun": run.safe_rerun,
        "timeout": run.timeout,
        "target": run.target,
        "created_at": run.created_at,
        "updated_at": run.updated_at,
    }


def run_record(row: Row) -> Run:
    return Run(
        id=row["id"],
        kind=RunKind(row["kind"]),
        task_execution_id=row["task_execution_id"],
        workflow_execution_id=row["workflow_execution_id"],
        name=row["name"],
        state=State(row["state"]),
        state_info=row["state_info"],
        input=row["input"] or {},
        output=row["output"],
        accepted=row["accepted"],
        index=row["run_index"],
        attempt=row["attempt"],
        safe_rerun=row["safe_rerun"],
        timeout=int(row["timeout"]) if row["timeout"] is not None else None,
        target=row["target"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


# -- statements --------------------------------------------------------------------------------


_UPSERTS: dict[tuple[str, str], Any] = {}


def _upsert_statement(dialect: str, table: sa.Table) -> Any:
    """Insert-or-update by primary key of every column (built once per table)."""
    key = (dialect, table.name)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        module: Any = sqlite if dialect == "sqlite" else postgresql
        insert = module.insert(table)
        keys = [c.name for c in table.primary_key.columns]
        excluded = insert.excluded
        columns = {
            c.name: excluded[c.name]
            for c in table.columns
            if c.name not in keys and c.name != "version"
        }
        stmt = insert.on_conflict_do_update(index_elements=keys, set_=columns)
        _UPSERTS[key] = stmt
    return stmt


def _upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(_upsert_statement(conn.dialect.name, table), list(rows))


class WriteBatch:
    """The records changed in one transaction; only the latest version of each is written."""

    def __init__(self) -> None:
        self.workflows: dict[str, WorkflowExecution] = {}
        self.tasks: dict[str, tuple[TaskExecution, WorkflowExecution]] = {}
        self.runs: dict[str, tuple[Run, WorkflowExecution, str | None]] = {}
        self.items: list[dict[str, Any]] = []

    def stage(self, state: ExecutionState, decision: Decision, saved_items: set[str]) -> None:
        wf = state.workflow
        self.workflows[wf.id] = wf
        for task in decision.tasks:
            self.tasks[task.id] = (task, wf)
            if task.items is not None and task.id not in saved_items:
                saved_items.add(task.id)
                self.items.append(
                    {
                        "task_execution_id": task.id,
                        "root_execution_id": wf.root_id,
                        "values": {k: list(v) for k, v in task.items.values.items()},
                    }
                )
        for run in decision.runs:
            owner = state.tasks.get(run.task_execution_id)
            self.runs[run.id] = (run, wf, owner.name if owner is not None else None)

    def flush(self, conn: Connection) -> None:
        _upsert(conn, WF, [workflow_row(wf) for wf in self.workflows.values()])
        _upsert(conn, TASKS, [task_row(task, wf) for task, wf in self.tasks.values()])
        if self.items:
            conn.execute(ITEMS.insert(), self.items)
        _upsert(conn, RUNS, [run_row(run, wf, name) for run, wf, name in self.runs.values()])
        self.workflows.clear()
        self.tasks.clear()
        self.runs.clear()
        self.items = []


class ExecutionStore:
    """Reads and writes the records of workflow executions."""

    def load(
        self, conn: Connection, workflow_id: str, spec: WorkflowSpec
    ) -> tuple[ExecutionState, set[str]] | None:
        """The state of a workflow execution, and the ids of tasks whose items are stored."""
        row = conn.execute(sa.select(WF).where(WF.c.id == workflow_id)).mappings().first()
        if row is None:
            return None
        tasks = (
            conn.execute(sa.select(TASKS).where(TASKS.c.workflow_execution_id == workflow_id))
            .mappings()
            .all()
        )
        values = {
            r["task_execution_id"]: r["values"]
            for r in conn.execute(
                sa.select(ITEMS).where(
                    ITEMS.c.task_execution_id.in_(
                        sa.select(TASKS.c.id).where(TASKS.c.workflow_execution_id == workflow_id)
                    )
                )
            ).mappings()
        }
        runs = (
            conn.execute(sa.select(RUNS).where(RUNS.c.workflow_execution_id == workflow_id))
            .mappings()
            .all()
        )
        run_records = [run_record(r) for r in runs]
        state = ExecutionState.load(
            spec,
            workflow_record(row),
            _with_results([task_record(t, values.get(t["id"])) for t in tasks], run_records),
            run_records,
        )
        return state, set(values)

    def workflow_row(self, conn: Connection, workflow_id: str) -> Row | None:
        return conn.execute(sa.select(WF).where(WF.c.id == workflow_id)).mappings().first()

    def lock_root(self, conn: Connection, root_id: str) -> int | None:
        """Locks an execution tree by its root row; returns the tree's version.

        Every transaction that changes a tree bumps the version (:meth:`bump_version`),
        so a process can tell whether its cached states are still current.
        """
        stmt = sa.select(WF.c.version).where(WF.c.id == root_id)
        if conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        return conn.execute(stmt).scalar()

    def bump_version(self, conn: Connection, root_id: str) -> int:
        stmt = (
            WF.update()
            .where(WF.c.id == root_id)
            .values(version=WF.c.version + 1)
            .returning(WF.c.version)
        )
        return int(conn.execute(stmt).scalar_one())

    # -- timers ----------------------------------------------------------------------------

    def add_timers(self, conn: Connection, rows: Iterable[dict[str, Any]]) -> None:
        rows = list(rows)
        if rows:
            conn.execute(TIMERS.insert(), rows)

    def delete_timers(self, conn: Connection, ids: Iterable[str]) -> None:
        ids = list(ids)
        if ids:
            conn.execute(TIMERS.delete().where(TIMERS.c.id.in_(ids)))

    def all_timers(self, conn: Connection) -> list[Mapping[str, Any]]:
        return [
            dict(r) for r in conn.execute(sa.select(TIMERS).order_by(TIMERS.c.fire_at)).mappings()
        ]

    # -- recovery --------------------------------------------------------------------------

    def unfinished_roots(self, conn: Connection) -> list[str]:
        """Root executions that are not completed (to resume after a restart)."""
        done = [str(s) for s in (State.SUCCESS, State.ERROR, State.CANCELLED)]
        stmt = sa.select(WF.c.id).where(WF.c.root_execution_id.is_(None), WF.c.state.not_in(done))
        return list(conn.execute(stmt).scalars())

    def running_action_runs(self, conn: Connection) -> list[Mapping[str, Any]]:
        stmt = sa.select(RUNS).where(
            RUNS.c.kind == str(RunKind.ACTION),
            RUNS.c.state == str(State.RUNNING),
            RUNS.c.accepted.is_(True),
            RUNS.c.workflow_execution_id.is_not(None),
        )
        return [dict(r) for r in conn.execute(stmt).mappings()]

    def tree_ids(self, conn: Connection, root_id: str) -> list[str]:
        stmt = sa.select(WF.c.id).where(WF.c.root_execution_id == root_id)
        return [root_id, *conn.execute(stmt).scalars()]
