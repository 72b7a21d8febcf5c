"""``meltemi cron ...``: cron triggers, which start workflows on a schedule.

The API (Mistral's too) cannot change a trigger: ``meltemi cron update`` deletes it and
creates it again with the changes, and puts the old one back if the server refuses the
new one.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import RenderableType

from meltemi.cli import _output as out
from meltemi.cli._client import Client, JsonObject
from meltemi.cli._errors import ApiError, CliError
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


def _schedule_options(f: Any) -> Any:
    f = click.option("--count", type=click.IntRange(min=1), help="Run this many times, then stop.")(
        f
    )
    f = click.option("--first-time", help='The first run, "YYYY-MM-DD HH:MM" in UTC.')(f)
    f = click.option("--params", help="The execution's params (env, ...): JSON, or @file.json.")(f)
    f = click.option("--input", "-i", "input_", help="The workflow's input: JSON, or @file.json.")(
        f
    )
    return click.option("--pattern", "-p", help='A cron pattern, e.g. "*/5 * * * *".')(f)


@cron_group.command("create")
@click.argument("name")
@click.argument("workflow")
@_schedule_options
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


@cron_group.command("update")
@click.argument("name")
@click.option("--workflow", "-w", help="Start this workflow instead.")
@_schedule_options
@pass_session
def update_trigger(
    session: Session,
    name: str,
    workflow: str | None,
    pattern: str | None,
    input_: str | None,
    params: str | None,
    first_time: str | None,
    count: int | None,
) -> None:
    """Change the cron trigger NAME: what is given replaces what it had.

    The trigger is deleted and created again (it gets a new id); when the server
    refuses the changes, the old trigger is put back.
    """
    client = session.client()
    old = find_cron_trigger(client, name)
    body = _kept(old)
    if workflow:
        body.pop("workflow_id", None)
        body["workflow_name"] = workflow
    changes: dict[str, Any] = {
        "pattern": pattern,
        "workflow_input": json_object(input_, "--input") if input_ else None,
        "workflow_params": json_object(params, "--params") if params else None,
        "first_execution_time": first_time,
        "remaining_executions": count,
    }
    body.update({k: v for k, v in changes.items() if v is not None})
    client.delete_cron_trigger(str(old["id"]))
    try:
        updated = client.create_cron_trigger(body)
    except ApiError:
        _restore(client, old)
        raise
    out.done(session, f"updated cron trigger {updated['name']}; next run {_next(updated)}", updated)


def _kept(trigger: JsonObject) -> dict[str, Any]:
    """The body that creates ``trigger`` again (from now on)."""
    body: dict[str, Any] = {
        "name": trigger["name"],
        "workflow_id": trigger.get("workflow_id"),
        "workflow_name": trigger.get("workflow_name"),
        "pattern": trigger.get("pattern"),
        "workflow_input": trigger.get("workflow_input") or {},
        "workflow_params": trigger.get("workflow_params") or {},
        "remaining_executions": trigger.get("remaining_executions"),
        "scope": trigger.get("scope"),
    }
    first = out.parse_time(trigger.get("first_execution_time"))
    if first is not None and (first > out.now() or not trigger.get("pattern")):
        # A first time still to come stays; a past one only matters without a pattern
        # (then the server says it is in the past, and --first-time must change it).
        body["first_execution_time"] = trigger["first_execution_time"]
    return {k: v for k, v in body.items() if v not in (None, "")}


def _restore(client: Client, old: JsonObject) -> None:
    try:
        client.create_cron_trigger(_kept(old))
    except ApiError as e:
        raise CliError(
            f"the changes were refused, and the old cron trigger {old['name']} could not be "
            f"put back: {e.message}",
            hint="create it again with 'meltemi cron create'",
        ) from e
