"""Connecting to the database: SQLite (embedded default) or PostgreSQL, and migrations.

SQLite runs in WAL mode; ``synchronous=NORMAL`` (the default durability) survives a
killed process, ``FULL`` also a power loss. Writers take the database lock when their
transaction begins (``BEGIN IMMEDIATE``), so two writers never deadlock; readers use
their own connections and never block writers. On PostgreSQL the same code runs;
the engine serialises work on one execution tree with a row lock on its root.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from meltemi.persistence.errors import DatabaseError


class Durability(enum.StrEnum):
    NORMAL = "normal"
    FULL = "full"


def default_url() -> str:
    """$MELTEMI_DB_URL, or a SQLite file in $MELTEMI_HOME (default ~/.meltemi)."""
    url = os.environ.get("MELTEMI_DB_URL")
    if url:
        return url
    home = Path(os.environ.get("MELTEMI_HOME") or Path.home() / ".meltemi")
    return sqlite_url(home / "meltemi.db")


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


class Database:
    """The engines for one database: a writer and a reader (the same on PostgreSQL)."""

    def __init__(self, url: str, *, durability: Durability = Durability.NORMAL) -> None:
        self.url = sa.engine.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = self.url.database or ""
            if database and database != ":memory:":
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            self.writer = _sqlite_engine(url, durability, immediate=True)
            self.reader = _sqlite_engine(url, durability, immediate=False)
        else:
            self.writer = sa.create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
            self.reader = self.writer

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction (committed at the end of the block, rolled back on error)."""
        with self.writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        with self.reader.connect() as conn:
            yield conn

    def migrate(self) -> None:
        """Brings the schema to the newest version (alembic ``upgrade head``)."""
        from meltemi.persistence.migrate import upgrade

        try:
            upgrade(self.writer)
        except sa.exc.SQLAlchemyError as e:
            raise DatabaseError(f"cannot prepare the database at {self.safe_url}: {e}") from e

    @property
    def safe_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    def dispose(self) -> None:
        self.writer.dispose()
        if self.reader is not self.writer:
            self.reader.dispose()


def _sqlite_engine(url: str, durability: Durability, *, immediate: bool) -> Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 60})

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event decide how transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={durability.value.upper()}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
