"""``/v2/action_executions``: run actions directly; complete async actions."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from meltemi.api.body import read_json
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_or_text, json_text, timestamp
from meltemi.api.listing import list_query, page, select_fields
from meltemi.api.models import ActionExecution, ActionExecutions
from meltemi.engine import State
from meltemi.services.action_runs import ActionRuns
from meltemi.services.errors import InvalidInput, NotAllowed
from meltemi.services.queries import Queries

router = APIRouter(prefix="/v2/action_executions", tags=["action_executions"])

FIELDS = (
    "id",
    "workflow_name",
    "workflow_namespace",
    "task_name",
    "task_execution_id",
    "state",
    "state_info",
    "tags",
    "name",
    "description",
    "project_id",
    "accepted",
    "input",
    "output",
    "params",
    "created_at",
    "updated_at",
)
FILTERS = (
    "id",
    "created_at",
    "name",
    "updated_at",
    "workflow_name",
    "task_name",
    "task_execution_id",
    "state",
    "state_info",
    "accepted",
    "description",
)


def render_action_execution(row: dict[str, Any], *, output: bool = True) -> dict[str, Any]:
    item = {
        "id": row["id"],
        "workflow_name": row.get("workflow_name"),
        "workflow_namespace": row.get("workflow_namespace") or "",
        "task_name": row.get("task_name"),
        "task_execution_id": row.get("task_execution_id"),
        "state": row["state"],
        "state_info": row.get("state_info"),
        "tags": [],
        "name": row["name"],
        "description": row.get("description") or "",
        "project_id": row.get("project_id") or "<default-project>",
        "accepted": row.get("accepted", True),
        "input": json_text(row.get("input") or {}),
        "params": json_text({}),
        "created_at": timestamp(row.get("created_at")),
        "updated_at": timestamp(row.get("updated_at")),
    }
    if output:
        finished = row["state"] in ("SUCCESS", "ERROR", "CANCELLED")
        item["output"] = json_text({"result": row.get("output")} if finished else {})
    return item


def _queries(services: ServicesDep) -> Queries:
    return Queries(services.runtime.db)


@router.get("", response_model=ActionExecutions, response_model_exclude_unset=True)
def list_action_executions(request: Request, services: ServicesDep) -> dict[str, Any]:
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = _queries(services).action_executions(query, max_limit=services.settings.max_limit)
    with_output = request.query_params.get("include_output", "").lower() in ("true", "1")
    return page(
        request,
        "action_executions",
        rows,
        query,
        lambda r: render_action_execution(r, output=with_output),
    )


@router.get("/{run_id}", response_model=ActionExecution, response_model_exclude_unset=True)
def get_action_execution(run_id: str, services: ServicesDep, fields: str | None = None) -> Any:
    item = render_action_execution(_queries(services).action_execution(run_id))
    return select_fields(item, tuple(f for f in (fields or "").split(",") if f))


@router.post("", status_code=201, response_model=ActionExecution, response_model_exclude_unset=True)
async def run_action(request: Request, services: ServicesDep) -> Any:
    body = await read_json(request, services.settings.max_body_bytes)
    name = body.get("name")
    if not name or not isinstance(name, str):
        raise InvalidInput("'name' of the action to run is required")
    params = json_object(body.get("params"), "params")
    timeout = params.get("timeout")
    row = ActionRuns(services.runtime).run(
        name,
        json_object(body.get("input"), "input"),
        description=body.get("description") or "",
        save_result=bool(params.get("save_result", False)),
        run_sync=bool(params.get("run_sync", False)),
        target=params.get("target"),
        timeout=float(timeout) if timeout else None,
    )
    item = render_action_execution(row)
    if item["id"] is None:
        item.pop("id")
    return item


@router.put("/{run_id}", response_model=ActionExecution, response_model_exclude_unset=True)
async def update_action_execution(run_id: str, request: Request, services: ServicesDep) -> Any:
    body = await read_json(request, services.settings.max_body_bytes)
    state = body.get("state")
    try:
        target = State(str(state))
    except ValueError as e:
        raise InvalidInput(
            f"state must be SUCCESS, ERROR, CANCELLED, PAUSED or RUNNING, not {state!r}"
        ) from e
    output = json_or_text(body.get("output"))
    ActionRuns(services.runtime).complete(run_id, target, output)
    return render_action_execution(_queries(services).action_execution(run_id))


@router.delete("/{run_id}", status_code=204, response_class=Response)
def delete_action_execution(run_id: str, services: ServicesDep) -> Response:
    _queries(services).action_execution(run_id)
    raise NotAllowed(
        "Action execution deletion is not allowed: action executions are part of their "
        "workflow's history (delete the workflow execution instead)"
    )
