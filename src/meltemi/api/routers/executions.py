"""``/v2/executions``: start, list, inspect, pause/resume/cancel, delete executions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response

from meltemi.api.body import json_body, model_body
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_text, timestamp
from meltemi.api.listing import (
    flag,
    list_parameters,
    list_query,
    page,
    requested_fields,
    select_fields,
)
from meltemi.api.models import Execution, ExecutionBody, Executions, Tasks
from meltemi.api.routers.tasks import (
    TASK_FIELDS,
    TASK_FILTERS,
    render_task,
)
from meltemi.engine import State
from meltemi.lang import WorkflowSpec
from meltemi.persistence.executions import TASKS, WF, workflow_row
from meltemi.services.errors import InvalidInput
from meltemi.services.queries import Queries

router = APIRouter(prefix="/v2/executions", tags=["executions"])
ExecutionBodyDep = Annotated[dict[str, Any], model_body(ExecutionBody)]


def _current_state(execution_id: str, services: ServicesDep) -> str:
    # A dependency resolved before the body's: an unknown execution is a 404 whatever
    # the body says, as in Mistral.
    return str(_queries(services).execution(execution_id)["state"])


CurrentStateDep = Annotated[str, Depends(_current_state)]

FIELDS = (
    "id",
    "workflow_id",
    "workflow_name",
    "workflow_namespace",
    "description",
    "tags",
    "params",
    "task_execution_id",
    "root_execution_id",
    "source_execution_id",
    "state",
    "state_info",
    "input",
    "output",
    "created_at",
    "updated_at",
    "project_id",
    "published_global",
)
FILTERS = (
    "id",
    "workflow_name",
    "workflow_id",
    "description",
    "tags",
    "params",
    "task_execution_id",
    "root_execution_id",
    "state",
    "state_info",
    "input",
    "output",
    "created_at",
    "updated_at",
    "project_id",
    "workflow_namespace",
    "source_execution_id",
)
_INTERNAL_CONTEXT = ("__execution", "openstack")
DEFAULT_PROJECT = "<default-project>"


def published_global(row: dict[str, Any], spec: WorkflowSpec) -> dict[str, Any]:
    """What tasks published globally: the execution's context without its ``vars``."""
    context = row.get("context") or {}
    return {k: v for k, v in context.items() if k not in _INTERNAL_CONTEXT and k not in spec.vars}


#: What a list shows of each execution (never its context; its output if asked).
LISTED = tuple(f for f in FIELDS if f not in ("output", "published_global"))


def render(row: dict[str, Any], *, output: bool = True) -> dict[str, Any]:
    item = {
        "id": row["id"],
        "workflow_id": row["workflow_id"],
        "workflow_name": row["workflow_name"],
        "workflow_namespace": row["workflow_namespace"] or "",
        "description": row["description"] or "",
        "tags": list(row["tags"] or []),
        "params": json_text(row["params"] or {}),
        "task_execution_id": row["task_execution_id"],
        "root_execution_id": row["root_execution_id"],
        "source_execution_id": row["source_execution_id"],
        "state": row["state"],
        "state_info": row["state_info"],
        "input": json_text(row["input"] or {}),
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "project_id": row["project_id"],
    }
    if output:
        item["output"] = json_text(row["output"] if row["output"] is not None else {})
    return item


def _check_env(env: Any) -> None:
    """An env is an object (or, to start an execution, an environment's name)."""
    if env is not None and not isinstance(env, dict):
        raise InvalidInput(
            f"Unexpected value type for environment [env={env!r}, "
            f"type={type(env).__name__}]: params.env is an object, or the name of an "
            "environment"
        )


def _queries(services: ServicesDep) -> Queries:
    return Queries(services.runtime.db)


@router.get(
    "",
    response_model=Executions,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(
        FILTERS,
        flags=("include_output", "all_projects"),
        extra=("nulls",),
    ),
)
def list_executions(request: Request, services: ServicesDep) -> dict[str, Any]:
    query = list_query(request, FILTERS, known_fields=FIELDS)
    # As Mistral: the output when asked for, by include_output or among the fields.
    with_output = flag(request, "include_output") or "output" in query.fields
    flag(request, "all_projects")  # one project here: checked, and nothing to widen
    rows = _queries(services).executions(
        query,
        max_limit=services.settings.max_limit,
        only=(*LISTED, "output") if with_output else LISTED,
    )
    return page(request, "executions", rows, query, lambda r: render(r, output=with_output))


@router.get("/{execution_id}", response_model=Execution, response_model_exclude_unset=True)
def get_execution(execution_id: str, services: ServicesDep, fields: str | None = None) -> Any:
    wanted = requested_fields(fields, FIELDS)
    row = _queries(services).execution(execution_id)
    item = render(row)
    spec = services.definitions.spec(row["spec_id"])
    item["published_global"] = json_text(published_global(row, spec))
    return select_fields(item, wanted)


