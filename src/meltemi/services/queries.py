"""Read-only views of executions, tasks and action executions (API lists, reports)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from meltemi.engine import RunKind
from meltemi.persistence.db import Database
from meltemi.persistence.executions import RUNS, TASKS, WF
from meltemi.services.errors import NotFound
from meltemi.services.listing import Listing, ListQuery

_PARENT = WF.alias("parent")

EXECUTIONS = Listing(
    WF,
    {
        "id": WF.c.id,
        "workflow_name": WF.c.workflow_name,
        "workflow_id": WF.c.workflow_id,
        "workflow_namespace": WF.c.workflow_namespace,
        "description": WF.c.description,
        "tags": WF.c.tags,
        "params": WF.c.params,
        "task_execution_id": WF.c.task_execution_id,
        "root_execution_id": WF.c.root_execution_id,
        "source_execution_id": WF.c.source_execution_id,
        "state": WF.c.state,
        "state_info": WF.c.state_info,
        "input": WF.c.input,
        "output": WF.c.output,
        "created_at": WF.c.created_at,
        "updated_at": WF.c.updated_at,
        "project_id": WF.c.project_id,
        "context": WF.c.context,
        "parent_id": WF.c.parent_id,
        "spec_id": WF.c.spec_id,
    },
)

# Tasks and action executions have no tags, nor stored params (as in Mistral, where
# these columns are empty): a filter on them matches nothing.
_EMPTY = sa.cast(sa.null(), sa.Text)

_TASKS_FROM = TASKS.join(WF, WF.c.id == TASKS.c.workflow_execution_id)
TASK_LISTING = Listing(
    _TASKS_FROM,
    {
        "id": TASKS.c.id,
        "name": TASKS.c.name,
        "type": TASKS.c.type,
        "workflow_name": TASKS.c.workflow_name,
        "workflow_namespace": WF.c.workflow_namespace,
        "workflow_id": WF.c.workflow_id,
        "workflow_execution_id": TASKS.c.workflow_execution_id,
        "root_execution_id": TASKS.c.root_execution_id,
        "state": TASKS.c.state,
        "state_info": TASKS.c.state_info,
        "published": TASKS.c.published,
        "processed": TASKS.c.processed,
        "runtime": TASKS.c.runtime,
        "items": TASKS.c["items"],
        "retry_no": TASKS.c.retry_no,
        "triggered_by": TASKS.c.triggered_by,
        "project_id": WF.c.project_id,
        "created_at": TASKS.c.created_at,
        "updated_at": TASKS.c.updated_at,
        "started_at": TASKS.c.started_at,
        "finished_at": TASKS.c.finished_at,
        "env": WF.c.params,
        "tags": _EMPTY,
        "seq": TASKS.c.seq,
        "spec_id": WF.c.spec_id,
    },
    tiebreak=("seq",),
)

_RUNS_FROM = RUNS.outerjoin(WF, WF.c.id == RUNS.c.workflow_execution_id)
ACTION_EXECUTIONS = Listing(
    _RUNS_FROM,
    {
        "id": RUNS.c.id,
        "name": RUNS.c.name,
        "workflow_name": RUNS.c.workflow_name,
        "workflow_namespace": WF.c.workflow_namespace,
        "task_name": RUNS.c.task_name,
        "task_execution_id": RUNS.c.task_execution_id,
        "state": RUNS.c.state,
        "state_info": RUNS.c.state_info,
        "accepted": RUNS.c.accepted,
        "input": RUNS.c.input,
        "output": RUNS.c.output,
        "description": RUNS.c.description,
        "tags": _EMPTY,
        "params": _EMPTY,
        "project_id": RUNS.c.project_id,
        "created_at": RUNS.c.created_at,
        "updated_at": RUNS.c.updated_at,
        "run_index": RUNS.c.run_index,
        "attempt": RUNS.c.attempt,
        "kind": RUNS.c.kind,
        "timeout": RUNS.c.timeout,
        "target": RUNS.c.target,
    },
    tiebreak=("run_index", "attempt"),
)


class Queries:
    """Reads for people and tools; never blocks the engine."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def executions(
        self,
        query: ListQuery,
        *,
        where: list[Any] | None = None,
        max_limit: int = 1000,
        only: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return EXECUTIONS.fetch(conn, query, where=where or [], max_limit=max_limit, only=only)

    def execution(self, execution_id: str) -> dict[str, Any]:
        rows = self.executions(ListQuery(limit=1), where=[WF.c.id == execution_id])
        if not rows:
            raise NotFound(f"Execution not found [id={execution_id}]")
        return rows[0]

    def tasks(
        self, query: ListQuery, *, where: list[Any] | None = None, max_limit: int = 1000
    ) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return TASK_LISTING.fetch(conn, query, where=where or [], max_limit=max_limit)

    def task(self, task_id: str) -> dict[str, Any]:
        rows = self.tasks(ListQuery(limit=1), where=[TASKS.c.id == task_id])
        if not rows:
            raise NotFound(f"Task execution not found [id={task_id}]")
        return rows[0]

    def task_result(self, task: dict[str, Any]) -> Any:
        """The result of a task: its accepted runs' output (a list for with-items), or,
        as Mistral shows it, an empty list while it has none."""
        with self.db.read() as conn:
            rows = conn.execute(
                sa.select(RUNS.c.output, RUNS.c.state)
                .where(RUNS.c.task_execution_id == task["id"], RUNS.c.accepted.is_(True))
                .order_by(RUNS.c.run_index)
            ).all()
        outputs = [r[0] for r in rows if r[1] in ("SUCCESS", "ERROR", "CANCELLED")]
        if task.get("items") is not None:
            return outputs
        return outputs[-1] if outputs else []

    def action_executions(
        self, query: ListQuery, *, where: list[Any] | None = None, max_limit: int = 1000
    ) -> list[dict[str, Any]]:
        conditions = [RUNS.c.kind == str(RunKind.ACTION), *(where or [])]
        with self.db.read() as conn:
            return ACTION_EXECUTIONS.fetch(conn, query, where=conditions, max_limit=max_limit)

    def action_execution(self, run_id: str) -> dict[str, Any]:
        rows = self.action_executions(ListQuery(limit=1), where=[RUNS.c.id == run_id])
        if not rows:
            raise NotFound(f"Action execution not found [id={run_id}]")
        return rows[0]

    def sub_executions(
        self,
        execution_id: str | None = None,
        *,
        task_id: str | None = None,
        errors_only: bool = False,
        max_depth: int = -1,
        only: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """An execution and the sub-workflow executions below it, depth first (each
        execution before its children, children in their tasks' order); or, with
        ``task_id``, the sub-workflow executions of that task and all below them.

        ``errors_only`` leaves out what hangs below tasks not in ERROR; ``max_depth``
        (when not negative) how many levels of sub-workflows are followed.
        """
        if task_id is not None:
            task = self.task(task_id)
            if errors_only and task["state"] != "ERROR":
                return []
            start = self.executions(
                ListQuery(), where=[WF.c.task_execution_id == task_id], only=only
            )
        else:
            start = [self.execution(str(execution_id))]
        if only is not None:
            only = {*only, "task_execution_id", "parent_id"}
        # Below the start, level by level: the children of each execution, each with
        # its task's state and order.
        children: dict[str, list[dict[str, Any]]] = {}
        frontier = [row["id"] for row in start]
        depth = 0
        while frontier and (max_depth < 0 or depth < max_depth):
            rows = self.executions(
                ListQuery(), where=[WF.c.parent_id.in_(frontier)], max_limit=1 << 30, only=only
            )
            found_tasks = {
                t["id"]: t
                for t in self.tasks(
                    ListQuery(),
                    where=[TASKS.c.id.in_({r["task_execution_id"] for r in rows})],
                    max_limit=1 << 30,
                )
            }
            kept = []
            for row in rows:
                parent = found_tasks.get(row["task_execution_id"])
                if parent is None or (errors_only and parent["state"] != "ERROR"):
                    continue
                kept.append((parent["seq"], row))
            kept.sort(key=lambda pair: pair[0])
            for _seq, row in kept:
                children.setdefault(str(row["parent_id"]), []).append(row)
            frontier = [row["id"] for _seq, row in kept]
            depth += 1

        found: list[dict[str, Any]] = []
        stack = list(reversed(start))
        while stack:
            row = stack.pop()
            found.append(row)
            stack.extend(reversed(children.get(row["id"], [])))
        return found


def execution_report(db: Database, execution_id: str) -> dict[str, Any]:
    """The execution and its top-level tasks (in the order they started)."""
    with db.read() as conn:
        wf = conn.execute(sa.select(WF).where(WF.c.id == execution_id)).mappings().first()
        if wf is None:
            raise NotFound(f"Execution not found [id={execution_id}]")
        tasks = conn.execute(
            sa.select(TASKS.c.name, TASKS.c.state, TASKS.c.state_info, TASKS.c.published)
            .where(TASKS.c.workflow_execution_id == execution_id)
            .order_by(TASKS.c.seq)
        ).mappings()
        return {
            "id": wf["id"],
            "workflow_name": wf["workflow_name"],
            "state": wf["state"],
            "state_info": wf["state_info"],
            "output": wf["output"],
            "tasks": [
                {
                    "name": t["name"],
                    "state": t["state"],
                    "state_info": t["state_info"],
                    "published": t["published"] or {},
                }
                for t in tasks
            ],
        }
