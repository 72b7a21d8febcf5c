"""Event triggers: start a workflow when a notification (exchange, topic, event)
arrives.

They are stored, listed, updated and deleted here. Nothing delivers notifications
to them yet: the listener that matches incoming events and starts the workflows
(Mistral's event engine) comes later.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from meltemi import engine
from meltemi.persistence.models import EventTriggerRow, table
from meltemi.services.definitions import Definitions
from meltemi.services.errors import Duplicate, InvalidInput, NotFound
from meltemi.services.listing import Listing, ListQuery

EVENT_TRIGGERS = table(EventTriggerRow)
LISTING = Listing(EVENT_TRIGGERS, {c.name: c for c in EVENT_TRIGGERS.columns})
REQUIRED = ("workflow_id", "exchange", "topic", "event")
FIXED = ("exchange", "topic", "event")


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class EventTriggers:
    def __init__(self, definitions: Definitions) -> None:
        self.definitions = definitions
        self.db = definitions.db

    def create(
        self,
        *,
        name: str = "",
        workflow_id: str,
        exchange: str,
        topic: str,
        event: str,
        workflow_input: Mapping[str, Any] | None = None,
        workflow_params: Mapping[str, Any] | None = None,
        scope: str = "private",
    ) -> dict[str, Any]:
        given = {"workflow_id": workflow_id, "exchange": exchange, "topic": topic, "event": event}
        missing = [k for k in REQUIRED if not given[k]]
        if missing:
            raise InvalidInput(
                f"Params {', '.join(REQUIRED)} must be provided for creating event trigger; "
                f"missing: {', '.join(missing)}"
            )
        try:
            uuid.UUID(workflow_id)
        except ValueError:
            # As in Mistral, whose API types the field as a UUID.
            raise InvalidInput(
                f"Expected a uuid but received {workflow_id}: workflow_id takes the id of "
                "a workflow (see GET /v2/workflows), not its name"
            ) from None
        for key in FIXED:
            if len(given[key]) > 80:
                raise InvalidInput(f"{key} is longer than 80 characters")
        if len(name) > 200:
            raise InvalidInput("an event trigger's name is at most 200 characters")
        try:
            return self._insert(
                name, workflow_id, exchange, topic, event, workflow_input, workflow_params, scope
            )
        except sa.exc.IntegrityError as e:  # a twin created at the same moment
            raise Duplicate("Duplicate entry for event trigger: it exists already") from e

    def _insert(
        self,
        name: str,
        workflow_id: str,
        exchange: str,
        topic: str,
        event: str,
        workflow_input: Mapping[str, Any] | None,
        workflow_params: Mapping[str, Any] | None,
        scope: str,
    ) -> dict[str, Any]:
        with self.db.write() as conn:
            definition = self.definitions.get_workflow(workflow_id, conn=conn)
            if definition.id != workflow_id:
                raise InvalidInput(
                    f"workflow_id must be the id of a workflow, not its name ('{workflow_id}' "
                    f"is workflow {definition.id})"
                )
            spec = self.definitions.spec(definition.spec_id, conn)
            engine.prepare_input(spec, dict(workflow_input or {}))
            same = conn.execute(
                sa.select(EVENT_TRIGGERS.c.id).where(
                    EVENT_TRIGGERS.c.exchange == exchange,
                    EVENT_TRIGGERS.c.topic == topic,
                    EVENT_TRIGGERS.c.event == event,
                    EVENT_TRIGGERS.c.workflow_id == workflow_id,
                )
            ).scalar()
            if same is not None:
                raise Duplicate(
                    f"Duplicate entry for event trigger: {same} already starts this workflow "
                    f"on exchange={exchange}, topic={topic}, event={event}"
                )
            trigger_id = str(uuid.uuid4())
            conn.execute(
                EVENT_TRIGGERS.insert().values(
                    id=trigger_id,
                    name=name or "",
                    workflow_id=workflow_id,
                    workflow_input=dict(workflow_input or {}),
                    workflow_params=dict(workflow_params or {}),
                    exchange=exchange,
                    topic=topic,
                    event=event,
                    scope=scope,
                    created_at=_now(),
                )
            )
        return self.get(trigger_id)

    def update(
        self,
        trigger_id: str,
        *,
        name: str | None = None,
        workflow_input: Mapping[str, Any] | None = None,
        workflow_params: Mapping[str, Any] | None = None,
        scope: str | None = None,
    ) -> dict[str, Any]:
        """Changes what may change; exchange, topic and event may not (delete and
        create the trigger anew for that)."""
        values: dict[str, Any] = {"updated_at": _now()}
        if name is not None:
            if len(name) > 200:
                raise InvalidInput("an event trigger's name is at most 200 characters")
            values["name"] = name
        if workflow_params is not None:
            values["workflow_params"] = dict(workflow_params)
        if scope is not None:
            values["scope"] = scope
        with self.db.write() as conn:
            current = self.get(trigger_id)
            if workflow_input is not None:
                definition = self.definitions.get_workflow(current["workflow_id"], conn=conn)
                spec = self.definitions.spec(definition.spec_id, conn)
                engine.prepare_input(spec, dict(workflow_input))
                values["workflow_input"] = dict(workflow_input)
            conn.execute(
                EVENT_TRIGGERS.update().where(EVENT_TRIGGERS.c.id == trigger_id).values(**values)
            )
        return self.get(trigger_id)

    def get(self, trigger_id: str) -> dict[str, Any]:
        with self.db.read() as conn:
            row = (
                conn.execute(sa.select(EVENT_TRIGGERS).where(EVENT_TRIGGERS.c.id == trigger_id))
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"Event trigger not found [id={trigger_id}]")
        return dict(row)

    def list(self, query: ListQuery, max_limit: int = 1000) -> list[dict[str, Any]]:
        with self.db.read() as conn:
            return LISTING.fetch(conn, query, max_limit=max_limit)

    def delete(self, trigger_id: str) -> None:
        with self.db.write() as conn:
            done = conn.execute(EVENT_TRIGGERS.delete().where(EVENT_TRIGGERS.c.id == trigger_id))
            if done.rowcount == 0:
                raise NotFound(f"Event trigger not found [id={trigger_id}]")
