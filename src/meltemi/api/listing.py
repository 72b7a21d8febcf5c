"""List endpoints: reading Mistral's paging/filter parameters, writing pages."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from meltemi.services.errors import InvalidInput
from meltemi.services.listing import ListQuery, parse_filter

PAGING = frozenset({"limit", "marker", "sort_keys", "sort_dirs", "fields"})
IGNORED = frozenset({"all_projects", "project_id", "include_output", "nulls"})


def _csv(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    return tuple(v.strip() for v in value.split(",") if v.strip())


def list_query(
    request: Request,
    filters: Iterable[str],
    *,
    default_sort: tuple[str, ...] = ("created_at",),
    known_fields: Iterable[str] = (),
) -> ListQuery:
    """The ListQuery of a request; unknown fields and bad limits are 400s."""
    params = request.query_params
    limit: int | None = None
    if params.get("limit") not in (None, ""):
        try:
            limit = int(params["limit"])
        except ValueError as e:
            raise InvalidInput(f"Limit must be an integer, not '{params['limit']}'") from e
        if limit <= 0:
            raise InvalidInput("Limit must be positive.")
    fields = _csv(params.get("fields"))
    known = set(known_fields)
    if known:
        unknown = [f for f in fields if f not in known]
        if unknown:
            raise InvalidInput(f"Some fields do not exist [{', '.join(unknown)}]")
    allowed = set(filters)
    chosen = {k: parse_filter(v) for k, v in params.items() if k in allowed}
    return ListQuery(
        limit=limit,
        marker=params.get("marker") or None,
        sort_keys=_csv(params.get("sort_keys")) or default_sort,
        sort_dirs=_csv(params.get("sort_dirs")),
        fields=fields,
        filters=chosen,
        nulls=_csv(params.get("nulls")),
    )


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
        params = {k: v for k, v in request.query_params.items() if k != "marker"}
        params["marker"] = str(rows[-1]["id"])
        params["limit"] = str(query.limit)
        base = str(request.base_url).rstrip("/")
        body["next"] = f"{base}{request.url.path}?{urlencode(params)}"
    return body