@router.post(
    "",
    status_code=201,
    response_model=Execution,
    response_model_exclude_unset=True,
    openapi_extra=json_body(ExecutionBody),
)
def create_execution(body: ExecutionBodyDep, services: ServicesDep) -> Any:
    workflow = body.get("workflow_id") or body.get("workflow_name")
    source = body.get("source_execution_id")
    if not workflow and not source:
        raise InvalidInput(
            "Workflow ID or workflow name must be provided. Workflow ID is recommended."
        )
    params = json_object(body.get("params"), "params")
    env = params.get("env")
    if isinstance(env, str):
        params["env"] = services.environments.variables(env)
    else:
        _check_env(env)
    execution = services.executions.start(
        workflow,
        namespace=body.get("workflow_namespace") or params.get("namespace") or "",
        input=json_object(body.get("input"), "input") if body.get("input") is not None else None,
        params=params if body.get("params") is not None else None,
        description=body.get("description") or "",
        execution_id=body.get("id"),
        source_execution_id=source,
    )
    # The execution as started (no second read): RUNNING, or already finished when its
    # tasks ran in line.
    return render({"project_id": DEFAULT_PROJECT, **workflow_row(execution)})


#: States an execution ends in. Asking one to pause, or an ERROR or CANCELLED one to
#: succeed, is a 400 (as in Mistral); asking it to end again changes nothing.
_ENDED = ("SUCCESS", "ERROR", "CANCELLED")


@router.put(
    "/{execution_id}",
    response_model=Execution,
    response_model_exclude_unset=True,
    openapi_extra=json_body(ExecutionBody),
)
def update_execution(
    execution_id: str, current: CurrentStateDep, body: ExecutionBodyDep, services: ServicesDep
) -> Any:
    executions = services.executions
    state = body.get("state")
    description = body.get("description")
    params = json_object(body.get("params"), "params")
    env = params.get("env")
    _check_env(env)
    if state and description is not None:
        raise InvalidInput("description cannot be changed together with the state")
    if (state == "PAUSED" and current in _ENDED) or (
        state == "SUCCESS" and current in ("ERROR", "CANCELLED")
    ):
        raise InvalidInput(
            f"Can't change workflow execution state from {current} to {state}: "
            f"execution {execution_id} has ended"
        )
    if state is None:
        if description is None and env is None:
            raise InvalidInput("Nothing to update: send state, description or params.env")
        executions.update(execution_id, description=description, env=env)
    elif state == "PAUSED":
        executions.pause(execution_id, body.get("state_info"))
    elif state == "RUNNING":
        executions.resume(execution_id, env)
    elif state in ("SUCCESS", "ERROR", "CANCELLED"):
        executions.stop(execution_id, State(state), body.get("state_info"))
    else:
        raise InvalidInput(
            f"state must be one of RUNNING, PAUSED, SUCCESS, ERROR, CANCELLED; not '{state}'"
        )
    return render(_queries(services).execution(execution_id))


@router.delete("/{execution_id}", status_code=204, response_class=Response)
def delete_execution(execution_id: str, services: ServicesDep, force: bool = False) -> Response:
    services.executions.delete(execution_id, force=force)
    return Response(status_code=204)


@router.get(
    "/{execution_id}/tasks",
    response_model=Tasks,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(TASK_FILTERS),
)
def list_execution_tasks(execution_id: str, request: Request, services: ServicesDep) -> Any:
    query = list_query(request, TASK_FILTERS, known_fields=TASK_FIELDS)
    _queries(services).execution(execution_id)  # a 404 when there is no such execution
    rows = _queries(services).tasks(
        query,
        where=[TASKS.c.workflow_execution_id == execution_id],
        max_limit=services.settings.max_limit,
    )
    return page(request, "tasks", rows, query, render_task)


@router.get(
    "/{execution_id}/executions", response_model=Executions, response_model_exclude_unset=True
)
def sub_executions(
    execution_id: str,
    services: ServicesDep,
    errors_only: bool | Literal[""] = False,  # python-mistralclient sends 'errors_only='
    max_depth: int = -1,
    include_output: bool = False,
) -> Any:
    """The execution itself, then the sub-workflow executions below it, depth first."""
    rows = _queries(services).sub_executions(
        execution_id,
        errors_only=errors_only is True,
        max_depth=max_depth,
        only=(*LISTED, "output") if include_output else LISTED,
    )
    return {"executions": [render(r, output=include_output) for r in rows]}


@router.get("/{execution_id}/report")
def report(
    execution_id: str,
    services: ServicesDep,
    errors_only: bool = False,
    max_depth: int = -1,
    statistics_only: bool = False,
) -> dict[str, Any]:
    from meltemi.services.reports import execution_report

    return execution_report(
        services.runtime.db,
        execution_id,
        errors_only=errors_only,
        max_depth=max_depth,
        statistics_only=statistics_only,
    )


__all__ = ["WF", "router"]
