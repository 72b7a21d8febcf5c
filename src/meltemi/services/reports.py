"""The execution report: statistics and the tree of tasks, runs and sub-executions."""

from __future__ import annotations

from datetime import UTC, datetime
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
        estimated = _estimated_time(conn, dict(root))
    report: dict[str, Any] = {"statistics": {**stats, "estimated_time": estimated}}
    if not statistics_only:
        report["root_workflow_execution"] = tree
    return report


#: How many earlier successful executions of the workflow estimate a running one's time.
ESTIMATE_FROM = 20


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _estimated_time(conn: sa.Connection, wf: dict[str, Any]) -> int:
    """Seconds a RUNNING execution may still take: the mean duration of the workflow's
    last successful executions less the time it has run (1 when past it; -1 when there
    is nothing to go by). 0 for an execution that is not running."""
    if wf["state"] != "RUNNING":
        return 0
    done = conn.execute(
        sa.select(WF.c.created_at, WF.c.updated_at)
        .where(WF.c.workflow_id == wf["workflow_id"], WF.c.state == "SUCCESS")
        .order_by(WF.c.created_at.desc())
        .limit(ESTIMATE_FROM)
    ).all()
    durations = [(_utc(end) - _utc(start)).total_seconds() for start, end in done if start and end]
    if not durations:
        return -1
    elapsed = (datetime.now(UTC) - _utc(wf["created_at"])).total_seconds()
    left = sum(durations) / len(durations) - elapsed
    return max(int(left), 1) if left > 0 else 1


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
    """A workflow execution's entry, at ``depth`` (the root's is 0; a sub-workflow's is
    one more than its parent's). As Mistral: past ``max_depth`` (when not negative) the
    entry has no ``task_executions``; only the tasks shown are counted in the
    statistics (with ``errors_only``, those in ERROR)."""
    entry: dict[str, Any] = {
        "id": wf["id"],
        "name": wf["workflow_name"],
        "created_at": _time(wf["created_at"]),
        "updated_at": _time(wf["updated_at"]),
        "state": wf["state"],
        "state_info": wf["state_info"],
    }
    if 0 <= max_depth < depth:
        return entry
    tasks = (
        conn.execute(
            sa.select(TASKS).where(TASKS.c.workflow_execution_id == wf["id"]).order_by(TASKS.c.seq)
        )
        .mappings()
        .all()
    )
    rendered = []
    for task in tasks:
        if errors_only and task["state"] != "ERROR":
            continue
        stats["total_tasks_count"] += 1
        counter = _COUNTED.get(task["state"])
        if counter:
            stats[counter] += 1
        rendered.append(_task(conn, task, stats, errors_only, max_depth, depth + 1))
    entry["task_executions"] = rendered
    return entry


def _task(
    conn: sa.Connection,
    task: Any,
    stats: dict[str, int],
    errors_only: bool,
    max_depth: int,
    depth: int,
) -> dict[str, Any]:
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
        "action_executions": [],
        "workflow_executions": [],
    }
    if task["retry_no"]:  # only a task that was retried says how often
        entry["retry_count"] = task["retry_no"]
    for run in runs:
        if run["kind"] == "action":
            finished = run["state"] in ("SUCCESS", "ERROR", "CANCELLED")
            entry["action_executions"].append(
                {
                    "id": run["id"],
                    "name": run["name"],
                    "state": run["state"],
                    "state_info": run["state_info"],
                    "accepted": bool(run["accepted"]) and finished,
                    "created_at": _time(run["created_at"]),
                    "updated_at": _time(run["updated_at"]),
                    "last_heartbeat": None,
                }
            )
        else:
            child = conn.execute(sa.select(WF).where(WF.c.id == run["id"])).mappings().first()
            if child is not None:
                entry["workflow_executions"].append(
                    _workflow(conn, dict(child), stats, errors_only, max_depth, depth)
                )
    return entry
