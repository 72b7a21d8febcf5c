"""``/v2/cron_triggers``: start workflows on a schedule (see services/cron.py)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from meltemi.api.body import check_scope, json_body, read_model
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_text, timestamp
from meltemi.api.listing import list_parameters, list_query, page, select_fields
from meltemi.api.models import Body, JsonObject
from meltemi.services.cron import CronTriggers
from meltemi.services.errors import InvalidInput

router = APIRouter(prefix="/v2/cron_triggers", tags=["cron_triggers"])

FIELDS = (
    "id",
    "name",
    "workflow_name",
    "workflow_id",
    "workflow_input",
    "workflow_params",
    "project_id",
    "scope",
    "pattern",
    "remaining_executions",
    "first_execution_time",
    "next_execution_time",
    "created_at",
    "updated_at",
)
FILTERS = FIELDS


class CronTriggerBody(Body):
    """POST /v2/cron_triggers: Mistral's CronTrigger fields (and the namespace)."""

    id: str | None = None
    name: str | None = None
    workflow_name: str | None = None
    workflow_id: str | None = None
    workflow_namespace: str | None = None
    workflow_input: JsonObject = None
    workflow_params: JsonObject = None
    project_id: str | None = None
    scope: Literal["private", "public"] | None = None
    pattern: str | None = None
    remaining_executions: int | str | None = None  # "42" too, as Mistral takes it
    first_execution_time: str | None = None
    next_execution_time: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CronTrigger(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None
    workflow_name: str | None = None
    workflow_id: str | None = None
    workflow_input: str | None = None
    workflow_params: str | None = None
    project_id: str | None = None
    scope: str | None = None
    pattern: str | None = None
    remaining_executions: int | None = None
    first_execution_time: str | None = None
    next_execution_time: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class CronTriggerList(BaseModel):
    cron_triggers: list[CronTrigger]
    next: str | None = None


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "workflow_name": row["workflow_name"],
        "workflow_id": row["workflow_id"],
        "workflow_input": json_text(row["workflow_input"] or {}),
        "workflow_params": json_text(row["workflow_params"] or {}),
        "project_id": row["project_id"],
        "scope": row["scope"],
        "pattern": row["pattern"],
        "remaining_executions": row["remaining_executions"],
        "first_execution_time": timestamp(row["first_execution_time"]),
        "next_execution_time": timestamp(row["next_execution_time"]),
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise InvalidInput(f"'{key}' must be text, not {type(value).__name__}")
    return value


@router.get(
    "",
    response_model=CronTriggerList,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS, enums={"scope": ("private", "public")}),
)
def list_cron_triggers(request: Request, services: ServicesDep) -> dict[str, Any]:
    scope = request.query_params.get("scope")
    if scope is not None and scope not in ("private", "public"):
        raise InvalidInput(f"the scope filter is 'private' or 'public', not '{scope}'")
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = CronTriggers(services.runtime).list(query, services.settings.max_limit)
    return page(request, "cron_triggers", rows, query, render)


@router.get("/{identifier}", response_model=CronTrigger, response_model_exclude_unset=True)
def get_cron_trigger(identifier: str, services: ServicesDep, fields: str | None = None) -> Any:
    item = render(CronTriggers(services.runtime).get(identifier))
    return select_fields(item, tuple(f for f in (fields or "").split(",") if f))


@router.post(
    "",
    status_code=201,
    response_model=CronTrigger,
    response_model_exclude_unset=True,
    openapi_extra=json_body(CronTriggerBody),
)
async def create_cron_trigger(request: Request, services: ServicesDep) -> Any:
    body = await read_model(request, CronTriggerBody, services.settings.max_body_bytes)
    count = body.get("remaining_executions")
    if isinstance(count, str) and count.strip().isdigit():
        count = int(count)
    created = CronTriggers(services.runtime).create(
        _text(body, "name") or "",
        workflow=_text(body, "workflow_id") or _text(body, "workflow_name") or "",
        namespace=_text(body, "workflow_namespace") or "",
        pattern=_text(body, "pattern"),
        first_time=_text(body, "first_execution_time"),
        count=count,
        workflow_input=json_object(body.get("workflow_input"), "workflow_input"),
        workflow_params=json_object(body.get("workflow_params"), "workflow_params"),
        scope=check_scope(_text(body, "scope")),
    )
    return render(created)


@router.delete("/{identifier}", status_code=204, response_class=Response)
def delete_cron_trigger(identifier: str, services: ServicesDep) -> Response:
    CronTriggers(services.runtime).delete(identifier)
    return Response(status_code=204)
