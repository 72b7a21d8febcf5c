"""Finding what the user named: an id, a unique id prefix, or a name.

Each ``find_*`` function asks the server for the thing as given first (the API takes
names for workflows, workbooks, actions, environments and cron triggers), then for
ids that start with it. Two or more matches are an error that lists them; none is
an error with a hint of how to list what there is.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from meltemi.cli._client import Client, JsonObject
from meltemi.cli._errors import ApiError, CliError

_SHOWN = 5


def _by_prefix(
    what: str,
    given: str,
    candidates: Sequence[JsonObject],
    *,
    label: Callable[[JsonObject], str],
    hint: str,
) -> JsonObject:
    matches = [c for c in candidates if str(c.get("id", "")).startswith(given)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise CliError(f"no {what} '{given}' (by name, id or id prefix)", hint=hint)
    listed = ", ".join(label(m) for m in matches[:_SHOWN])
    more = f" and {len(matches) - _SHOWN} more" if len(matches) > _SHOWN else ""
    raise CliError(
        f"'{given}' is ambiguous: {len(matches)} {what}s match ({listed}{more})",
        hint="give more characters of the id",
    )


def _get_or_prefix(
    what: str,
    given: str,
    get: Callable[[str], JsonObject],
    search: Callable[[dict[str, Any]], list[JsonObject]],
    *,
    label: Callable[[JsonObject], str],
    hint: str,
) -> JsonObject:
    try:
        return get(given)
    except ApiError as e:
        if e.status not in (400, 404):
            raise
    found = _by_prefix(what, given, search({"id": f"has:{given}"}), label=label, hint=hint)
    return get(str(found["id"]))


def _named(item: JsonObject) -> str:
    return f"{str(item.get('id', ''))[:8]} {item.get('name', '')}".strip()


def find_workflow(client: Client, given: str, namespace: str = "") -> JsonObject:
    return _get_or_prefix(
        "workflow",
        given,
        lambda i: client.workflow(i, namespace),
        client.workflows,
        label=_named,
        hint="see the workflows with 'meltemi workflow list'",
    )


def find_workbook(client: Client, given: str, namespace: str = "") -> JsonObject:
    return _get_or_prefix(
        "workbook",
        given,
        lambda i: client.workbook(i, namespace),
        client.workbooks,
        label=_named,
        hint="see the workbooks with 'meltemi workbook list'",
    )


def find_action(client: Client, given: str, namespace: str = "") -> JsonObject:
    def get(identifier: str) -> JsonObject:
        if identifier == given:
            return client.action(identifier, namespace)
        # An id prefix was matched: the API names actions by name.
        (found,) = client.actions({"id": identifier})
        return found

    return _get_or_prefix(
        "action",
        given,
        get,
        client.actions,
        label=_named,
        hint="see the actions with 'meltemi action list'",
    )


def find_environment(client: Client, given: str) -> JsonObject:
    def get(identifier: str) -> JsonObject:
        if identifier == given:
            return client.environment(identifier)
        (found,) = client.environments({"id": identifier})
        return client.environment(str(found["name"]))

    return _get_or_prefix(
        "environment",
        given,
        get,
        client.environments,
        label=_named,
        hint="see the environments with 'meltemi env list'",
    )


def find_cron_trigger(client: Client, given: str) -> JsonObject:
    return _get_or_prefix(
        "cron trigger",
        given,
        client.cron_trigger,
        client.cron_triggers,
        label=_named,
        hint="see the cron triggers with 'meltemi cron list'",
    )


def _execution_label(item: JsonObject) -> str:
    return f"{str(item.get('id', ''))[:8]} {item.get('workflow_name', '')}".strip()


def find_execution(client: Client, given: str) -> JsonObject:
    """An execution by id, unique id prefix, or workflow name (its latest execution)."""
    try:
        return client.execution(given)
    except ApiError as e:
        if e.status not in (400, 404):
            raise
    matches = [
        m for m in client.executions({"id": f"has:{given}"}) if str(m["id"]).startswith(given)
    ]
    if not matches:
        latest = client.executions({"workflow_name": given}, limit=1, sort="created_at", desc=True)
        if latest:
            return client.execution(str(latest[0]["id"]))
    found = _by_prefix(
        "execution",
        given,
        matches,
        label=_execution_label,
        hint="give an execution id (or its first characters) or a workflow name; "
        "see 'meltemi execution list'",
    )
    return client.execution(str(found["id"]))


def find_task(client: Client, given: str, execution: str | None = None) -> JsonObject:
    """A task execution by id, unique id prefix, or name (in ``execution`` if given).

    A name that ran several times in the execution means its latest run.
    """
    if execution is not None:
        parent = find_execution(client, execution)
        tasks = client.execution_tasks(str(parent["id"]))
        named = [t for t in tasks if t.get("name") == given]
        if named:
            return client.task(str(named[-1]["id"]))
        found = _by_prefix(
            "task",
            given,
            tasks,
            label=_named,
            hint=f"the tasks of execution {str(parent['id'])[:8]} are: "
            + (", ".join(dict.fromkeys(str(t["name"]) for t in tasks)) or "none"),
        )
        return client.task(str(found["id"]))
    try:
        return client.task(given)
    except ApiError as e:
        if e.status not in (400, 404):
            raise
    matches = [t for t in client.tasks({"id": f"has:{given}"}) if str(t["id"]).startswith(given)]
    if not matches:
        matches = client.tasks({"name": given}, limit=50)
        if len(matches) > 1:
            raise CliError(
                f"{len(matches)} tasks are named '{given}'",
                hint="name the execution too: --execution ID",
            )
        if matches:
            return client.task(str(matches[0]["id"]))
    found = _by_prefix(
        "task",
        given,
        matches,
        label=_named,
        hint="see the tasks with 'meltemi task list --execution ID'",
    )
    return client.task(str(found["id"]))
