"""``meltemi task ...``: task executions (to rerun one, see ``meltemi execution rerun``)."""

from __future__ import annotations

from typing import Any

import click
from rich.console import RenderableType

from meltemi.cli import _output as out
from meltemi.cli._client import JsonObject
from meltemi.cli._executions import TASK_COLUMNS
from meltemi.cli._resolve import find_execution, find_task
from meltemi.cli._session import Session, pass_session


@click.group("task")
def task_group() -> None:
    """Look at task executions."""


@task_group.command("list")
@click.option("--execution", "-x", help="Only the tasks of this execution (id, prefix, name).")
@click.option("--state", "-s", help="Only tasks in this state.")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@pass_session
def list_tasks(session: Session, execution: str | None, state: str | None, limit: int) -> None:
    """List task executions (of one execution with --execution), in start order."""
    client = session.client()
    filters: dict[str, Any] = {"state": state and state.upper()}
    if execution:
        filters["workflow_execution_id"] = find_execution(client, execution)["id"]
        items = client.tasks(filters, limit=limit, sort="created_at")
    else:
        items = list(reversed(client.tasks(filters, limit=limit, sort="created_at", desc=True)))
    columns: list[out.Column] = [*TASK_COLUMNS[:2], ("WORKFLOW", _workflow), *TASK_COLUMNS[2:]]
    out.listing(session, items, columns, empty="no tasks")


def _workflow(task: JsonObject) -> str:
    return f"{task.get('workflow_name')} {out.short(task.get('workflow_execution_id'))}"


@task_group.command("get")
@click.argument("task")
@click.option("--execution", "-x", help="The execution the task is in (to name it by name).")
@pass_session
def get_task(session: Session, task: str, execution: str | None) -> None:
    """Show a task execution: its state, what it published and its result."""
    item = find_task(session.client(), task, execution)
    out.show(session, item, lambda: _details(item))


def _details(task: JsonObject) -> RenderableType:
    running = task.get("state") not in out.FINISHED
    context = task.get("runtime_context") or {}
    pairs: list[tuple[str, RenderableType | str | None]] = [
        ("id", task.get("id")),
        ("name", task.get("name")),
        ("type", task.get("type")),
        ("workflow", _workflow(task)),
        ("state", out.state(task.get("state"))),
        ("started", f"{task.get('started_at')} ({out.ago(task.get('started_at'))})"),
        (
            "duration",
            out.elapsed(task.get("started_at"), task.get("finished_at"), running=running),
        ),
    ]
    if task.get("state_info"):
        pairs.append(("info", str(task["state_info"])))
    if isinstance(context, dict) and context.get("with_items"):
        pairs.append(("with-items", f"{context['with_items'].get('count')} items"))
    if isinstance(context, dict) and context.get("retry_task_policy"):
        pairs.append(("retries", str(context["retry_task_policy"].get("retry_no"))))
    pairs.append(("published", out.compact(task.get("published") or {}, 500)))
    if "result" in task:
        pairs.append(("result", out.compact(task.get("result"), 500)))
    return out.details(pairs)
