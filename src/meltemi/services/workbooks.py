"""Workbooks: documents of workflows and ad-hoc actions registered together.

A workbook's members are stored as ``<workbook>.<name>`` workflows and actions
(:mod:`meltemi.services.definitions` parses and stores them); this module finds,
lists, validates and deletes workbooks with their members.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from meltemi.lang import DocumentKind
from meltemi.services.definitions import WORKBOOKS, Definitions
from meltemi.services.errors import NotFound
from meltemi.services.listing import Listing, ListQuery

LISTING = Listing(WORKBOOKS, {c.name: c for c in WORKBOOKS.columns})


class Workbooks:
    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.db = definitions.db

    def create(
        self, text: str, *, namespace: str = "", scope: str = "private", update: bool = False
    ) -> dict[str, Any]:
        """Registers a workbook (or with ``update`` replaces it); returns it."""
        document = self.definitions.create_workbook(
            text, namespace=namespace, scope=scope, update=update
        )
        return self.get(document.name or "", namespace)

    def get(self, name: str, namespace: str = "") -> dict[str, Any]:
        with self.db.read() as conn:
            row = _find(conn, name, namespace)
        if row is None:
            where = f", namespace={namespace}" if namespace else ""
            raise NotFound(f"Workbook not found [name={name}{where}]")
        return row

    def list(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return LISTING.fetch(conn, query, max_limit=max_limit)

    def delete(self, name: str, namespace: str = "") -> None:
        """Deletes a workbook. As in Mistral, its workflows and actions stay registered
        (``<workbook>.<name>``) until deleted one by one, or taken over by a workbook
        of the same name."""
        with self.db.write() as conn:
            row = _find(conn, name, namespace)
            if row is None:
                where = f", namespace={namespace}" if namespace else ""
                raise NotFound(f"Workbook not found [name={name}{where}]")
            conn.execute(WORKBOOKS.delete().where(WORKBOOKS.c.id == row["id"]))

    def validate(self, text: str) -> str | None:
        """None when the text is a valid workbook, else what is wrong."""
        return self.definitions.validate(text, DocumentKind.WORKBOOK)


def _find(conn: Connection, name: str, namespace: str) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(WORKBOOKS).where(
                sa.or_(WORKBOOKS.c.name == name, WORKBOOKS.c.id == name),
                WORKBOOKS.c.namespace == namespace,
            )
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None
