"""``/v2/event_triggers``: workflows to start on notifications.

Event triggers are stored, listed, updated and deleted; nothing fires them yet (the
listener for notifications comes later, see services/event_triggers.py).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from meltemi.api.body import check_scope, json_body, read_model
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_text, timestamp
from meltemi.api.listing import list_parameters, list_query, page, select_fields
from meltemi.api.models import Body, JsonObject
from meltemi.services.errors import InvalidInput
from meltemi.services.event_triggers import FIXED, EventTriggers

router = APIRouter(prefix="/v2/event_triggers", tags=["event_triggers"])

FIELDS = (
    "id",
    "name",
    "workflow_id",
    "workflow_input",
    "workflow_params",
    "exchange",
    "topic",
    "event",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
FILTERS = FIELDS


class EventTriggerBody(Body):
    """POST and PUT /v2/event_triggers: Mistral's EventTrigger fields."""

    id: str | None = None
    name: str | None = None
    workflow_id: str | None = None
    workflow_input: JsonObject = None
    workflow_params: JsonObject = None
    exchange: str | None = None
    topic: str | None = None
    event: str | None = None
    scope: Literal["private", "public"] | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class EventTrigger(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None
    workflow_id: str | None = None
    workflow_input: str | None = None
    workflow_params: str | None = None
    exchange: str | None = None
    topic: str | None = None
    event: str | None = None
    scope: str | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class EventTriggerList(BaseModel):
    event_triggers: list[EventTrigger]
    next: str | None = None


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "workflow_id": row["workflow_id"],
        "workflow_input": json_text(row["workflow_input"] or {}),
        "workflow_params": json_text(row["workflow_params"] or {}),
        "exchange": row["exchange"],
        "topic": row["topic"],
        "event": row["event"],
        "scope": row["scope"],
        "project_id": row["project_id"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be text, not {type(value).__name__}")
    return value


def _triggers(services: ServicesDep) -> EventTriggers:
    return EventTriggers(services.definitions)


@router.get(
    "",
    response_model=EventTriggerList,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS, enums={"scope": ("private", "public")}),
)
def list_event_triggers(request: Request, services: ServicesDep) -> dict[str, Any]:
    scope = request.query_params.get("scope")
    if scope is not None and scope not in ("private", "public"):
        raise InvalidInput(f"the scope filter is 'private' or 'public', not '{scope}'")
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = _triggers(services).list(query, services.settings.max_limit)
    return page(request, "event_triggers", rows, query, render)


@router.get("/{trigger_id}", response_model=EventTrigger, response_model_exclude_unset=True)
def get_event_trigger(trigger_id: str, services: ServicesDep, fields: str | None = None) -> Any:
    item = render(_triggers(services).get(trigger_id))
    return select_fields(item, tuple(f for f in (fields or "").split(",") if f))


@router.post(
    "",
    status_code=201,
    response_model=EventTrigger,
    response_model_exclude_unset=True,
    openapi_extra=json_body(EventTriggerBody),
)
async def create_event_trigger(request: Request, services: ServicesDep) -> Any:
    body = await read_model(request, EventTriggerBody, services.settings.max_body_bytes)
    created = _triggers(services).create(
        name=_text(body, "name"),
        workflow_id=_text(body, "workflow_id"),
        exchange=_text(body, "exchange"),
        topic=_text(body, "topic"),
        event=_text(body, "event"),
        workflow_input=json_object(body.get("workflow_input"), "workflow_input"),
        workflow_params=json_object(body.get("workflow_params"), "workflow_params"),
        scope=check_scope(_text(body, "scope")),
    )
    return render(created)


@router.put(
    "/{trigger_id}",
    response_model=EventTrigger,
    response_model_exclude_unset=True,
    openapi_extra=json_body(EventTriggerBody),
)
async def update_event_trigger(trigger_id: str, request: Request, services: ServicesDep) -> Any:
    body = await read_model(request, EventTriggerBody, services.settings.max_body_bytes)
    triggers = _triggers(services)
    current = triggers.get(trigger_id)
    fixed = [k for k in (*FIXED, "workflow_id") if body.get(k) and body[k] != current[k]]
    if fixed:
        raise InvalidInput(
            f"Can not update fields {', '.join(fixed)} of an event trigger; delete it and "
            "create a new one instead"
        )
    updated = triggers.update(
        trigger_id,
        name=_text(body, "name") if "name" in body else None,
        workflow_input=json_object(body["workflow_input"], "workflow_input")
        if body.get("workflow_input") is not None
        else None,
        workflow_params=json_object(body["workflow_params"], "workflow_params")
        if body.get("workflow_params") is not None
        else None,
        scope=check_scope(_text(body, "scope")) if body.get("scope") else None,
    )
    return render(updated)


@router.delete("/{trigger_id}", status_code=204, response_class=Response)
def delete_event_trigger(trigger_id: str, services: ServicesDep) -> Response:
    _triggers(services).delete(trigger_id)
    return Response(status_code=204)
