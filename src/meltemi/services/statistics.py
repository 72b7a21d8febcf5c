"""Counts for monitoring: executions and tasks by state, read at scrape time."""

from __future__ import annotations

import sqlalchemy as sa

from meltemi.persistence.db import Database
from meltemi.persistence.executions import TASKS, WF


def counts_by_state(db: Database) -> dict[str, dict[str, int]]:
    """``{"executions": {state: n}, "tasks": {state: n}}`` (one GROUP BY each)."""
    with db.read() as conn:
        executions = conn.execute(sa.select(WF.c.state, sa.func.count()).group_by(WF.c.state))
        tasks = conn.execute(sa.select(TASKS.c.state, sa.func.count()).group_by(TASKS.c.state))
        return {
            "executions": {str(state): int(n) for state, n in executions},
            "tasks": {str(state): int(n) for state, n in tasks},
        }
