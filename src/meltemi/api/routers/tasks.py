"""``/v2/tasks``: task executions; rerun and skip."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Request

from meltemi.api.body import json_body, model_body
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_text, json_value_text, timestamp
from meltemi.api.listing import (
    flag,
    list_parameters,
    list_query,
    page,
    requested_fields,
    select_fields,
)
from meltemi.api.models import ActionExecutions, Executions, Task, TaskBody, Tasks
from meltemi.api.routers.action_executions import FIELDS as ACTION_FIELDS
from meltemi.api.routers.action_executions import FILTERS as ACTION_FILTERS
from meltemi.api.routers.action_executions import render_action_execution
from meltemi.lang import WorkflowSpec
from meltemi.persistence.executions import RUNS, WF
from meltemi.services.errors import InvalidInput
from meltemi.services.queries import Queries

router = APIRouter(prefix="/v2/tasks", tags=["tasks"])

TASK_FIELDS = (
    "id",
    "name",
    "type",
    "workflow_name",
    "workflow_namespace",
    "workflow_id",
    "workflow_execution_id",
    "tags",
    "state",
    "state_info",
    "project_id",
    "runtime_context",
    "result",
    "published",
    "published_global",
    "processed",
    "created_at",
    "updated_at",
    "started_at",
    "finished_at",
)
TASK_FILTERS = (
    "id",
    "name",
    "workflow_name",
    "workflow_id",
    "workflow_execution_id",
    "tags",
    "state",
    "state_info",
    "published",
    "processed",
    "created_at",
    "updated_at",
    "workflow_namespace",
)


def runtime_context(row: dict[str, Any]) -> dict[str, Any]:
    context: dict[str, Any] = {}
    if row.get("retry_no"):
        context["retry_task_policy"] = {"retry_no": row["retry_no"]}
    items = row.get("items")
    if items is not None:
        # As Mistral: the concurrency (when limited) beside with_items, and the free
        # capacity null when unlimited.
        concurrency = items.get("concurrency", 0)
        if concurrency:
            context["concurrency"] = concurrency
        context["with_items"] = {
            "count": items.get("count", 0),
            "capacity": max(concurrency - items.get("running", 0), 0) if concurrency else None,
        }
    if row.get("triggered_by"):
        context["triggered_by"] = row["triggered_by"]
    return context


def render_task(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "type": row["type"],
        "workflow_name": row["workflow_name"],
        "workflow_namespace": row["workflow_namespace"] or "",
        "workflow_id": row["workflow_id"],
        "workflow_execution_id": row["workflow_execution_id"],
        "tags": [],
        "state": row["state"],
        "state_info": row["state_info"],
        "project_id": row["project_id"],
        "runtime_context": json_text(runtime_context(row)),
        "published": json_text(row["published"] or {}),
        "processed": row["processed"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "started_at": timestamp(row["started_at"]),
        "finished_at": timestamp(row["finished_at"]),
    }


def _queries(services: ServicesDep) -> Queries:
    return Queries(services.runtime.db)


@router.get(
    "",
    response_model=Tasks,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(TASK_FILTERS),
)
def list_tasks(request: Request, services: ServicesDep) -> dict[str, Any]:
    query = list_query(request, TASK_FILTERS, known_fields=TASK_FIELDS)
    rows = _queries(services).tasks(query, max_limit=services.settings.max_limit)
    return page(request, "tasks", rows, query, render_task)


def full_task(services: ServicesDep, task_id: str) -> dict[str, Any]:
    queries = _queries(services)
    row = queries.task(task_id)
    item = render_task(row)
    item["result"] = json_value_text(queries.task_result(row))
    names = _global_names(services.definitions.spec(row["spec_id"]), row)
    if names:
        context = queries.execution(row["workflow_execution_id"]).get("context") or {}
        published = {k: context[k] for k in names if k in context}
        if published:
            item["published_global"] = json_text(published)
    return item


def _global_names(spec: WorkflowSpec, row: dict[str, Any]) -> list[str]:
    """The variables the task published globally in its final state (Mistral shows
    those alone as the task's ``published_global``)."""
    task = spec.tasks.get(row["name"])
    if task is None or row["state"] not in ("SUCCESS", "ERROR"):
        return []
    clauses = (task.on_complete, task.on_success if row["state"] == "SUCCESS" else task.on_error)
    return [
        name
        for clause in clauses
        if clause is not None and clause.publish is not None
        for name in clause.publish.global_
    ]


@router.get("/{task_id}", response_model=Task, response_model_exclude_unset=True)
def get_task(task_id: str, services: ServicesDep, fields: str | None = None) -> Any:
    wanted = requested_fields(fields, TASK_FIELDS)
    return select_fields(full_task(services, task_id), wanted)


@router.put(
    "/{task_id}",
    response_model=Task,
    response_model_exclude_unset=True,
    openapi_extra=json_body(TaskBody),
)
def update_task(
    task_id: str, body: Annotated[dict[str, Any], model_body(TaskBody)], services: ServicesDep
) -> Any:
    state = body.get("state")
    task = _queries(services).task(task_id)
    if state == "RUNNING":
        reset = body.get("reset")
        if reset is None:
            raise InvalidInput("Mandatory field 'reset' not found: send reset true or false")
        if task["state"] != "ERROR":
            raise InvalidInput(
                f"The current task execution must be in ERROR for rerun; task '{task['name']}' "
                f"is {task['state']}"
            )
        if not reset and task.get("items") is None:
            # As in Mistral: only the failed items of a with-items task can run again.
            raise InvalidInput(
                "Only with-items task has the option to not reset: task "
                f"'{task['name']}' has no items, rerun it with reset true"
            )
        env = json_object(body.get("env"), "env") if body.get("env") is not None else None
        services.executions.rerun(task_id, reset=reset, env=env)
    elif state == "SKIPPED":
        services.executions.skip(task_id)
    else:
        raise InvalidInput(
            f"a task can be set to RUNNING (rerun, with 'reset') or SKIPPED, not '{state}'"
        )
    return full_task(services, task_id)


@router.get(
    "/{task_id}/action_executions",
    response_model=ActionExecutions,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(ACTION_FILTERS, flags=("include_output",)),
)
def task_action_executions(task_id: str, request: Request, services: ServicesDep) -> Any:
    _queries(services).task(task_id)
    query = list_query(request, ACTION_FILTERS, known_fields=ACTION_FIELDS)
    with_output = flag(request, "include_output") or "output" in query.fields
    rows = _queries(services).action_executions(
        query, where=[RUNS.c.task_execution_id == task_id], max_limit=services.settings.max_limit
    )
    return page(
        request,
        "action_executions",
        rows,
        query,
        lambda r: render_action_execution(r, output=with_output),
    )


@router.get(
    "/{task_id}/workflow_executions", response_model=Executions, response_model_exclude_unset=True
)
def task_workflow_executions(task_id: str, services: ServicesDep) -> Any:
    """The sub-workflow executions the task started (not those below them)."""
    from meltemi.api.routers.executions import LISTED, render
    from meltemi.services.listing import ListQuery

    _queries(services).task(task_id)
    rows = _queries(services).executions(
        ListQuery(), where=[WF.c.task_execution_id == task_id], only=LISTED
    )
    return {"executions": [render(r, output=False) for r in rows]}


@router.get("/{task_id}/executions", response_model=Executions, response_model_exclude_unset=True)
def task_executions(
    task_id: str,
    services: ServicesDep,
    errors_only: bool | Literal[""] = False,  # python-mistralclient sends 'errors_only='
    max_depth: int = -1,
    include_output: bool = False,
) -> Any:
    """The sub-workflow executions of the task and all below them, depth first."""
    from meltemi.api.routers.executions import LISTED, render

    rows = _queries(services).sub_executions(
        task_id=task_id,
        errors_only=errors_only is True,
        max_depth=max_depth,
        only=(*LISTED, "output") if include_output else LISTED,
    )
    return {"executions": [render(r, output=include_output) for r in rows]}
