"""``meltemi run``: run a workflow from a file, in-process, to its end."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import click

from meltemi.cli._explain import render as render_explanation
from meltemi.cli._output import console
from meltemi.engine import State, WorkflowInputError
from meltemi.lang import DefinitionError, DocumentKind, parse, render_diagnostics
from meltemi.persistence.db import Database, sqlite_url
from meltemi.persistence.errors import DatabaseError
from meltemi.services.errors import ServiceError
from meltemi.services.executions import Executions
from meltemi.services.explain import explain
from meltemi.services.runtime import Runtime

EXIT_ERROR = 1
EXIT_BAD_INPUT = 2


def _json_arg(value: str | None, what: str) -> dict[str, Any]:
    """A JSON object given inline or as @file."""
    if not value:
        return {}
    text = value
    if value.startswith("@"):
        try:
            text = Path(value[1:]).read_text()
        except OSError as e:
            raise click.UsageError(f"cannot read {what} file {value[1:]}: {e.strerror}") from e
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise click.UsageError(
            f"{what} is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from e
    if not isinstance(data, dict):
        raise click.UsageError(f"{what} must be a JSON object, not {type(data).__name__}")
    return data


def _fail(message: str, code: int) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@click.command("run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workflow", "-w", help="Workflow to run (a name, or book.name in a workbook).")
@click.option("--input", "-i", "input_", help="Input as JSON, or @file.json.")
@click.option("--env", "-e", help="Environment as JSON, or @file.json.")
@click.option("--task", "-t", "task_name", help="Target task (reverse workflows).")
@click.option("--db", help="Database URL to keep the run in (default: a temporary one).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object with the result.")
@click.option("--timeout", type=float, default=None, help="Give up after this many seconds.")
def run_command(
    file: Path,
    workflow: str | None,
    input_: str | None,
    env: str | None,
    task_name: str | None,
    db: str | None,
    as_json: bool,
    timeout: float | None,
) -> None:
    """Run a workflow from FILE to its end and print its output.

    Exits 0 on SUCCESS, 1 on ERROR (printing why: the chain of failed tasks down to
    the action that failed first, as 'meltemi execution explain' does), 2 on bad input.
    """
    workflow_input = _json_arg(input_, "--input")
    params: dict[str, Any] = {"env": _json_arg(env, "--env")}
    if task_name:
        params["task_name"] = task_name
    text = file.read_bytes()
    result = parse(text, str(file))
    if not result.is_valid() or result.document is None:
        click.echo(render_diagnostics(result.errors, result.source), err=True)
        sys.exit(EXIT_BAD_INPUT)
    document = result.document
    names = [
        f"{document.name}.{w.name}" if document.kind is DocumentKind.WORKBOOK else w.name
        for w in document.workflows
    ]
    if not names:
        _fail(f"{file} defines no workflow to run", EXIT_BAD_INPUT)
    chosen = workflow or names[0]
    if chosen not in names and document.kind is DocumentKind.WORKBOOK:
        chosen = f"{document.name}.{chosen}"
    if chosen not in names:
        _fail(f"no workflow '{workflow}' in {file}; it has: {', '.join(names)}", EXIT_BAD_INPUT)

    with tempfile.TemporaryDirectory(prefix="meltemi-run-") as tmp:
        url = db or sqlite_url(Path(tmp) / "run.db")
        code = _run(
            url,
            text.decode("utf-8-sig"),
            document.kind,
            chosen,
            workflow_input,
            params,
            as_json,
            timeout,
            str(file),
        )
    sys.exit(code)


def _run(
    url: str,
    text: str,
    kind: DocumentKind,
    workflow: str,
    workflow_input: dict[str, Any],
    params: dict[str, Any],
    as_json: bool,
    timeout: float | None,
    file: str,
) -> int:
    runtime = Runtime(Database(url))
    try:
        runtime.start()
    except DatabaseError as e:
        _fail(str(e), EXIT_BAD_INPUT)
    try:
        _register(runtime, text, kind, file)
        execution = Executions(runtime).start(workflow, input=workflow_input, params=params)
        final = runtime.wait(execution.id, timeout)
        report = _report(runtime, final.id)
        if report["state"] != State.SUCCESS:
            report["explanation"] = explain(
                runtime.db, runtime.definitions, final.id, source_file=file
            )
    except (WorkflowInputError, DefinitionError, ServiceError) as e:
        _fail(str(e), EXIT_BAD_INPUT)
        return EXIT_BAD_INPUT
    finally:
        runtime.stop(grace=0)
    _print(report, as_json)
    if report["state"] == State.SUCCESS:
        return 0
    return EXIT_ERROR


def _register(runtime: Runtime, text: str, kind: DocumentKind, file: str) -> None:
    definitions = runtime.definitions
    if kind is DocumentKind.WORKBOOK:
        try:
            definitions.create_workbook(text)
        except ServiceError:
            definitions.create_workbook(text, update=True)
        return
    try:
        definitions.create_workflows(text, file=file)
    except ServiceError:
        definitions.update_workflows(text)


def _report(runtime: Runtime, execution_id: str) -> dict[str, Any]:
    from meltemi.services.queries import execution_report

    return execution_report(runtime.db, execution_id)


def _print(report: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report, indent=2, default=str))
        return
    state = report["state"]
    if state == State.SUCCESS:
        click.echo(json.dumps(report["output"], indent=2, default=str))
        return
    click.echo(f"{report['workflow_name']} {report['id']} ended in {state}", err=True)
    explanation = report.get("explanation")
    if explanation is not None:
        console(stderr=True).print(render_explanation(explanation))
    elif report["state_info"]:
        click.echo(str(report["state_info"]), err=True)
