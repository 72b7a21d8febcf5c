"""``meltemi workflow|workbook|action ...``: definitions on a server.

The three groups share their verbs (list, get, create, update, delete, validate);
what differs (the API calls, the columns) is in a :class:`Kind`. ``meltemi action run``
comes from :mod:`meltemi.cli._actions`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import click
from rich.console import Group, RenderableType
from rich.syntax import Syntax

from meltemi.cli import _output as out
from meltemi.cli._actions import run_action
from meltemi.cli._client import Client, JsonObject
from meltemi.cli._inputs import read_file
from meltemi.cli._resolve import find_action, find_workbook, find_workflow
from meltemi.cli._session import Session, pass_session


@dataclass(frozen=True, slots=True)
class Kind:
    name: str  # "workflow"
    resource: str  # "workflows": the API's path and the validate endpoint
    find: Callable[[Client, str, str], JsonObject]
    create: Callable[[Client, str, str, bool, bool], list[JsonObject]]
    delete: Callable[[Client, str, str], None]
    columns: Sequence[out.Column]

    @property
    def article(self) -> str:
        return "an" if self.name[0] in "aeiou" else "a"


def _common_columns() -> list[out.Column]:
    return [
        ("SCOPE", lambda i: str(i.get("scope") or "-")),
        ("TAGS", lambda i: ", ".join(i.get("tags") or []) or "-"),
        ("CREATED", lambda i: out.ago(i.get("created_at"))),
    ]


def _create_workflows(
    client: Client, text: str, namespace: str, public: bool, update: bool
) -> list[JsonObject]:
    return client.create_workflows(text, namespace=namespace, public=public, update=update)


def _create_workbook(
    client: Client, text: str, namespace: str, public: bool, update: bool
) -> list[JsonObject]:
    return [client.create_workbook(text, namespace=namespace, public=public, update=update)]


def _create_actions(
    client: Client, text: str, namespace: str, public: bool, update: bool
) -> list[JsonObject]:
    return client.create_actions(text, namespace=namespace, public=public, update=update)


WORKFLOW = Kind(
    "workflow",
    "workflows",
    find_workflow,
    _create_workflows,
    lambda c, n, ns: c.delete_workflow(n, ns),
    [
        ("ID", lambda i: out.short(i.get("id"))),
        ("NAME", lambda i: str(i["name"])),
        ("NAMESPACE", lambda i: str(i.get("namespace") or "-")),
        ("INPUT", lambda i: str(i.get("input") or "-")),
        *_common_columns(),
    ],
)
WORKBOOK = Kind(
    "workbook",
    "workbooks",
    find_workbook,
    _create_workbook,
    lambda c, n, ns: c.delete_workbook(n, ns),
    [
        ("NAME", lambda i: str(i["name"])),
        ("NAMESPACE", lambda i: str(i.get("namespace") or "-")),
        *_common_columns(),
    ],
)
ACTION = Kind(
    "action",
    "actions",
    find_action,
    _create_actions,
    lambda c, n, ns: c.delete_action(n, ns),
    [
        ("NAME", lambda i: str(i["name"])),
        ("INPUT", lambda i: str(i.get("input") or "-")),
        ("DESCRIPTION", lambda i: out.compact(i.get("description") or "-", 80)),
    ],
)


def _namespace_option(f: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--namespace", "-n", default="", help="The namespace (default: none).")(f)


def _filter_pairs(pairs: tuple[str, ...]) -> dict[str, str]:
    filters = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"'{pair}' is not KEY=VALUE", param_hint="--filter")
        filters[key] = value
    return filters


def make_group(kind: Kind) -> click.Group:
    """The ``meltemi <kind>`` group with its list/get/create/update/delete/validate."""

    @click.group(kind.name, help=f"Manage {kind.resource} on a Meltemi server.")
    def group() -> None:
        pass

    _add_reads(group, kind)
    _add_writes(group, kind)
    _add_validate(group, kind)
    return group


def _add_reads(group: click.Group, kind: Kind) -> None:
    @group.command("list")
    @click.option(
        "--filter",
        "-f",
        "filters",
        multiple=True,
        help="KEY=VALUE or KEY=OP:VALUE (eq, neq, in, has, gt, ...); repeatable.",
    )
    @click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many.")
    @pass_session
    def list_(session: Session, filters: tuple[str, ...], limit: int | None) -> None:
        client = session.client()
        lister = getattr(client, kind.resource)
        items = lister(_filter_pairs(filters), limit=limit, sort="name")
        out.listing(session, items, kind.columns, empty=f"no {kind.resource}")

    list_.help = f"List the {kind.resource}."

    @group.command("get")
    @click.argument("name")
    @_namespace_option
    @click.option("--definition", "-d", is_flag=True, help="Print only the YAML definition.")
    @pass_session
    def get(session: Session, name: str, namespace: str, definition: bool) -> None:
        item = kind.find(session.client(), name, namespace)
        if definition:
            click.echo(str(item.get("definition") or ""), nl=False)
            return
        out.show(session, item, lambda: _details(item))

    get.help = f"Show {kind.article} {kind.name} by name, id or id prefix."


def _add_writes(group: click.Group, kind: Kind) -> None:
    def save(session: Session, file: str, namespace: str, public: bool, update: bool) -> None:
        text = read_file(file, "definition file")
        saved = kind.create(session.client(), text, namespace, public, update)
        verb = "updated" if update else "created"
        names = ", ".join(str(s.get("name")) for s in saved)
        out.done(session, f"{verb} {kind.name} {names}" if saved else f"nothing {verb}", saved)

    @group.command("create")
    @click.argument("file")
    @_namespace_option
    @click.option("--public", is_flag=True, help="Visible to every project.")
    @pass_session
    def create(session: Session, file: str, namespace: str, public: bool) -> None:
        save(session, file, namespace, public, update=False)

    create.help = f"Register the {kind.resource} of a YAML FILE ('-' reads standard input)."

    @group.command("update")
    @click.argument("file")
    @_namespace_option
    @click.option("--public", is_flag=True, help="Visible to every project.")
    @pass_session
    def update(session: Session, file: str, namespace: str, public: bool) -> None:
        save(session, file, namespace, public, update=True)

    update.help = f"Change registered {kind.resource} to the definitions in FILE."

    @group.command("delete")
    @click.argument("names", nargs=-1, required=True)
    @_namespace_option
    @pass_session
    def delete(session: Session, names: tuple[str, ...], namespace: str) -> None:
        client = session.client()
        for name in names:
            item = kind.find(client, name, namespace)
            kind.delete(client, str(item["name"]), namespace)
            message = f"deleted {kind.name} {item['name']}"
            if kind.name == "workbook":
                # As in Mistral; say so, since people expect the members to go too.
                message += (
                    f" (its workflows and actions stay registered as {item['name']}.*;"
                    " 'meltemi workflow delete' removes them)"
                )
            out.done(session, message, {"deleted": item["name"]})

    delete.help = f"Delete {kind.resource} by name, id or id prefix."


def _add_validate(group: click.Group, kind: Kind) -> None:
    @group.command("validate")
    @click.argument("file")
    @pass_session
    def validate(session: Session, file: str) -> None:
        text = read_file(file, "definition file")
        result = session.client().validate(kind.resource, text)
        if isinstance(result.get("error"), str):
            result["error"] = result["error"].replace("<definition>", file)
        if session.machine:
            out.machine(session, result)
        elif result.get("valid"):
            out.console().print(f"{file}: valid {kind.name} definition")
        else:
            click.echo(str(result.get("error") or "invalid"), err=True)
        if not result.get("valid"):
            raise click.exceptions.Exit(1)

    validate.help = (
        f"Check {kind.article} {kind.name} definition FILE with the server (exit 1 if invalid)."
    )


def _details(item: JsonObject) -> RenderableType:
    pairs: list[tuple[str, RenderableType | str | None]] = [
        ("id", item.get("id")),
        ("name", item.get("name")),
        ("namespace", item.get("namespace") or "-"),
        ("scope", item.get("scope")),
        ("tags", ", ".join(item.get("tags") or []) or "-"),
    ]
    if "input" in item:
        pairs.append(("input", str(item.get("input") or "-")))
    if item.get("description"):
        pairs.append(("description", str(item["description"])))
    pairs.append(("created", _when(item.get("created_at"))))
    pairs.append(("updated", _when(item.get("updated_at"))))
    parts: list[RenderableType] = [out.details(pairs)]
    definition = item.get("definition")
    if definition:
        parts.append(Syntax(str(definition).rstrip(), "yaml", line_numbers=True))
    return Group(*parts)


def _when(value: str | None) -> str:
    return f"{value} ({out.ago(value)})" if value else "-"


workflow_group = make_group(WORKFLOW)
workbook_group = make_group(WORKBOOK)
action_group = make_group(ACTION)
action_group.add_command(run_action)
