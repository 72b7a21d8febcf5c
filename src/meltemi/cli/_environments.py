"""``meltemi env ...``: named environments (variables that executions use as ``env``)."""

from __future__ import annotations

from typing import Any

import click
import yaml
from rich.console import RenderableType

from meltemi.cli import _output as out
from meltemi.cli._client import JsonObject
from meltemi.cli._errors import BadInput
from meltemi.cli._inputs import json_object, read_file
from meltemi.cli._resolve import find_environment
from meltemi.cli._session import Session, pass_session

COLUMNS = [
    ("NAME", lambda e: str(e.get("name"))),
    ("DESCRIPTION", lambda e: str(e.get("description") or "-")),
    ("VARIABLES", lambda e: ", ".join(sorted(e.get("variables") or {})) or "-"),
    ("SCOPE", lambda e: str(e.get("scope") or "-")),
    ("UPDATED", lambda e: out.ago(e.get("updated_at") or e.get("created_at"))),
]


@click.group("env")
def env_group() -> None:
    """Manage environments: named variables for executions.

    An execution uses one with 'meltemi execution start WORKFLOW --env NAME'.
    """


@env_group.command("list")
@pass_session
def list_environments(session: Session) -> None:
    """List the environments."""
    items = session.client().environments(sort="name")
    out.listing(session, items, COLUMNS, empty="no environments")


@env_group.command("get")
@click.argument("name")
@pass_session
def get_environment(session: Session, name: str) -> None:
    """Show an environment and its variables."""
    item = find_environment(session.client(), name)
    out.show(session, item, lambda: _details(item))


def _details(item: JsonObject) -> RenderableType:
    return out.details(
        [
            ("id", item.get("id")),
            ("name", item.get("name")),
            ("description", item.get("description") or "-"),
            ("scope", item.get("scope")),
            ("updated", out.ago(item.get("updated_at") or item.get("created_at"))),
            ("variables", out.json_text(item.get("variables") or {})),
        ]
    )


def _body(
    file: str | None, name: str | None, description: str | None, variables: str | None
) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if file:
        try:
            loaded = yaml.safe_load(read_file(file, "environment file"))
        except yaml.YAMLError as e:
            raise BadInput(f"environment file {file} is not valid JSON or YAML: {e}") from e
        if not isinstance(loaded, dict):
            raise BadInput(
                f"environment file {file} must hold an object with name and variables",
                hint='e.g. {"name": "prod", "variables": {"region": "eu"}}',
            )
        body.update(loaded)
    if name:
        body["name"] = name
    if description is not None:
        body["description"] = description
    if variables:
        body["variables"] = json_object(variables, "--variables")
    if not body.get("name"):
        raise BadInput("an environment needs a name", hint="give --name NAME, or a FILE with one")
    return body


def _save_options(f: Any) -> Any:
    f = click.option("--variables", "-v", help="The variables: JSON, or @file.json.")(f)
    f = click.option("--description", "-d", default=None, help="What it is for.")(f)
    f = click.option("--name", help="Its name (overrides the file's).")(f)
    return click.argument("file", required=False)(f)


@env_group.command("create")
@_save_options
@pass_session
def create_environment(
    session: Session,
    file: str | None,
    name: str | None,
    description: str | None,
    variables: str | None,
) -> None:
    """Create an environment from FILE (JSON or YAML: name, description, variables)
    and/or the options."""
    created = session.client().save_environment(_body(file, name, description, variables))
    out.done(session, f"created environment {created['name']}", created)


@env_group.command("update")
@_save_options
@pass_session
def update_environment(
    session: Session,
    file: str | None,
    name: str | None,
    description: str | None,
    variables: str | None,
) -> None:
    """Change an environment (the variables given replace its variables)."""
    body = _body(file, name, description, variables)
    updated = session.client().save_environment(body, update=True)
    out.done(session, f"updated environment {updated['name']}", updated)


@env_group.command("delete")
@click.argument("names", nargs=-1, required=True)
@pass_session
def delete_environments(session: Session, names: tuple[str, ...]) -> None:
    """Delete environments."""
    client = session.client()
    for given in names:
        found = find_environment(client, given)
        client.delete_environment(str(found["name"]))
        out.done(session, f"deleted environment {found['name']}", {"deleted": found["name"]})
