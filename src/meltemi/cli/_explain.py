"""Showing a failure analysis (:func:`meltemi.services.explain.explain`) to people.

Used by ``meltemi execution explain`` (from the API's JSON) and ``meltemi run`` (from
the local database); both get the same data and print the same text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from meltemi.cli import _output as out


def render(explanation: Mapping[str, Any]) -> RenderableType:
    """The chain of failures, the root first, ending at what failed first."""
    header = Text()
    header.append(f"{explanation['workflow_name']} ", style="bold")
    header.append(out.short(explanation["execution_id"]))
    header.append(" is ")
    header.append_text(out.state(explanation["state"]))
    summary = Padding(Text(str(explanation["summary"])), (0, 0, 0, 2), expand=False)
    parts: list[RenderableType] = [header, summary]
    chain = explanation.get("chain") or []
    if explanation["state"] != "ERROR" and not any(level.get("task") for level in chain):
        return Group(*parts)
    for number, level in enumerate(chain, 1):
        parts.append(Text(""))
        parts.append(_level_header(number, level))
        parts.append(_indented(out.details(_level_rows(level))))
    return Group(*parts)


def _level_header(number: int, level: Mapping[str, Any]) -> Text:
    text = Text(f"{number}. workflow ", style="bold")
    text.append(str(level["workflow_name"]), style="bold")
    text.append(f"  execution {out.short(level['execution_id'])}  ")
    text.append_text(out.state(level["state"]))
    return text


def _indented(renderable: RenderableType) -> RenderableType:
    return Padding(renderable, (0, 0, 0, 3), expand=False)


def _level_rows(level: Mapping[str, Any]) -> list[tuple[str, RenderableType | str | None]]:
    rows: list[tuple[str, RenderableType | str | None]] = []
    task = level.get("task")
    if task is None:
        rows.append(("error", _error(level.get("error")) or "no failed task was recorded"))
        return rows
    line = Text(str(task["name"]), style="bold")
    line.append("  ")
    line.append_text(out.state(task["state"]))
    location = level.get("location")
    if location:
        line.append(f"  at {location_text(location)}", style="dim")
    rows.append(("task", line))
    item = level.get("item")
    if item is not None:
        rows.append(("item", _item(item)))
    run = level.get("run")
    if run is not None:
        kind = "action" if run["kind"] == "action" else "sub-workflow"
        rows.append((kind, f"{run['name']}  input {out.compact(run.get('input') or {}, 300)}"))
        if run.get("attempts", 1) > 1:
            rows.append(("attempts", str(run["attempts"])))
    rows.append(("error", _error(level.get("error"))))
    handlers = level.get("handlers")
    if handlers is not None:
        rows.append(("handlers", handlers_text(handlers)))
    caught = level.get("caught") or []
    if caught:
        rows.append(
            (
                "caught",
                "; ".join(
                    f"{c['task']} by on-error -> {', '.join(c['handled_by']) or '?'}"
                    for c in caught
                ),
            )
        )
    others = level.get("other_failed_tasks") or []
    if others:
        rows.append(("also failed", ", ".join(others)))
    return rows


def location_text(location: Mapping[str, Any]) -> str:
    where = str(location.get("file") or "?")
    line = location.get("line")
    if where.startswith(("workflow ", "workbook ")):
        text = f"{where}, line {line}"
    else:
        text = f"{where}:{line}"
    if location.get("note"):
        text += " (the definition changed since)"
    return text


def _item(item: Mapping[str, Any]) -> str:
    failed = item.get("failed") or []
    count = item.get("count", 0)
    if item.get("index") is None:
        return f"{count} items, none failed"
    shown = ", ".join(str(i) for i in failed[:10]) + (" ..." if len(failed) > 10 else "")
    return (
        f"item {item['index']} of {count} failed first "
        f"({len(failed)} failed: {shown}; {item.get('succeeded', 0)} succeeded)"
    )


def _error(error: Any) -> str:
    if error is None:
        return "-"
    return error if isinstance(error, str) else out.compact(error, 1000)


def handlers_text(handlers: Mapping[str, Any]) -> str:
    """What could have caught the error, and what it did."""
    parts = []
    on_error = handlers.get("on_error") or []
    if not on_error:
        parts.append("no on-error handler")
    elif handlers.get("on_error_fired"):
        ran = handlers.get("on_error_targets_run") or on_error
        parts.append(f"on-error -> {', '.join(ran)} fired")
    else:
        parts.append(f"on-error -> {', '.join(on_error)} did not fire (conditions false)")
    on_complete = handlers.get("on_complete") or []
    if on_complete:
        parts.append(f"on-complete -> {', '.join(on_complete)} (runs, but handles no error)")
    retry = handlers.get("retry")
    if retry is None:
        parts.append("no retry")
    else:
        text = f"retry: {retry['used']} of {retry['count']} retries used (delay {retry['delay']}s)"
        if retry.get("break_on"):
            text += f", break-on {retry['break_on']}"
        parts.append(text)
    return "; ".join(parts)
