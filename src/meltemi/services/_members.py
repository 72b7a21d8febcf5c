"""Storing what documents bring besides workflows: ad-hoc actions, the members of
workbooks, and the guard that keeps workflows that triggers start."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
import yaml
from sqlalchemy.engine import Connection

from meltemi.lang import ActionSpec, WorkflowSpec, spec_to_json
from meltemi.persistence.models import (
    ActionDefinitionRow,
    CronTriggerRow,
    EventTriggerRow,
    WorkflowDefinitionRow,
    table,
)
from meltemi.services.errors import Duplicate, InvalidInput, NotFound

WORKFLOWS = table(WorkflowDefinitionRow)
ACTIONS = table(ActionDefinitionRow)
CRON_TRIGGERS = table(CronTriggerRow)
EVENT_TRIGGERS = table(EventTriggerRow)


def now_second() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def input_text(spec: WorkflowSpec | ActionSpec) -> str:
    """Mistral's text form of declared input.

    Ad-hoc actions write defaults as JSON (``b=3, c=null``); workflows quote the
    Python text of the default (``b="3", c="None"``), each as Mistral does.
    """
    if isinstance(spec, WorkflowSpec):
        return ", ".join(p.name if p.required else f'{p.name}="{p.default}"' for p in spec.input)
    return ", ".join(
        p.name if p.required else f"{p.name}={json.dumps(p.default)}" for p in spec.input
    )


def changes(row: Any, values: dict[str, Any]) -> bool:
    """Whether storing ``values`` would change the row. As in Mistral, an update that
    changes nothing leaves the row alone, its updated_at too."""
    return any(getattr(row, key) != value for key, value in values.items())


def member_text(name: str, body: Any) -> str:
    return yaml.safe_dump({"version": "2.0", name: body}, sort_keys=False)


def save_actions(
    conn: Connection,
    actions: Sequence[ActionSpec],
    bodies: dict[str, Any],
    namespace: str,
    scope: str,
    workbook: str | None,
    *,
    mode: str = "create",
    identifier: str | None = None,
) -> list[str]:
    """Stores ad-hoc actions: mode ``create`` (a taken name is a conflict),
    ``update`` (the action must exist; by ``identifier`` when given) or ``upsert``.
    Returns their ids."""
    stamp = now_second()
    ids = []
    for action in actions:
        name = f"{workbook}.{action.name}" if workbook else action.name
        current = conn.execute(
            sa.select(ACTIONS).where(
                sa.or_(ACTIONS.c.id == identifier, ACTIONS.c.name == identifier)
                if identifier is not None
                else ACTIONS.c.name == name,
                ACTIONS.c.namespace == namespace,
            )
        ).first()
        exists = current.id if current is not None else None
        if exists is not None and mode == "create":
            raise Duplicate(
                f"Duplicate entry for Action ['name', 'namespace', 'project_id']: {name}, "
                f"{namespace or '(default)'}: update it instead (PUT) or delete it first"
            )
        if exists is None and mode == "update":
            raise NotFound(f"Action not found [name={identifier or name}, namespace={namespace}]")
        values = {
            "name": name,
            "definition": member_text(action.name, bodies.get(action.name)),
            "spec": spec_to_json(action),
            "input": input_text(action),
            "description": action.description,
            "tags": list(action.tags),
            "scope": scope,
            "workbook_name": workbook,
        }
        if exists is None:
            action_id = str(uuid.uuid4())
            conn.execute(
                ACTIONS.insert().values(
                    id=action_id, namespace=namespace, created_at=stamp, **values
                )
            )
        else:
            action_id = exists
            if changes(current, values):
                conn.execute(
                    ACTIONS.update()
                    .where(ACTIONS.c.id == action_id)
                    .values(updated_at=stamp, **values)
                )
        ids.append(action_id)
    return ids


def check_no_triggers(
    conn: Connection, workflow_ids: Sequence[str], identifier: str, namespace: str
) -> None:
    """Refuses (400) to delete workflows that cron or event triggers start."""
    if not workflow_ids:
        return
    for kind, triggers in (("cron", CRON_TRIGGERS), ("event", EVENT_TRIGGERS)):
        found = list(
            conn.execute(
                sa.select(triggers.c.id).where(triggers.c.workflow_id.in_(workflow_ids))
            ).scalars()
        )
        if found:
            raise InvalidInput(
                f"Can't delete workflow that has {kind} triggers associated. "
                f"[workflow_identifier={identifier}, namespace={namespace}], "
                f"[{kind}_trigger_id(s)={', '.join(found)}]: delete the triggers first"
            )
