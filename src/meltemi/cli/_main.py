"""The ``meltemi`` command group and its entry point."""

from __future__ import annotations

import click

from meltemi import __version__
from meltemi.cli._run import run_command
from meltemi.cli._server import server_command
from meltemi.cli._validate import graph_command, validate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="meltemi")
def cli() -> None:
    """Meltemi runs Mistral DSL v2 workflows: fast, durable, with clear errors."""


cli.add_command(validate_command)
cli.add_command(graph_command)
cli.add_command(run_command)
cli.add_command(server_command)


def main() -> None:
    cli(prog_name="meltemi")
