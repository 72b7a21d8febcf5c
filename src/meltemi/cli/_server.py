"""``meltemi server``: the whole service in one process."""

from __future__ import annotations

import logging
import sys

import click

from meltemi.persistence.db import Durability


@click.command("server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8989, show_default=True, type=int, help="Port to listen on.")
@click.option(
    "--db",
    "db_url",
    envvar="MELTEMI_DB_URL",
    help="Database URL (default: SQLite in ~/.meltemi, or $MELTEMI_DB_URL).",
)
@click.option(
    "--durability",
    type=click.Choice([d.value for d in Durability]),
    default=Durability.NORMAL.value,
    show_default=True,
    help="SQLite: 'full' also survives a power loss (slower).",
)
@click.option(
    "--grace",
    default=10.0,
    show_default=True,
    type=float,
    help="Seconds in-flight actions may finish after SIGTERM.",
)
@click.option(
    "--expire-after",
    type=float,
    envvar="MELTEMI_EXPIRE_AFTER",
    help="Delete finished executions this many minutes after they ended.",
)
@click.option(
    "--keep-finished",
    type=int,
    default=0,
    envvar="MELTEMI_KEEP_FINISHED",
    help="Keep at most this many finished executions (0: no limit).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["debug", "info", "warning", "error"]),
)
def server_command(
    host: str,
    port: int,
    db_url: str | None,
    durability: str,
    grace: float,
    expire_after: float | None,
    keep_finished: int,
    log_level: str,
) -> None:
    """Start Meltemi: REST API v2, engine, executor and scheduler in one process."""
    from meltemi.cli._logging import setup_logging
    from meltemi.persistence.errors import DatabaseError
    from meltemi.server import ServerSettings, serve

    setup_logging(log_level)
    try:
        serve(
            ServerSettings(
                host=host,
                port=port,
                db_url=db_url,
                durability=Durability(durability),
                grace=grace,
                expire_after_minutes=expire_after,
                keep_finished=keep_finished,
                log_level=log_level,
            )
        )
    except DatabaseError as e:
        click.echo(f"error: {e}", err=True)
        sys.exit(2)
    except OSError as e:
        click.echo(f"error: cannot listen on {host}:{port}: {e.strerror}", err=True)
        sys.exit(2)
    logging.shutdown()
