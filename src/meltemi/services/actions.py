"""The action catalogue: system actions (std.* and plug-ins, from the registry) and
ad-hoc actions (stored from documents), listed, found and deleted as one collection.

System actions live in memory, so the catalogue is filtered, sorted and paged here
rather than in SQL; there are hundreds of actions, not millions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from meltemi.actions import ActionDescriptor, ActionRegistry
from meltemi.lang import DocumentKind
from meltemi.services.definitions import ACTIONS, Definitions
from meltemi.services.errors import InvalidInput, NotFound
from meltemi.services.listing import Filter, ListQuery, Op, check_sort

FIELDS = (
    "id",
    "name",
    "namespace",
    "input",
    "description",
    "tags",
    "definition",
    "is_system",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
_COLUMNS = [ACTIONS.c[name] for name in FIELDS if name in ACTIONS.c and name != "is_system"]


def system_action(descriptor: ActionDescriptor) -> dict[str, Any]:
    """A system action as the API shows it (Mistral: id = name, is_system false)."""
    doc = (descriptor.cls.__doc__ or "").strip().splitlines()
    return {
        "id": descriptor.name,
        "name": descriptor.name,
        "namespace": "",
        "input": descriptor.input_text,
        "description": descriptor.description or (doc[0] if doc else ""),
        "tags": [],
        "definition": "",
        "is_system": False,
        "scope": "public",
        "project_id": None,
        "created_at": None,
        "updated_at": None,
    }


class Actions:
    def __init__(self, definitions: Definitions, registry: ActionRegistry) -> None:
        self.definitions = definitions
        self.registry = registry
        self.db = definitions.db

    # -- reading ---------------------------------------------------------------------------

    def _adhoc(self, where: Iterable[sa.ColumnElement[bool]] = ()) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            rows = conn.execute(sa.select(*_COLUMNS).where(*where)).mappings().all()
        return [{**row, "tags": list(row["tags"] or []), "is_system": False} for row in rows]

    def get(self, identifier: str, namespace: str = "") -> dict[str, Any]:
        """An ad-hoc action by id, or by name in the namespace and then (as Mistral
        looks actions up) in the default namespace, or a system action."""
        found = self._adhoc([ACTIONS.c.id == identifier])
        for space in dict.fromkeys((namespace, "")):
            if not found:
                found = self._adhoc([ACTIONS.c.name == identifier, ACTIONS.c.namespace == space])
        if found:
            return found[0]
        descriptor = self.registry.builtin_named(identifier)
        if descriptor is not None:
            return system_action(descriptor)
        raise NotFound(f"Action not found [name={identifier}, namespace={namespace}]")

    # -- writing ---------------------------------------------------------------------------

    def create(
        self,
        text: str,
        *,
        namespace: str = "",
        scope: str = "private",
        update: bool = False,
        identifier: str | None = None,
    ) -> list[dict[str, Any]]:
        """Registers (or with ``update`` changes) the ad-hoc actions of a document."""
        if identifier is not None and self.registry.builtin_named(identifier) is not None:
            raise InvalidInput(f"Attempt to modify a system action: {identifier}")
        document = self.definitions.parse(text, DocumentKind.ACTIONS)
        for action in document.actions:
            if self.registry.builtin_named(action.name) is not None:
                raise InvalidInput(
                    f"'{action.name}' is the name of a system action; choose another name "
                    "for the ad-hoc action"
                )
        ids = self.definitions.create_actions(
            text, namespace=namespace, scope=scope, update=update, identifier=identifier
        )
        order = {action_id: i for i, action_id in enumerate(ids)}
        rows = self._adhoc([ACTIONS.c.id.in_(ids)])
        return sorted(rows, key=lambda r: order[r["id"]])

    def delete(self, identifier: str, namespace: str = "") -> None:
        if self.registry.builtin_named(identifier) is not None:
            raise InvalidInput(
                f"Attempt to delete a system action: {identifier}; system actions cannot be deleted"
            )
        with self.db.write() as conn:
            done = conn.execute(
                ACTIONS.delete().where(
                    sa.or_(
                        ACTIONS.c.id == identifier,
                        sa.and_(ACTIONS.c.name == identifier, ACTIONS.c.namespace == namespace),
                    )
                )
            )
            if done.rowcount == 0:
                raise NotFound(f"Action not found [name={identifier}, namespace={namespace}]")
        self.definitions.forget_actions()

    def validate(self, text: str) -> str | None:
        return self.definitions.validate(text, DocumentKind.ACTIONS)

    def list(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        """One page of all actions, with Mistral's filters, sorting and marker."""
        for name in (*query.sort_keys, *query.filters):
            if name not in FIELDS:
                raise InvalidInput(
                    f"Some fields do not exist [{name}]; known: {', '.join(sorted(FIELDS))}"
                )
        items = [system_action(d) for d in self.registry.builtin()] + self._adhoc()
        items = [i for i in items if all(_match(i, k, f) for k, f in query.filters.items())]
        items = _sorted(items, list(query.sort_keys or ("name",)), list(query.sort_dirs))
        if query.marker:
            ids = [i["id"] for i in items]
            if query.marker not in ids:
                raise InvalidInput(
                    f"The marker {query.marker} does not match any item of this list"
                )
            items = items[ids.index(query.marker) + 1 :]
        limit = min(query.limit or max_limit, max_limit)
        return items[:limit]


