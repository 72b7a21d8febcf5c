"""``meltemi action run NAME --input JSON``: run one action on the server."""

from __future__ import annotations

import time

import click

from meltemi.cli import _output as out
from meltemi.cli._client import JsonObject
from meltemi.cli._errors import EXIT_FAILED
from meltemi.cli._inputs import json_object
from meltemi.cli._session import Session, pass_session

POLL_INTERVAL = 0.2


@click.command("run")
@click.argument("name")
@click.option("--input", "-i", "input_", help="The action's input: JSON, or @file.json.")
@click.option(
    "--save-result",
    "-s",
    is_flag=True,
    help="Keep the action execution on the server (run by its executor).",
)
@click.option(
    "--timeout",
    type=float,
    default=60.0,
    show_default=True,
    help="With --save-result: seconds to wait for the result (0: do not wait).",
)
@pass_session
def run_action(
    session: Session, name: str, input_: str | None, save_result: bool, timeout: float
) -> None:
    """Run the action NAME and print its result (exit 1 when it fails).

    \b
    meltemi action run std.echo --input '{"output": "hi"}'
    """
    client = session.client()
    action_input = json_object(input_, "--input")
    run = client.run_action(name, action_input, save_result=save_result, run_sync=False)
    run_id = run.get("id")
    deadline = time.monotonic() + timeout
    while run.get("state") == "RUNNING" and run_id and time.monotonic() < deadline:
        time.sleep(POLL_INTERVAL)
        run = client.action_execution(str(run_id))
    _show(session, run)
    if run.get("state") in ("ERROR", "CANCELLED"):
        raise click.exceptions.Exit(EXIT_FAILED)


def _show(session: Session, run: JsonObject) -> None:
    if session.machine:
        out.machine(session, run)
        return
    output = run.get("output")
    result = output.get("result") if isinstance(output, dict) else output
    state = run.get("state")
    if state == "SUCCESS":
        click.echo(out.json_text(result))
    elif state == "RUNNING":
        out.console().print(
            f"action execution {run.get('id')} is RUNNING; "
            "its result comes later (an asynchronous action, or a slow one)"
        )
    else:
        click.echo(f"error: {run.get('name')} ended in {state}: {out.compact(result)}", err=True)
