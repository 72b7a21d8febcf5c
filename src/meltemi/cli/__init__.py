"""The ``meltemi`` command line."""

from meltemi.cli._main import cli, main

__all__ = ["cli", "main"]
