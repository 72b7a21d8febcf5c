"""``/v2/workflows``: workflow definitions (YAML text in, JSON out)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response

from meltemi.api.body import (
    EMPTY_DEFINITION,
    TEXT_BODY,
    VALIDATE_BODY,
    TextBody,
    TextToValidate,
    check_scope,
    validation,
)
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_text, timestamp
from meltemi.api.listing import list_parameters, list_query, page, select_fields
from meltemi.api.models import (
    Fault,
    Validation,
    Workflow,
    Workflows,
    WrittenWorkflow,
    WrittenWorkflows,
)
from meltemi.lang import DocumentKind
from meltemi.services.definitions import WorkflowDefinition
from meltemi.services.errors import InvalidInput

router = APIRouter(prefix="/v2/workflows", tags=["workflows"])

FIELDS = (
    "id",
    "name",
    "namespace",
    "input",
    "interface",
    "definition",
    "checksum",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
FILTERS = (
    "id",
    "name",
    "input",
    "definition",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
    "namespace",
)


def written(item: WorkflowDefinition, *, created: bool = False) -> dict[str, Any]:
    """A workflow as created or updated: its interface as an object (Mistral's POST and
    PUT give it so, its GET as JSON text); a create leaves out an unset updated_at, an
    update answers it null."""
    written = {**render(item), "interface": asdict(item).get("interface")}
    if created and written.get("updated_at") is None:
        written.pop("updated_at", None)
    return written


def render(item: WorkflowDefinition | dict[str, Any]) -> dict[str, Any]:
    row = item if isinstance(item, dict) else asdict(item)
    return {
        "id": row["id"],
        "name": row["name"],
        "namespace": row["namespace"],
        "input": row["input"],
        "interface": json_text(row.get("interface")),
        "definition": row["definition"],
        "checksum": row["checksum"],
        "tags": list(row.get("tags") or []),
        "scope": row["scope"],
        "project_id": row["project_id"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row.get("updated_at")),
    }


@router.get(
    "",
    response_model=Workflows,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS),
)
def list_workflows(request: Request, services: ServicesDep) -> dict[str, Any]:
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = services.definitions.list_workflows(query, services.settings.max_limit)
    return page(request, "workflows", rows, query, render)


def _no_sharing(identifier: str) -> InvalidInput:
    return InvalidInput(
        "Resource sharing feature can only be supported with authentication enabled: "
        f"workflow {identifier} cannot be shared, there are no other projects to share "
        "it with"
    )


# Workflow members (sharing a workflow with other projects): always a 400, as in
# Mistral without authentication.
@router.get("/{identifier}/members", response_model=Fault, status_code=400)
@router.post("/{identifier}/members", response_model=Fault, status_code=400)
def members(identifier: str) -> Any:
    raise _no_sharing(identifier)


@router.get("/{identifier}/members/{member_id}", response_model=Fault, status_code=400)
@router.put("/{identifier}/members/{member_id}", response_model=Fault, status_code=400)
@router.delete("/{identifier}/members/{member_id}", response_model=Fault, status_code=400)
def member(identifier: str, member_id: str) -> Any:
    raise _no_sharing(identifier)


@router.get("/{identifier}", response_model=Workflow, response_model_exclude_unset=True)
@router.get(
    "/{identifier}/{namespace}",
    response_model=Workflow,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def get_workflow(
    identifier: str,
    services: ServicesDep,
    request: Request,
    namespace: str = "",
    fields: str | None = None,
) -> dict[str, Any]:
    namespace = namespace or request.query_params.get("namespace", "")
    found = services.definitions.get_workflow(identifier, namespace)
    wanted = tuple(f for f in (fields or "").split(",") if f)
    return select_fields(render(found), wanted)


@router.post(
    "",
    status_code=201,
    response_model=WrittenWorkflows,
    response_model_exclude_unset=True,
    openapi_extra=TEXT_BODY,
)
def create_workflows(
    text: TextBody, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    created = services.definitions.create_workflows(
        text, namespace=namespace, scope=check_scope(scope)
    )
    return {"workflows": [written(w, created=True) for w in created]}


@router.put(
    "", response_model=WrittenWorkflows, response_model_exclude_unset=True, openapi_extra=TEXT_BODY
)
def update_workflows(
    text: TextBody, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    updated = services.definitions.update_workflows(
        text, namespace=namespace, scope=check_scope(scope)
    )
    return {"workflows": [written(w) for w in updated]}


@router.put(
    "/{identifier}",
    response_model=WrittenWorkflow,
    response_model_exclude_unset=True,
    openapi_extra=TEXT_BODY,
)
def update_workflow(
    identifier: str,
    text: TextBody,
    services: ServicesDep,
    namespace: str = "",
    scope: str | None = None,
) -> dict[str, Any]:
    (updated,) = services.definitions.update_workflows(
        text, namespace=namespace, scope=check_scope(scope), identifier=identifier
    )
    return written(updated)


@router.delete("/{identifier}", status_code=204, response_class=Response)
@router.delete(
    "/{identifier}/{namespace}", status_code=204, response_class=Response, include_in_schema=False
)
def delete_workflow(
    identifier: str, request: Request, services: ServicesDep, namespace: str = ""
) -> Response:
    namespace = namespace or request.query_params.get("namespace", "")
    services.definitions.delete_workflow(identifier, namespace)
    return Response(status_code=204)


@router.post(
    "/validate",
    response_model=Validation,
    response_model_exclude_none=True,
    openapi_extra=VALIDATE_BODY,
)
def validate_workflows(text: TextToValidate, services: ServicesDep) -> dict[str, Any]:
    if not text:
        return validation(EMPTY_DEFINITION)
    error = services.definitions.validate(text, DocumentKind.WORKFLOWS)
    return validation(error or None)
