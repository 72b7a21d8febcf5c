"""List endpoints: reading Mistral's paging/filter parameters, writing pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import Request

from meltemi.services.errors import InvalidInput
from meltemi.services.listing import ListQuery, parse_filter

PAGING = frozenset({"limit", "marker", "sort_keys", "sort_dirs", "fields"})
IGNORED = frozenset({"all_projects", "project_id", "include_output", "nulls"})


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def list_parameters(
    filters: Iterable[str],
    *,
    enums: Mapping[str, Sequence[str]] | None = None,
    flags: Iterable[str] = (),
    extra: Iterable[str] = (),
) -> dict[str, Any]:
    """``openapi_extra`` of a list endpoint: paging, sorting, fields and its filters.

    The endpoint reads these itself (:func:`list_query`), so FastAPI cannot see them.
    """

    def query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "schema": schema,
            "description": description,
        }

    text = {"type": "string"}
    parameters = [
        query("limit", {"type": "integer", "minimum": 1}, "Items per page (at most 1000)."),
        query("marker", text, "The id of the last item of the previous page."),
        query("sort_keys", text, "Comma-separated fields to sort by (default created_at)."),
        query("sort_dirs", text, "Comma-separated directions, asc or desc, one per key."),
        query("fields", text, "Comma-separated fields to return (id is always there)."),
    ]
    for name in filters:
        values = (enums or {}).get(name)
        schema = {"type": "string", "enum": list(values)} if values else text
        parameters.append(
            query(
                name,
                schema,
                f"Filter: {name}=value or {name}=op:value (eq, neq, gt, "
                "gte, lt, lte, in, nin, has).",
            )
        )
    for name in flags:
        parameters.append(query(name, {"type": "boolean"}, f"Flag: {name}=true or false."))
    for name in extra:
        parameters.append(query(name, text, name))
    return {"parameters": parameters}


def flag(request: Request, name: str) -> bool:
    """A boolean query parameter (true/false, 1/0, yes/no, on/off); absent is false."""
    value = request.query_params.get(name)
    if value is None:
        return False
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise InvalidInput(f"{name} must be true or false, not '{value}'")


def _csv(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def _names(value: str | None) -> tuple[str, ...]:
    """A list of field names or sort directions as Mistral reads them: lower case,
    each once."""
    return tuple(dict.fromkeys(v.lower() for v in _csv(value)))


def list_query(
    request: Request,
    filters: Iterable[str],
    *,
    default_sort: tuple[str, ...] = ("created_at",),
    known_fields: Iterable[str] = (),
) -> ListQuery:
    """The ListQuery of a request; unknown parameters, fields and bad limits are 400s."""
    params = request.query_params
    allowed = set(filters)
    for name in params:
        if name not in allowed and name not in PAGING and name not in IGNORED:
            raise InvalidInput(
                f'Unknown argument: "{name}"; this list takes '
                f"{', '.join(sorted(allowed | PAGING | IGNORED))}"
            )
    limit: int | None = None
    if params.get("limit") is not None:  # given empty is a 400, as in Mistral
        try:
            limit = int(params["limit"])
        except ValueError as e:
            raise InvalidInput(f"Limit must be an integer, not '{params['limit']}'") from e
        if limit <= 0:
            raise InvalidInput("Limit must be positive.")
    fields = _names(params.get("fields"))
    known = set(known_fields)
    if known:
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise InvalidInput(f"Some fields do not exist [{', '.join(unknown)}]")
    chosen = {k: parse_filter(v) for k, v in params.items() if k in allowed}
    return ListQuery(
        limit=limit,
        marker=params.get("marker") or None,
        # A key given twice counts once, as in Mistral (then more directions than keys
        # is a 400).
        sort_keys=_names(params.get("sort_keys")) or default_sort,
        sort_dirs=tuple(v.lower() for v in _csv(params.get("sort_dirs"))),
        fields=fields,
        filters=chosen,
        nulls=_csv(params.get("nulls")),
    )


def requested_fields(fields: str | None, known: Iterable[str]) -> tuple[str, ...]:
    """The ``fields`` of a GET of one resource; one that does not exist is a 400."""
    wanted = _names(fields)
    unknown = [f for f in wanted if f not in set(known)]
    if unknown:
        raise InvalidInput(f"Some fields do not exist [{', '.join(unknown)}]")
    return wanted


def select_fields(item: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    if not fields:
        return item
    wanted = {"id", *fields}
    return {k: v for k, v in item.items() if k in wanted}


def page(
    request: Request,
    collection: str,
    rows: list[dict[str, Any]],
    query: ListQuery,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> dict[str, Any]:
    """``{collection: [...], "next": url}`` with ``next`` only when the page is full."""
    items = [select_fields(render(row), query.fields) for row in rows]
    body: dict[str, Any] = {collection: items}
    if query.limit and len(rows) >= query.limit and rows:
        base = str(request.base_url).rstrip("/")
        body["next"] = f"{base}{request.url.path}?{_next_query(request, query, rows[-1])}"
    return body


def _next_query(request: Request, query: ListQuery, last: dict[str, Any]) -> str:
    """The query of the next page, laid out as Mistral's: the sort with its ``id``
    tiebreak and a direction for every key, the filters, limit, marker, fields."""
    keys = list(query.sort_keys)
    dirs = [*query.sort_dirs, *["asc"] * (len(keys) - len(query.sort_dirs))]
    if "id" not in keys:
        keys.append("id")
        dirs.append("asc")
    parts = [f"sort_keys={','.join(keys)}", f"sort_dirs={','.join(dirs)}"]
    paging = PAGING | {"include_output", "nulls"}
    others = [(k, v) for k, v in request.query_params.multi_items() if k not in paging]
    if others:
        parts.append(urlencode(others))
    parts += [f"limit={query.limit}", f"marker={quote(str(last['id']))}"]
    for name in ("include_output", "nulls"):
        if name in request.query_params:
            parts.append(urlencode({name: request.query_params[name]}))
    if query.fields:
        fields = query.fields if "id" in query.fields else ("id", *query.fields)
        parts.append(f"fields={','.join(fields)}")
    return "&".join(parts)
