"""The execution report: statistics and the tree of tasks, runs and sub-executions."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from meltemi.persistence.db import Database
from meltemi.persistence.executions import RUNS, TASKS, WF
from meltemi.services.errors import NotFound


def _time(value: Any) -> str | None:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else None


def execution_report(
    db: Database,
    execution_id: str,
    *,
    errors_only: bool = False,
    max_depth: int = -1,
    statistics_only: bool = False,
) -> dict[str, Any]:
    """Mistral's report: ``statistics`` and ``root_workflow_execution`` (recursive)."""
    with db.read() as conn:
        root = conn.execute(sa.select(WF).where(WF.c.id == execution_id)).mappings().first()
        if root is None:
            raise NotFound(f"Execution not found [id={execution_id}]")
        stats = {
            "total_tasks_count": 0,
            "running_tasks_count": 0,
            "success_tasks_count": 0,
            "error_tasks_count": 0,
            "idle_tasks_count": 0,
            "paused_tasks_count": 0,
        }
        tree = _workflow(conn, dict(root), stats, errors_only, max_depth, 0)
    report: dict[str, Any] = {"statistics": stats}
    if not statistics_only:
        report["root_workflow_execution"] = tree
    return report


_COUNTED = {
    "RUNNING": "running_tasks_count",
    "DELAYED": "running_tasks_count",
    "SUCCESS": "success_tasks_count",
    "ERROR": "error_tasks_count",
    "IDLE": "idle_tasks_count",
    "WAITING": "idle_tasks_count",
    "PAUSED": "paused_tasks_count",
}


def _workflow(
    conn: sa.Connection,
    wf: dict[str, Any],
    stats: dict[str, int],
    errors_only: bool,
    max_depth: int,
    depth: int,
) -> dict[str, Any]:
    tasks = (
        conn.execute(
            sa.select(TASKS).where(TASKS.c.workflow_execution_id == wf["id"]).order_by(TASKS.c.seq)
        )
        .mappings()
        .all()
    )
    rendered = []
    for task in tasks:
        stats["total_tasks_count"] += 1
        counter = _COUNTED.get(task["state"])
        if counter:
            stats[counter] += 1
        if errors_only and task["state"] != "ERROR":
            continue
        runs = (
            conn.execute(
                sa.select(RUNS)
                .where(RUNS.c.task_execution_id == task["id"])
                .order_by(RUNS.c.run_index, RUNS.c.created_at)
            )
            .mappings()
            .all()
        )
        entry: dict[str, Any] = {
            "id": task["id"],
            "name": task["name"],
            "type": task["type"],
            "state": task["state"],
            "state_info": task["state_info"],
            "created_at": _time(task["created_at"]),
            "updated_at": _time(task["updated_at"]),
            "retry_count": task["retry_no"],
            "action_executions": [],
            "workflow_executions": [],
        }
        for run in runs:
            if run["kind"] == "action":
                entry["action_executions"].append(
                    {
                        "id": run["id"],
                        "name": run["name"],
                        "state": run["state"],
                        "state_info": run["state_info"],
                        "accepted": run["accepted"],
                        "created_at": _time(run["created_at"]),
                        "updated_at": _time(run["updated_at"]),
                        "last_heartbeat": None,
                    }
                )
            elif max_depth < 0 or depth < max_depth:
                child = conn.execute(sa.select(WF).where(WF.c.id == run["id"])).mappings().first()
                if child is not None:
                    entry["workflow_executions"].append(
                        _workflow(conn, dict(child), stats, errors_only, max_depth, depth + 1)
                    )
        rendered.append(entry)
    return {
        "id": wf["id"],
        "name": wf["workflow_name"],
        "created_at": _time(wf["created_at"]),
        "updated_at": _time(wf["updated_at"]),
        "state": wf["state"],
        "state_info": wf["state_info"],
        "task_executions": rendered,
    }
