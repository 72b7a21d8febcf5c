"""What every command that talks to a server shares: ``--url``, ``-o``, ``--debug``.

The options are accepted on ``meltemi`` itself and on each command (``meltemi -o json
workflow list`` and ``meltemi workflow list -o json`` are the same); the command's
own win. A command asks for a :class:`Session` with ``@pass_session``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Final, ParamSpec, TypeVar

import click

if TYPE_CHECKING:
    from meltemi.cli._client import Client

P = ParamSpec("P")
R = TypeVar("R")

DEFAULT_URL: Final = "http://127.0.0.1:8989"
URL: Final = "meltemi.url"
OUTPUT: Final = "meltemi.output"
DEBUG: Final = "meltemi.debug"
FORMATS: Final = ("table", "json", "yaml")


@dataclass
class Session:
    """The server to talk to and how to show what it says."""

    url: str = DEFAULT_URL
    output: str = "table"
    debug: bool = False
    _client: Client | None = field(default=None, repr=False)

    @property
    def machine(self) -> bool:
        """Whether the output is for programs (JSON or YAML) rather than people."""
        return self.output != "table"

    def client(self) -> Client:
        if self._client is None:
            # httpx loads only for the commands that talk to a server.
            from meltemi.cli._client import Client

            self._client = Client(self.url)
            click.get_current_context().call_on_close(self._client.close)
        return self._client


def _remember(key: str) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        if value is not None and value is not False:
            ctx.meta[key] = value
        return value

    return callback


def url_option(*, envvar: str | None = None) -> Callable[[Callable[..., Any]], Any]:
    return click.option(
        "--url",
        envvar=envvar,
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember(URL),
        help=f"The Meltemi server (default $MELTEMI_URL or {DEFAULT_URL}).",
    )


def output_option() -> Callable[[Callable[..., Any]], Any]:
    return click.option(
        "-o",
        "--output",
        type=click.Choice(FORMATS),
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember(OUTPUT),
        help="table for people (default), or json / yaml for programs.",
    )


def debug_option() -> Callable[[Callable[..., Any]], Any]:
    return click.option(
        "--debug",
        is_flag=True,
        default=False,
        expose_value=False,
        is_eager=True,
        callback=_remember(DEBUG),
        help="Show the traceback of an error.",
    )


def pass_session(f: Callable[Concatenate[Session, P], R]) -> Callable[P, R]:
    """Adds ``--url``, ``-o`` and ``--debug`` to a command and passes it a Session."""

    @functools.wraps(f)
    def command(*args: P.args, **kwargs: P.kwargs) -> R:
        meta = click.get_current_context().meta
        session = Session(
            url=meta.get(URL) or DEFAULT_URL,
            output=meta.get(OUTPUT) or "table",
            debug=bool(meta.get(DEBUG)),
        )
        return f(session, *args, **kwargs)

    for option in (debug_option(), output_option(), url_option()):
        command = option(command)
    return command
