"""The ``meltemi`` command group and its entry point.

Every command lives in its own module, imported only when that command runs (or when
shell completion asks for it): ``meltemi --help`` and ``meltemi validate`` do not load
the HTTP client, rich or the engine they do not need. :data:`COMMANDS` says where each
one is and what ``--help`` says of it.

Errors become one line and a hint (:mod:`meltemi.cli._errors`), never a traceback,
unless ``--debug`` is given.
"""

from __future__ import annotations

import importlib
import traceback
from dataclasses import dataclass
from typing import Any, Final

import click

from meltemi import __version__
from meltemi.cli._errors import EXIT_FAILED, ApiError, CliError, from_api_error
from meltemi.cli._session import DEBUG, debug_option, output_option, url_option


@dataclass(frozen=True, slots=True)
class LazyCommand:
    """Where a command is (module and attribute), and its one-line help."""

    module: str
    attribute: str
    summary: str


#: The commands, by name; ``summary`` is what ``meltemi --help`` lists (a test checks it
#: matches the command's own help).
COMMANDS: Final = {
    "action": LazyCommand(
        "meltemi.cli._definitions", "action_group", "Manage actions on a Meltemi server."
    ),
    "completion": LazyCommand(
        "meltemi.cli._completion", "completion_command", "Print the completion script of SHELL."
    ),
    "cron": LazyCommand(
        "meltemi.cli._cron", "cron_group", "Manage cron triggers: start a workflow on a schedule."
    ),
    "env": LazyCommand(
        "meltemi.cli._environments",
        "env_group",
        "Manage environments: named variables for executions.",
    ),
    "execution": LazyCommand(
        "meltemi.cli._executions",
        "execution_group",
        "Start, follow and explain workflow executions.",
    ),
    "graph": LazyCommand(
        "meltemi.cli._validate",
        "graph_command",
        "Print the task graph of a workflow as Mermaid or DOT text.",
    ),
    "run": LazyCommand(
        "meltemi.cli._run",
        "run_command",
        "Run a workflow from FILE to its end and print its output.",
    ),
    "server": LazyCommand(
        "meltemi.cli._server",
        "server_command",
        "Start Meltemi: REST API v2, engine, executor and scheduler in one process.",
    ),
    "task": LazyCommand("meltemi.cli._tasks", "task_group", "Look at task executions."),
    "validate": LazyCommand(
        "meltemi.cli._validate",
        "validate_command",
        "Check workflow documents (files or directories of .yaml files).",
    ),
    "workbook": LazyCommand(
        "meltemi.cli._definitions", "workbook_group", "Manage workbooks on a Meltemi server."
    ),
    "workflow": LazyCommand(
        "meltemi.cli._definitions", "workflow_group", "Manage workflows on a Meltemi server."
    ),
}


def load_command(name: str) -> click.Command:
    """Imports the command ``name`` of :data:`COMMANDS`."""
    where = COMMANDS[name]
    command = getattr(importlib.import_module(where.module), where.attribute)
    if not isinstance(command, click.Command):  # a wrong entry in COMMANDS
        raise TypeError(f"{where.module}.{where.attribute} is not a click command")
    return command


class MeltemiGroup(click.Group):
    """Loads its commands when used; turns their errors into messages people can act on."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            self.add_command(load_command(cmd_name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own would import every command to ask for its help line.
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            if loaded is not None:
                if loaded.hidden:
                    continue
                rows.append((name, loaded.get_short_help_str(limit)))
            else:
                rows.append((name, COMMANDS[name].summary))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

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


__all__ = ["cli", "main"]


def main() -> None:
    cli(prog_name="meltemi")
