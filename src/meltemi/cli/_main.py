"""The ``meltemi`` command group and its entry point.

Errors become one line and a hint (:mod:`meltemi.cli._errors`), never a traceback,
unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import traceback
from typing import Any, Final

import click

from meltemi import __version__
from meltemi.cli._actions import run_action
from meltemi.cli._client import ApiError
from meltemi.cli._completion import completion_command
from meltemi.cli._cron import cron_group
from meltemi.cli._definitions import action_group, workbook_group, workflow_group
from meltemi.cli._environments import env_group
from meltemi.cli._errors import EXIT_FAILED, CliError, from_api_error
from meltemi.cli._executions import execution_group
from meltemi.cli._session import DEBUG, debug_option, output_option, url_option
from meltemi.cli._tasks import task_group

#: Commands that work on a local database or files, imported only when used: they load
#: the engine, which the commands that talk to a server do not need.
LOCAL_COMMANDS: Final = {
    "validate": ("meltemi.cli._validate", "validate_command"),
    "graph": ("meltemi.cli._validate", "graph_command"),
    "run": ("meltemi.cli._run", "run_command"),
    "server": ("meltemi.cli._server", "server_command"),
}


class MeltemiGroup(click.Group):
    """Runs a command and turns its errors into messages people can act on."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LOCAL_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in LOCAL_COMMANDS and cmd_name not in self.commands:
            module, name = LOCAL_COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), name)
            if isinstance(command, click.Command):
                self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ApiError as e:
            if ctx.meta.get(DEBUG):
                traceback.print_exc()
            raise from_api_error(e) from e
        except CliError:
            if ctx.meta.get(DEBUG):
                traceback.print_exc()
            raise
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as e:  # anything else is a bug: say so briefly, unless debugging
            if ctx.meta.get(DEBUG):
                raise
            raise CliError(
                f"unexpected {type(e).__name__}: {e}",
                hint="run it again with --debug to see the traceback, and report it",
                code=EXIT_FAILED,
            ) from e


@click.group(cls=MeltemiGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="meltemi")
@url_option(envvar="MELTEMI_URL")
@output_option()
@debug_option()
def cli() -> None:
    """Meltemi runs Mistral DSL v2 workflows: fast, durable, with clear errors.

    \b
    Local:   meltemi run FILE | validate FILE | graph FILE | server
    Server:  meltemi workflow|workbook|action|execution|task|env|cron ...
             (--url or $MELTEMI_URL, default http://127.0.0.1:8989; -o json|yaml)
    """


for command in (
    workflow_group,
    workbook_group,
    action_group,
    execution_group,
    task_group,
    env_group,
    cron_group,
    completion_command,
):
    cli.add_command(command)

action_group.add_command(run_action)

__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="meltemi")
