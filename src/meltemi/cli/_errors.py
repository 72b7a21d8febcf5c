"""How the CLI fails: one line saying what is wrong, a hint, and an exit code.

::

    MeltemiError
    └── ApiError                 a request failed (the server's faultstring, or no server)
    click.ClickException
    └── CliError                 what the user sees: ``error: ...`` and ``hint: ...``

Exit codes: 0 done; 1 the server refused, or the execution ended in ERROR/CANCELLED;
2 bad input on the command line (click's usage errors too); 3 no server at the URL.

This module imports nothing heavy: ``meltemi --help`` and ``meltemi validate`` load it.
"""

from __future__ import annotations

from typing import IO, Final

import click

from meltemi.errors import MeltemiError

EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_UNREACHABLE: Final = 3


class ApiError(MeltemiError):
    """A request failed: the server said no (``status``), or could not be reached.

    ``message`` is the server's faultstring (or what went wrong on the way); ``hint``
    says what to do about it, when we know.
    """

    def __init__(self, message: str, *, status: int | None = None, hint: str | None = None):
        self.message = message
        self.status = status
        self.hint = hint
        super().__init__(message)

    @property
    def not_found(self) -> bool:
        return self.status == 404


class CliError(click.ClickException):
    """An error to show as ``error: message`` and ``  hint: ...``, with an exit code."""

    def __init__(self, message: str, *, hint: str | None = None, code: int = EXIT_FAILED):
        super().__init__(message)
        self.hint = hint
        self.exit_code = code

    def show(self, file: IO[str] | None = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True, file=file)
        if self.hint:
            click.echo(f"  hint: {self.hint}", err=True, file=file)


class BadInput(CliError):
    """Something given on the command line is wrong (exit code 2)."""

    def __init__(self, message: str, *, hint: str | None = None):
        super().__init__(message, hint=hint, code=EXIT_BAD_INPUT)


def from_api_error(error: ApiError) -> CliError:
    """The CLI error for a failed request; its first line is the server's faultstring."""
    message = error.message.strip()
    first, _, rest = message.partition("\n")
    hint = error.hint
    if rest.strip() and hint is None:
        # Definition errors come with their source lines and carets: keep them.
        first = message
    if error.status is None:
        return CliError(first, hint=hint, code=EXIT_UNREACHABLE)
    if error.status == 400 and hint is None and "JSON" not in first:
        hint = "see 'meltemi COMMAND --help' for what this command takes"
    return CliError(first, hint=hint, code=EXIT_FAILED)
