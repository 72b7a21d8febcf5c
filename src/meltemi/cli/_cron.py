"""``meltemi cron ...``: cron triggers, which start workflows on a schedule."""

from __future__ import annotations

from typing import Any

import click
from rich.console import RenderableType

from meltemi.cli import _output as out
from meltemi.cli._client import JsonObject
from meltemi.cli._inputs import json_object
from meltemi.cli._resolve import find_cron_trigger
from meltemi.cli._session import Session, pass_session

COLUMNS = [
    ("NAME", lambda c: str(c.get("name"))),
    ("WORKFLOW", lambda c: str(c.get("workflow_name"))),
    ("PATTERN", lambda c: str(c.get("pattern") or "-")),
    ("NEXT", lambda c: _next(c)),
    ("REMAINING", lambda c: str(c.get("remaining_executions") or "-")),
]


def _next(trigger: JsonObject) -> str:
    value = trigger.get("next_execution_time")
    return f"{value} ({out.ago(value)})" if value else "-"


@click.group("cron")
def cron_group() -> None:
    """Manage cron triggers: start a workflow on a schedule."""


@cron_group.command("list")
@pass_session
def list_triggers(session: Session) -> None:
    """List the cron triggers."""
    items = session.client().cron_triggers(sort="name")
    out.listing(session, items, COLUMNS, empty="no cron triggers")


@cron_group.command("get")
@click.argument("name")
@pass_session
def get_trigger(session: Session, name: str) -> None:
    """Show a cron trigger."""
    item = find_cron_trigger(session.client(), name)
    out.show(session, item, lambda: _details(item))


def _details(item: JsonObject) -> RenderableType:
    return out.details(
        [
            ("id", item.get("id")),
            ("name", item.get("name")),
            ("workflow", item.get("workflow_name")),
            ("pattern", item.get("pattern") or "-"),
            ("first time", item.get("first_execution_time") or "-"),
            ("next time", _next(item)),
            ("remaining", str(item.get("remaining_executions") or "-")),
            ("input", out.compact(item.get("workflow_input") or {}, 500)),
            ("params", out.compact(item.get("workflow_params") or {}, 500)),
        ]
    )


@cron_group.command("create")
@click.argument("name")
@click.argument("workflow")
@click.option("--pattern", "-p", help='A cron pattern, e.g. "*/5 * * * *".')
@click.option("--input", "-i", "input_", help="The workflow's input: JSON, or @file.json.")
@click.option("--params", help="The execution's params (env, ...): JSON, or @file.json.")
@click.option("--first-time", help='The first run, "YYYY-MM-DD HH:MM" in UTC.')
@click.option("--count", type=click.IntRange(min=1), help="Run this many times, then stop.")
@pass_session
def create_trigger(
    session: Session,
    name: str,
    workflow: str,
    pattern: str | None,
    input_: str | None,
    params: str | None,
    first_time: str | None,
    count: int | None,
) -> None:
    """Create the cron trigger NAME that starts WORKFLOW."""
    body: dict[str, Any] = {
        "name": name,
        "workflow_name": workflow,
        "pattern": pattern,
        "workflow_input": json_object(input_, "--input"),
        "workflow_params": json_object(params, "--params"),
        "first_execution_time": first_time,
        "remaining_executions": count,
    }
    created = session.client().create_cron_trigger({k: v for k, v in body.items() if v})
    out.done(
        session,
        f"created cron trigger {created['name']}; next run {_next(created)}",
        created,
    )


@cron_group.command("delete")
@click.argument("names", nargs=-1, required=True)
@pass_session
def delete_triggers(session: Session, names: tuple[str, ...]) -> None:
    """Delete cron triggers."""
    client = session.client()
    for given in names:
        found = find_cron_trigger(client, given)
        client.delete_cron_trigger(str(found["id"]))
        out.done(session, f"deleted cron trigger {found['name']}", {"deleted": found["name"]})
