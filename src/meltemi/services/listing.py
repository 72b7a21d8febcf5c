"""Listing stored things page by page: filters, sorting, markers, field selection.

The REST API's list endpoints all work the same way (Mistral's rules): ``limit``,
``marker`` (the id of the last item of the previous page), ``sort_keys`` and
``sort_dirs``, ``fields``, and filters ``name=value`` or ``name=op:value`` with op
in eq, neq, gt, gte, lt, lte, in, nin, has.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from meltemi.services.errors import InvalidInput, NotFound


class Op(enum.StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"
    IN = "in"
    NIN = "nin"
    HAS = "has"


@dataclass(frozen=True, slots=True)
class Filter:
    op: Op
    value: Any


@dataclass(frozen=True, slots=True, kw_only=True)
class ListQuery:
    limit: int | None = None
    marker: str | None = None
    sort_keys: tuple[str, ...] = ("created_at",)
    sort_dirs: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    filters: Mapping[str, Filter] = field(default_factory=dict)
    nulls: tuple[str, ...] = ()


def parse_filter(value: str) -> Filter:
    """``op:value`` (or a bare value, meaning eq); in/nin take comma lists."""
    op_text, sep, rest = value.partition(":")
    if sep and op_text in Op.__members__.values():
        op = Op(op_text)
        if op in (Op.IN, Op.NIN):
            return Filter(op, [v for v in rest.split(",") if v != ""])
        return Filter(op, rest)
    return Filter(Op.EQ, value)


@dataclass(frozen=True, slots=True)
class Listing:
    """What can be listed from a table: the API field names and their columns."""

    table: sa.FromClause
    columns: Mapping[str, sa.ColumnElement[Any]]
    default_sort: tuple[str, ...] = ("created_at",)
    # Keys that order rows the sort keys leave tied, before the id (rows written in one
    # transaction share their created_at).
    tiebreak: tuple[str, ...] = ()

    def check_fields(self, names: Sequence[str], what: str) -> None:
        unknown = [n for n in names if n not in self.columns]
        if unknown:
            raise InvalidInput(
                f"Some {what} do not exist [{', '.join(unknown)}]; "
                f"known: {', '.join(sorted(self.columns))}"
            )

    def fetch(
        self,
        conn: Connection,
        query: ListQuery,
        *,
        where: Sequence[sa.ColumnElement[bool]] = (),
        max_limit: int = 1000,
        only: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        """One page of rows as dicts keyed by API field name: all fields, or ``only``
        those (reading big JSON columns nobody shows costs most of a list's time)."""
        sort_keys = list(query.sort_keys or self.default_sort)
        self.check_fields(sort_keys, "sort keys")
        sort_dirs = list(query.sort_dirs)
        check_sort(sort_keys, sort_dirs)
        # Keys without a direction sort ascending, as in Mistral.
        sort_dirs += ["asc"] * (len(sort_keys) - len(sort_dirs))
        # Ties are broken by the tiebreak keys, then by id. A trailing id after other
        # keys (as next links carry it) keeps the tiebreak keys before it, so that
        # every page of a listing is cut from the same order.
        at = len(sort_keys) - 1 if len(sort_keys) > 1 and sort_keys[-1] == "id" else None
        for key in (*self.tiebreak, "id"):
            if key in sort_keys:
                continue
            direction = sort_dirs[(at or len(sort_dirs)) - 1] if sort_dirs else "asc"
            if at is None:
                sort_keys.append(key)
                sort_dirs.append(direction)
            else:
                sort_keys.insert(at, key)
                sort_dirs.insert(at, direction)
                at += 1
        conditions = list(where)
        for name, flt in query.filters.items():
            self.check_fields([name], "filters")
            conditions.append(_condition(self.columns[name], flt))
        for name in query.nulls:
            self.check_fields([name], "fields")
            conditions.append(self.columns[name].is_(None))
        if query.marker:
            conditions.append(self._after_marker(conn, query.marker, sort_keys, sort_dirs))
        wanted = self.columns if only is None else {n: self.columns[n] for n in {"id", *only}}
        stmt = sa.select(*[c.label(n) for n, c in wanted.items()])
        stmt = stmt.select_from(self.table).where(*conditions)
        for key, direction in zip(sort_keys, sort_dirs, strict=True):
            column = self.columns[key]
            stmt = stmt.order_by(column.desc() if direction == "desc" else column.asc())
        limit = query.limit
        if limit is not None:
            if limit <= 0:
                raise InvalidInput("Limit must be positive.")
            stmt = stmt.limit(min(limit, max_limit))
        else:
            stmt = stmt.limit(max_limit)
        return [dict(row) for row in conn.execute(stmt).mappings()]

    def _after_marker(
        self, conn: Connection, marker: str, keys: list[str], dirs: list[str]
    ) -> sa.ColumnElement[bool]:
        """Rows after the marker row in the sort order (keyset pagination)."""
        id_column = self.columns["id"]
        row = conn.execute(
            sa.select(*[self.columns[k] for k in keys]).where(id_column == marker)
        ).first()
        if row is None:
            message = f"The marker {marker} does not match any item of this list"
            # As Mistral: an id that could be one but is not found is a 404.
            raise NotFound(message) if _is_uuid(marker) else InvalidInput(message)
        clauses = []
        for i, key in enumerate(keys):
            equal = [self.columns[keys[j]] == row[j] for j in range(i)]
            column = self.columns[key]
            value = row[i]
            if value is None:
                continue
            after = column < value if dirs[i] == "desc" else column > value
            clauses.append(sa.and_(*equal, after))
        return sa.or_(*clauses) if clauses else sa.true()


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _coerce(column: sa.ColumnElement[Any], value: Any) -> Any:
    """A filter value (text from a URL) as the column's type."""
    if value is None or value == "null":
        return None
    kind = column.type
    try:
        if isinstance(kind, sa.DateTime) or getattr(kind, "impl", None).__class__ is sa.DateTime:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        if isinstance(kind, sa.Boolean):
            text = str(value).lower()
            if text not in ("true", "false", "1", "0"):
                raise ValueError(value)
            return text in ("true", "1")
        if isinstance(kind, sa.Integer):
            return int(value)
    except (TypeError, ValueError) as e:
        raise InvalidInput(f"'{value}' is not a valid value for the filter on {column}") from e
    return value


def _condition(column: sa.ColumnElement[Any], flt: Filter) -> sa.ColumnElement[bool]:
    if flt.op is Op.HAS:
        return sa.cast(column, sa.Text).contains(str(flt.value), autoescape=True)
    value = (
        [_coerce(column, v) for v in flt.value]
        if isinstance(flt.value, list)
        else _coerce(column, flt.value)
    )
    if flt.op is Op.EQ:
        return column.is_(None) if value in (None, "null") else column == value
    if flt.op is Op.NEQ:
        return column.is_not(None) if value in (None, "null") else column != value
    if flt.op is Op.GT:
        return column > value
    if flt.op is Op.GTE:
        return column >= value
    if flt.op is Op.LT:
        return column < value
    if flt.op is Op.LTE:
        return column <= value
    if flt.op is Op.IN:
        return column.in_(value)
    return column.not_in(value)


def check_sort(sort_keys: Sequence[str], sort_dirs: Sequence[str]) -> None:
    """Directions are 'asc' or 'desc', at most one per key (as Mistral checks them)."""
    if len(sort_dirs) > len(sort_keys):
        raise InvalidInput(
            "Length of sort_keys must be equal or greater than sort_dirs: give a sort "
            f"key for each direction (keys: {', '.join(sort_keys) or 'none'}; a key given "
            "twice counts once)"
        )
    for direction in sort_dirs:
        if direction not in ("asc", "desc"):
            raise InvalidInput("Unknown sort direction, must be 'desc' or 'asc'.")
