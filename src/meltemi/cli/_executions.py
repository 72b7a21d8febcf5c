"""``meltemi execution ...``: start, list, inspect, control, watch and explain executions.

An execution is named by its id, a unique id prefix, or a workflow name (then its
latest execution); a task by its name in the execution, or its id.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Group, RenderableType
from rich.text import Text

from meltemi.cli import _explain
from meltemi.cli import _output as out
from meltemi.cli._client import JsonObject
from meltemi.cli._errors import EXIT_FAILED, CliError
from meltemi.cli._inputs import json_object
from meltemi.cli._resolve import find_execution, find_task, find_workflow
from meltemi.cli._session import Session, pass_session
from meltemi.cli._watch import watch_execution


@click.group("execution")
def execution_group() -> None:
    """Start, follow and explain workflow executions."""


def _info(item: JsonObject) -> str:
    info = item.get("state_info") or item.get("description") or ""
    return out.compact(str(info).strip().splitlines()[0] if str(info).strip() else "-", 120)


def _running(item: JsonObject) -> bool:
    return item.get("state") not in out.FINISHED


EXECUTION_COLUMNS: list[out.Column] = [
    ("ID", lambda i: out.short(i.get("id"))),
    ("WORKFLOW", lambda i: str(i.get("workflow_name"))),
    ("STATE", lambda i: out.state(i.get("state"))),
    ("STARTED", lambda i: out.ago(i.get("created_at"))),
    (
        "DURATION",
        lambda i: out.elapsed(i.get("created_at"), i.get("updated_at"), running=_running(i)),
    ),
    ("INFO", _info),
]
TASK_COLUMNS: list[out.Column] = [
    ("ID", lambda t: out.short(t.get("id"))),
    ("TASK", lambda t: str(t.get("name"))),
    ("STATE", lambda t: out.state(t.get("state"))),
    ("STARTED", lambda t: out.ago(t.get("started_at") or t.get("created_at"))),
    (
        "DURATION",
        lambda t: out.elapsed(
            t.get("started_at") or t.get("created_at"), t.get("finished_at"), running=_running(t)
        ),
    ),
    ("INFO", _info),
]


@execution_group.command("list")
@click.option("--workflow", "-w", help="Only executions of this workflow.")
@click.option("--state", "-s", help="Only executions in this state (RUNNING, ERROR, ...).")
@click.option("--all", "all_", is_flag=True, help="Sub-workflow executions too.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@pass_session
def list_executions(
    session: Session, workflow: str | None, state: str | None, all_: bool, limit: int
) -> None:
    """List executions, the newest first."""
    filters: dict[str, Any] = {"workflow_name": workflow, "state": state and state.upper()}
    if not all_:
        filters["nulls"] = "root_execution_id"
    items = session.client().executions(filters, limit=limit, sort="created_at", desc=True)
    out.listing(session, items, EXECUTION_COLUMNS, empty="no executions")


@execution_group.command("get")
@click.argument("execution")
@pass_session
def get_execution(session: Session, execution: str) -> None:
    """Show an execution and its tasks."""
    client = session.client()
    item = find_execution(client, execution)
    tasks = client.execution_tasks(str(item["id"]))
    out.show(session, {**item, "tasks": tasks}, lambda: _details(item, tasks))


def _details(item: JsonObject, tasks: list[JsonObject]) -> RenderableType:
    running = _running(item)
    pairs: list[tuple[str, RenderableType | str | None]] = [
        ("id", item.get("id")),
        ("workflow", item.get("workflow_name")),
        ("state", out.state(item.get("state"))),
        ("started", f"{item.get('created_at')} ({out.ago(item.get('created_at'))})"),
        ("duration", out.elapsed(item.get("created_at"), item.get("updated_at"), running=running)),
        ("input", out.compact(item.get("input") or {}, 500)),
    ]
    if item.get("description"):
        pairs.append(("description", str(item["description"])))
    if item.get("root_execution_id"):
        pairs.append(("root", str(item["root_execution_id"])))
    if item.get("state_info"):
        pairs.append(("info", str(item["state_info"])))
    if item.get("state") == "SUCCESS":
        pairs.append(("output", out.compact(item.get("output"), 500)))
    grid = out.table(*(name for name, _cell in TASK_COLUMNS), title="tasks")
    for task in tasks:
        grid.add_row(*(cell(task) for _name, cell in TASK_COLUMNS))
    return Group(out.details(pairs), grid if tasks else Text("no tasks", style="dim"))


@execution_group.command("start")
@click.argument("workflow")
@click.option("--input", "-i", "input_", help="The workflow's input: JSON, or @file.json.")
@click.option("--env", "-e", help="The env: JSON, @file.json, or the name of an environment.")
@click.option("--task", "-t", "task_name", help="The target task of a reverse workflow.")
@click.option("--description", "-d", default="", help="Why this execution runs.")
@click.option("--namespace", "-n", default="", help="The workflow's namespace.")
@click.option("--watch", "-W", "watch", is_flag=True, help="Follow it live until it ends.")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Watch poll time.")
@pass_session
def start_execution(
    session: Session,
    workflow: str,
    input_: str | None,
    env: str | None,
    task_name: str | None,
    description: str,
    namespace: str,
    watch: bool,
    interval: float,
) -> None:
    """Start the workflow WORKFLOW (a name, id or id prefix).

    \b
    meltemi execution start greet --input '{"name": "Ann"}' --watch
    """
    params: dict[str, Any] = {}
    if env:
        is_json = env.lstrip().startswith("{") or env.startswith("@")
        params["env"] = json_object(env, "--env") if is_json else env
    if task_name:
        params["task_name"] = task_name
    workflow_input = json_object(input_, "--input")
    client = session.client()
    found = find_workflow(client, workflow, namespace)
    started = client.start_execution(
        str(found["name"]),
        workflow_input=workflow_input,
        params=params,
        namespace=namespace,
        description=description,
    )
    if watch:
        _exit_with(watch_execution(session, str(started["id"]), interval=interval))
        return
    out.done(
        session,
        f"started {started['workflow_name']} execution {started['id']} ({started['state']})\n"
        f"  follow it with: meltemi execution watch {out.short(started['id'])}",
        started,
    )


@execution_group.command("watch")
@click.argument("execution")
@click.option("--interval", type=float, default=0.5, show_default=True, help="Poll time (s).")
@pass_session
def watch(session: Session, execution: str, interval: float) -> None:
    """Follow an execution live: its tasks, items and sub-workflows as a tree.

    Ends when the execution ends; exits 1 when it ends in ERROR or CANCELLED.
    """
    found = find_execution(session.client(), execution)
    _exit_with(watch_execution(session, str(found["id"]), interval=interval))


def _exit_with(final_state: str) -> None:
    if final_state in ("ERROR", "CANCELLED"):
        raise click.exceptions.Exit(EXIT_FAILED)


def _set_state(session: Session, execution: str, state: str, verb: str) -> None:
    client = session.client()
    found = find_execution(client, execution)
    updated = client.set_execution_state(str(found["id"]), state)
    out.done(session, f"{verb} execution {updated['id']}: now {updated['state']}", updated)


@execution_group.command("pause")
@click.argument("execution")
@pass_session
def pause(session: Session, execution: str) -> None:
    """Pause a running execution (running actions finish; nothing new starts)."""
    _set_state(session, execution, "PAUSED", "paused")


@execution_group.command("resume")
@click.argument("execution")
@pass_session
def resume(session: Session, execution: str) -> None:
    """Resume a paused execution."""
    _set_state(session, execution, "RUNNING", "resumed")


@execution_group.command("cancel")
@click.argument("execution")
@pass_session
def cancel(session: Session, execution: str) -> None:
    """Cancel an execution (and its sub-workflows)."""
    _set_state(session, execution, "CANCELLED", "cancelled")


@execution_group.command("rerun")
@click.argument("execution")
@click.argument("task")
@click.option(
    "--resume",
    "resume_items",
    is_flag=True,
    help="With-items: run only the failed items again (default: all of them).",
)
@click.option("--env", "-e", help="Env changes for the rerun: JSON or @file.json.")
@pass_session
def rerun(session: Session, execution: str, task: str, resume_items: bool, env: str | None) -> None:
    """Run the failed task TASK (a name or id) of an execution again."""
    client = session.client()
    found = find_task(client, task, execution)
    if found.get("state") != "ERROR":
        raise CliError(
            f"task {found['name']} is {found.get('state')}; only a task in ERROR can rerun",
            hint="see the tasks with 'meltemi execution get " + execution + "'",
        )
    updated = client.rerun_task(
        str(found["id"]), reset=not resume_items, env=json_object(env, "--env") or None
    )
    out.done(session, f"rerunning task {updated['name']} ({updated['id']})", updated)


@execution_group.command("output")
@click.argument("execution")
@pass_session
def output(session: Session, execution: str) -> None:
    """Print an execution's output (JSON)."""
    found = find_execution(session.client(), execution)
    if session.machine:
        out.machine(session, found.get("output"))
    else:
        click.echo(out.json_text(found.get("output")))
    if found.get("state") != "SUCCESS":
        click.echo(f"note: the execution is {found.get('state')}", err=True)


@execution_group.command("delete")
@click.argument("executions", nargs=-1, required=True)
@click.option("--force", is_flag=True, help="Delete running executions too.")
@pass_session
def delete(session: Session, executions: tuple[str, ...], force: bool) -> None:
    """Delete finished executions (with their tasks and sub-workflows)."""
    client = session.client()
    for given in executions:
        found = find_execution(client, given)
        client.delete_execution(str(found["id"]), force=force)
        out.done(session, f"deleted execution {found['id']}", {"deleted": found["id"]})


@execution_group.command("explain")
@click.argument("execution")
@pass_session
def explain(session: Session, execution: str) -> None:
    """Why did it fail? Follows the error down to the task and action that failed first:
    sub-workflows, with-items items, definition lines, inputs (secrets masked), errors,
    and the handlers (on-error, retry) that did or did not catch it."""
    client = session.client()
    found = find_execution(client, execution)
    explanation = client.explain(str(found["id"]))
    out.show(session, explanation, lambda: _explain.render(explanation))
