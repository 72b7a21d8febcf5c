"""``/v2/action_executions``: run actions directly; complete async actions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response

from meltemi.actions.masking import mask, mask_text
from meltemi.api.body import json_body, model_body
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_or_text, json_text, timestamp
from meltemi.api.listing import flag, list_parameters, list_query, page, select_fields
from meltemi.api.models import ActionExecution, ActionExecutionBody, ActionExecutions
from meltemi.engine import State
from meltemi.services.action_runs import ActionRuns
from meltemi.services.errors import InvalidInput, NotAllowed
from meltemi.services.queries import Queries

router = APIRouter(prefix="/v2/action_executions", tags=["action_executions"])
ActionExecutionBodyDep = Annotated[dict[str, Any], model_body(ActionExecutionBody)]

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
    "input",
    "output",
    "params",
    "tags",
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
        "state_info": mask_text(row["state_info"]) if row.get("state_info") else None,
        "tags": [],
        "name": row["name"],
        "description": row.get("description") or "",
        "project_id": row.get("project_id") or "<default-project>",
        # As Mistral: a run's result is accepted once it has one (a retried attempt's
        # never is); its output is null until then.
        "accepted": bool(row.get("accepted", True)) and _finished(row),
        "input": json_text(mask(row.get("input") or {})),  # secrets never leave
        "params": json_text({}),
        "created_at": timestamp(row.get("created_at")),
        "updated_at": timestamp(row.get("updated_at")),
    }
    if output:
        item["output"] = json_text({"result": row.get("output")}) if _finished(row) else None
    return item


def _finished(row: dict[str, Any]) -> bool:
    return row["state"] in ("SUCCESS", "ERROR", "CANCELLED")


def _queries(services: ServicesDep) -> Queries:
    return Queries(services.runtime.db)


@router.get(
    "",
    response_model=ActionExecutions,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS, flags=("include_output",)),
)
def list_action_executions(request: Request, services: ServicesDep) -> dict[str, Any]:
    query = list_query(request, FILTERS, known_fields=FIELDS)
    with_output = flag(request, "include_output") or "output" in query.fields
    rows = _queries(services).action_executions(query, max_limit=services.settings.max_limit)
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


def _switch(params: dict[str, Any], name: str) -> bool:
    value = params.get(name, False)
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if value is None or isinstance(value, bool):
        return bool(value)
    raise InvalidInput(f"params.{name} must be true or false, not {value!r}")


def _timeout(params: dict[str, Any]) -> float | None:
    value = params.get("timeout")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise InvalidInput(f"params.timeout must be a number of seconds, not {value!r}")
    return float(value) or None


@router.post(
    "",
    status_code=201,
    response_model=ActionExecution,
    response_model_exclude_unset=True,
    openapi_extra=json_body(ActionExecutionBody),
)
def run_action(body: ActionExecutionBodyDep, services: ServicesDep) -> Any:
    name = body.get("name")
    if not name:
        raise InvalidInput("'name' of the action to run is required")
    params = json_object(body.get("params"), "params")
    target = params.get("target")
    if target is not None and not isinstance(target, str):
        raise InvalidInput(f"params.target must be text, not {target!r}")
    row = ActionRuns(services.runtime).run(
        name,
        json_object(body.get("input"), "input"),
        description=body.get("description") or "",
        save_result=_switch(params, "save_result"),
        run_sync=_switch(params, "run_sync"),
        target=target,
        timeout=_timeout(params),
    )
    # A result not saved has no id: "id": null, as Mistral answers.
    return render_action_execution(row)


@router.put(
    "/{run_id}",
    response_model=ActionExecution,
    response_model_exclude_unset=True,
    openapi_extra=json_body(ActionExecutionBody),
)
def update_action_execution(
    run_id: str, body: ActionExecutionBodyDep, services: ServicesDep
) -> Any:
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
