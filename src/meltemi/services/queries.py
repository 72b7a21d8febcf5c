"""Read-only views of executions for people and tools (CLI reports)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from meltemi.persistence.db import Database
from meltemi.persistence.executions import TASKS, WF
from meltemi.services.errors import NotFound


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
