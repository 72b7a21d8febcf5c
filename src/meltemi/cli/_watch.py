"""``meltemi execution watch``: an execution, live, as a tree.

Every ``interval`` seconds the execution's report (``GET /v2/executions/{id}/report``:
the tree of tasks, action executions and sub-workflow executions) and the tasks of the
workflows still running (their with-items counts and retries) are read, and the tree
is drawn again: tasks with their state and duration, with-items tasks as progress bars
(done/total, running, failed), sub-workflows as subtrees. Finished workflows' tasks
are read once. On a terminal the tree is redrawn in place (rich Live); otherwise only
the final tree is printed. At the end come the final state and the output, or the
explanation of the failure.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import click
from rich.console import Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

from meltemi.cli import _explain
from meltemi.cli import _output as out
from meltemi.cli._client import Client, JsonObject
from meltemi.cli._session import Session

#: Sub-workflows of a with-items task shown as subtrees (running and failed first).
SHOWN_ITEMS: Final = 6
EXIT_INTERRUPTED: Final = 130
BAR_WIDTH: Final = 24


@dataclass
class Tracker:
    """What is known of one execution tree, refreshed by :meth:`poll`."""

    client: Client
    execution_id: str
    report: JsonObject = field(default_factory=dict)
    tasks: dict[str, JsonObject] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)

    def poll(self) -> JsonObject:
        """Reads the tree again; returns the root workflow execution of the report."""
        self.report = self.client.report(self.execution_id)["root_workflow_execution"]
        workflows = list(_workflows(self.report))
        unsettled = [wf["id"] for wf in workflows if wf["id"] not in self.settled]
        for task in self.client.tasks_of(unsettled):
            self.tasks[str(task["id"])] = task
        # Tasks read after their workflow finished do not change any more.
        self.settled.update(wf["id"] for wf in workflows if wf["state"] in out.FINISHED)
        return self.report

    @property
    def finished(self) -> bool:
        return bool(self.report) and self.report["state"] in out.FINISHED


def _workflows(wf: JsonObject) -> Iterable[JsonObject]:
    yield wf
    for task in wf.get("task_executions") or ():
        for child in task.get("workflow_executions") or ():
            yield from _workflows(child)


def watch_execution(session: Session, execution_id: str, *, interval: float = 0.5) -> str:
    """Follows an execution to its end; returns its final state."""
    client = session.client()
    tracker = Tracker(client, execution_id)
    console = out.console()
    try:
        tracker.poll()
        if session.machine or not console.is_terminal:
            while not tracker.finished:
                time.sleep(interval)
                tracker.poll()
        else:
            with Live(render(tracker), console=console, auto_refresh=False) as live:
                while not tracker.finished:
                    time.sleep(interval)
                    tracker.poll()
                    live.update(render(tracker), refresh=True)
    except KeyboardInterrupt:
        click.echo(
            f"\nstopped watching; execution {execution_id} goes on "
            f"(meltemi execution watch {out.short(execution_id)})",
            err=True,
        )
        raise click.exceptions.Exit(EXIT_INTERRUPTED) from None
    final = client.execution(execution_id)
    if session.machine:
        out.machine(session, final)
        return str(final["state"])
    if not console.is_terminal:
        console.print(render(tracker))
    console.print(_ending(client, final))
    return str(final["state"])


def _ending(client: Client, final: JsonObject) -> RenderableType:
    state = str(final["state"])
    line = Text(f"{final['workflow_name']} {out.short(final['id'])} ended in ")
    line.append_text(out.state(state))
    line.append(
        " after " + out.elapsed(final.get("created_at"), final.get("updated_at"), running=False)
    )
    if state == "SUCCESS":
        return Group(line, Text("output:"), Text(out.json_text(final.get("output"))))
    if state == "ERROR":
        return Group(line, Text(""), _explain.render(client.explain(str(final["id"]))))
    return Group(line, Text(str(final.get("state_info") or "")))


# -- drawing ----------------------------------------------------------------------------


def render(tracker: Tracker) -> RenderableType:
    if not tracker.report:
        return Text("waiting for the execution...")
    return _workflow_tree(tracker, tracker.report, None)


def _workflow_tree(tracker: Tracker, wf: JsonObject, parent: Tree | None) -> Tree:
    label = Text()
    label.append(str(wf["name"]), style="bold")
    label.append("  ")
    label.append_text(out.state(wf["state"]))
    running = wf["state"] not in out.FINISHED
    label.append(f"  {out.elapsed(wf.get('created_at'), wf.get('updated_at'), running=running)}")
    label.append(f"  {out.short(wf['id'])}", style="dim")
    node = parent.add(label) if parent is not None else Tree(label)
    for task in wf.get("task_executions") or ():
        _task_node(tracker, task, node)
    return node


def _task_node(tracker: Tracker, task: JsonObject, parent: Tree) -> None:
    info = tracker.tasks.get(str(task["id"]), {})
    context = info.get("runtime_context") if isinstance(info.get("runtime_context"), dict) else {}
    state = str(info.get("state") or task["state"])
    running = state not in out.FINISHED and state != "SKIPPED"
    start = info.get("started_at") or task.get("created_at")
    end = info.get("finished_at") or task.get("updated_at")
    row = Table.grid(padding=(0, 2))
    cells: list[RenderableType] = [Text(str(task["name"])), out.state(state)]
    items = (context or {}).get("with_items")
    children = task.get("workflow_executions") or []
    if items is not None:
        counts = _item_counts(task, int(items.get("count", 0)))
        cells.append(ProgressBar(total=max(counts.total, 1), completed=counts.done))
        cells.append(Text(counts.text()))
    cells.append(Text(out.elapsed(start, end, running=running), style="dim"))
    retry = (context or {}).get("retry_task_policy")
    if retry:
        cells.append(Text(f"retry {retry.get('retry_no')}", style="yellow"))
    for cell in cells:
        if isinstance(cell, ProgressBar):  # the bar shrinks first on a narrow terminal
            row.add_column(min_width=4, max_width=BAR_WIDTH)
        else:
            row.add_column(no_wrap=True)
    if state == "ERROR" and task.get("state_info"):
        # The error wraps rather than pushing the counts and times out of the screen.
        cells.append(Text(out.compact(str(task["state_info"]).splitlines()[0], 80), style="red"))
        row.add_column(overflow="fold", min_width=12)
    row.add_row(*cells)
    node = parent.add(row)
    if items is None:
        for child in children:
            _workflow_tree(tracker, child, node)
        return
    _item_subtrees(tracker, children, node)


def _item_subtrees(tracker: Tracker, children: list[JsonObject], node: Tree) -> None:
    """A with-items task's sub-workflows: the running and failed ones, then a count."""
    order = {"RUNNING": 0, "ERROR": 1, "PAUSED": 2}
    interesting = sorted(
        (c for c in children if c["state"] in order), key=lambda c: order[c["state"]]
    )
    shown = interesting[:SHOWN_ITEMS]
    for child in shown:
        _workflow_tree(tracker, child, node)
    hidden = len(children) - len(shown)
    if hidden > 0:
        more = f"... and {hidden} more" if shown else f"{hidden} sub-workflow executions"
        node.add(Text(more, style="dim"))


@dataclass(frozen=True, slots=True)
class ItemCounts:
    total: int
    done: int
    running: int
    failed: int

    def text(self) -> str:
        parts = [f"{self.done}/{self.total} done"]
        if self.running:
            parts.append(f"{self.running} running")
        if self.failed:
            parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def _item_counts(task: Mapping[str, Any], total: int) -> ItemCounts:
    runs = [r for r in task.get("action_executions") or () if r.get("accepted", True)]
    runs += list(task.get("workflow_executions") or ())
    states = [str(r.get("state")) for r in runs]
    done = sum(1 for s in states if s in out.FINISHED)
    return ItemCounts(
        total=total,
        done=min(done, total),
        running=sum(1 for s in states if s not in out.FINISHED),
        failed=sum(1 for s in states if s == "ERROR"),
    )
