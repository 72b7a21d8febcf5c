"""Showing things to people and programs: tables, states in colour, relative times,
JSON and YAML.

Colour follows the terminal: rich's Console leaves it out when the output is not a
terminal, and when ``NO_COLOR`` is set (``FORCE_COLOR`` forces it). Tables take the
terminal's width and wrap long cells (80 columns when the output is not a terminal,
or ``$COLUMNS``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final

import click
import yaml
from rich import box
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text

from meltemi.cli._session import Session

STATE_STYLES: Final = {
    "SUCCESS": "green",
    "ERROR": "bold red",
    "RUNNING": "cyan",
    "DELAYED": "cyan",
    "PAUSED": "yellow",
    "CANCELLED": "magenta",
    "WAITING": "dim",
    "IDLE": "dim",
    "SKIPPED": "dim",
}
FINISHED: Final = frozenset({"SUCCESS", "ERROR", "CANCELLED"})


#: The width when the output is not a terminal and $COLUMNS does not say.
PIPE_WIDTH: Final = 120


def console(*, stderr: bool = False) -> Console:
    made = Console(stderr=stderr, highlight=False, emoji=False)
    if not made.is_terminal and not os.environ.get("COLUMNS"):
        made.width = PIPE_WIDTH
    return made


def state(value: str | None) -> Text:
    text = value or "-"
    return Text(text, style=STATE_STYLES.get(text, ""))


def parse_time(value: str | None) -> datetime | None:
    """A time as the API writes it (``2024-05-01 10:00:00``, UTC) or in ISO form."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def now() -> datetime:
    return datetime.now(UTC)


def ago(value: str | None, *, at: datetime | None = None) -> str:
    """``just now``, ``42 s ago``, ``3 min ago``, ``5 h ago``, ``2 days ago``, or the date."""
    moment = parse_time(value)
    if moment is None:
        return "-"
    seconds = ((at or now()) - moment).total_seconds()
    if seconds < 0:
        return "in " + duration(-seconds)
    if seconds < 5:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    if seconds < 7 * 86400:
        days = int(seconds // 86400)
        return f"{days} day{'s' if days > 1 else ''} ago"
    return moment.strftime("%Y-%m-%d")


def duration(seconds: float | None) -> str:
    """``0s``, ``12s``, ``3m 05s``, ``2h 10m`` (the API's times are whole seconds)."""
    if seconds is None:
        return "-"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m {whole % 60:02d}s"
    return f"{whole // 3600}h {whole % 3600 // 60:02d}m"


def elapsed(start: str | None, end: str | None, *, running: bool) -> str:
    """How long something took (or has been running)."""
    begun = parse_time(start)
    if begun is None:
        return "-"
    ended = parse_time(end) if not running else now()
    if ended is None:
        return "-"
    return duration(max((ended - begun).total_seconds(), 0.0))


def short(identifier: str | None) -> str:
    """The first 8 characters of an id (any unique prefix is accepted back)."""
    return (identifier or "-")[:8]


#: Columns whose values are short and read badly when broken (ids, states, times): they
#: keep their width, and the others (names, info, input) wrap to fit the terminal.
UNBROKEN: Final = frozenset(
    {"ID", "STATE", "STARTED", "DURATION", "CREATED", "UPDATED", "SCOPE", "REMAINING"}
)


def table(*columns: str, title: str | None = None) -> Table:
    """A table that wraps its cells to the width of the terminal."""
    grid = Table(
        box=box.SIMPLE_HEAD, title=title, title_justify="left", pad_edge=False, show_edge=False
    )
    for name in columns:
        if name in UNBROKEN:
            grid.add_column(name, no_wrap=True, min_width=len(name))
        else:
            grid.add_column(name, overflow="fold", min_width=len(name))
    return grid


def details(pairs: Iterable[tuple[str, RenderableType | str | None]]) -> Table:
    """A ``key  value`` table for one thing."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for key, value in pairs:
        grid.add_row(key, value if value is not None else "-")
    return grid


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


def compact(value: Any, limit: int = 200) -> str:
    """A value on one line (JSON), cut at ``limit`` characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def machine(session: Session, data: Any) -> None:
    """Prints data as JSON or YAML (``-o``)."""
    if session.output == "yaml":
        click.echo(yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True), nl=False)
    else:
        click.echo(json_text(data))


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def show(session: Session, data: Any, render: Callable[[], RenderableType | None]) -> None:
    """JSON or YAML of ``data`` with ``-o``; else what ``render`` builds, for people."""
    if session.machine:
        machine(session, data)
        return
    shown = render()
    if shown is not None:
        console().print(shown)


Item = dict[str, Any]
Column = tuple[str, Callable[[Item], RenderableType]]


def listing(
    session: Session,
    items: Sequence[Item],
    columns: Sequence[Column],
    *,
    empty: str,
) -> None:
    """A list: one row per item with the given columns, or JSON/YAML of the items."""

    def render() -> RenderableType:
        if not items:
            return Text(empty, style="dim")
        grid = table(*(name for name, _cell in columns))
        for item in items:
            grid.add_row(*(cell(item) for _name, cell in columns))
        return grid

    show(session, list(items), render)


def done(session: Session, message: str, data: Any = None) -> None:
    """Confirms what a command did: a line for people, ``data`` for programs."""
    if session.machine:
        machine(session, data if data is not None else {"result": message})
    else:
        console().print(message)
