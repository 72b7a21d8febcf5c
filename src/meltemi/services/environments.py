"""Environments: named sets of variables that executions use as their ``env``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from meltemi.persistence.db import Database
from meltemi.persistence.models import EnvironmentRow, table
from meltemi.services.errors import Duplicate, InvalidInput, NotFound
from meltemi.services.listing import Listing, ListQuery

ENVIRONMENTS = table(EnvironmentRow)
LISTING = Listing(ENVIRONMENTS, {c.name: c for c in ENVIRONMENTS.columns})


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Environments:
    def __init__(self, db: Database) -> None:
        self.db = db

    def create(
        self,
        name: str,
        variables: dict[str, Any],
        *,
        description: str | None = None,
        scope: str = "private",
    ) -> dict[str, Any]:
        if not name:
            raise InvalidInput("an environment needs a 'name'")
        with self.db.write() as conn:
            exists = conn.execute(
                sa.select(ENVIRONMENTS.c.id).where(ENVIRONMENTS.c.name == name)
            ).scalar()
            if exists is not None:
                raise Duplicate(f"Duplicate entry for Environment: {name}; update it instead")
            conn.execute(
                ENVIRONMENTS.insert().values(
                    id=str(uuid.uuid4()),
                    name=name,
                    description=description,
                    variables=variables,
                    scope=scope,
                    created_at=_now(),
                )
            )
        return self.get(name)

    def update(
        self,
        name: str,
        *,
        variables: dict[str, Any] | None = None,
        description: str | None = None,
        scope: str | None = None,
    ) -> dict[str, Any]:
        values: dict[str, Any] = {"updated_at": _now()}
        if variables is not None:
            values["variables"] = variables
        if description is not None:
            values["description"] = description
        if scope is not None:
            values["scope"] = scope
        with self.db.write() as conn:
            done = conn.execute(
                ENVIRONMENTS.update().where(ENVIRONMENTS.c.name == name).values(**values)
            )
            if done.rowcount == 0:
                raise NotFound(f"Environment not found [name={name}]")
        return self.get(name)

    def get(self, name: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = (
                conn.execute(
                    sa.select(ENVIRONMENTS).where(
                        sa.or_(ENVIRONMENTS.c.name == name, ENVIRONMENTS.c.id == name)
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"Environment not found [name={name}]")
        return dict(row)

    def variables(self, name: str) -> dict[str, Any]:
        """The variables of a stored environment (an execution's ``params.env``)."""
        try:
            variables = self.get(name)["variables"]
        except NotFound as e:
            raise InvalidInput(
                f"Environment not found [name={name}]: params.env names no stored environment"
            ) from e
        return dict(variables or {})

    def list(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return LISTING.fetch(conn, query, max_limit=max_limit)

    def delete(self, name: str) -> None:
        with self.db.write() as conn:
            done = conn.execute(ENVIRONMENTS.delete().where(ENVIRONMENTS.c.name == name))
            if done.rowcount == 0:
                raise NotFound(f"Environment not found [name={name}]")