# -- filtering and sorting in memory ----------------------------------------------------


def _coerce(sample: Any, text: Any) -> Any:
    """A filter value from the URL, as the type of the field it is compared with."""
    if text is None or text == "null":
        return None
    if isinstance(sample, bool):
        lowered = str(text).lower()
        if lowered not in ("true", "false", "1", "0"):
            raise InvalidInput(f"'{text}' is not a boolean (true or false)")
        return lowered in ("true", "1")
    if isinstance(sample, datetime):
        try:
            parsed = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError as e:
            raise InvalidInput(f"'{text}' is not a time (YYYY-MM-DD HH:MM:SS)") from e
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return str(text)


def _text(value: Any) -> str:
    if isinstance(value, list | dict):
        return json.dumps(value)
    return "" if value is None else str(value)


def _match(item: Mapping[str, Any], name: str, flt: Filter) -> bool:
    value = item.get(name)
    if flt.op is Op.HAS:
        return str(flt.value) in _text(value)
    if isinstance(value, list):  # tags: eq/in compare with the members
        wanted = flt.value if isinstance(flt.value, list) else [flt.value]
        hit = any(str(w) in value for w in wanted)
        return not hit if flt.op in (Op.NEQ, Op.NIN) else hit
    if flt.op in (Op.IN, Op.NIN):
        choices = [_coerce(value, v) for v in flt.value]
        return (value in choices) == (flt.op is Op.IN)
    other = _coerce(value, flt.value)
    if flt.op is Op.EQ:
        return bool(value == other)
    if flt.op is Op.NEQ:
        return bool(value != other)
    if value is None or other is None:
        return False
    try:
        if flt.op is Op.GT:
            return bool(value > other)
        if flt.op is Op.GTE:
            return bool(value >= other)
        if flt.op is Op.LT:
            return bool(value < other)
        return bool(value <= other)
    except TypeError:
        return False


def _sorted(items: list[dict[str, Any]], keys: list[str], dirs: list[str]) -> list[dict[str, Any]]:
    check_sort(keys, dirs)
    dirs = dirs + ["asc"] * (len(keys) - len(dirs))  # as in Mistral
    for key, direction in reversed([*zip(keys, dirs, strict=True), ("id", "asc")]):
        items = sorted(items, key=_sort_key(key), reverse=direction == "desc")
    return items


def _sort_key(key: str) -> Callable[[dict[str, Any]], tuple[bool, str]]:
    """Nulls first, then by text (times are ISO text, so they sort as times)."""

    def of(item: dict[str, Any]) -> tuple[bool, str]:
        value = item.get(key)
        return (value is not None, _text(value))

    return of
