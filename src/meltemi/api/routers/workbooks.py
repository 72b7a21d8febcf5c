"""``/v2/workbooks``: workbook definitions (YAML text in, JSON out)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from meltemi.api.body import (
    EMPTY_DEFINITION,
    TEXT_BODY,
    VALIDATE_BODY,
    TextToValidate,
    check_scope,
    read_text,
    validation,
)
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import timestamp
from meltemi.api.listing import list_parameters, list_query, page, requested_fields, select_fields
from meltemi.api.models import Validation, Workbook, Workbooks
from meltemi.services.errors import InvalidInput
from meltemi.services.workbooks import Workbooks as WorkbookService

router = APIRouter(prefix="/v2/workbooks", tags=["workbooks"])

FIELDS = (
    "id",
    "name",
    "namespace",
    "definition",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
FILTERS = (
    "id",
    "name",
    "namespace",
    "definition",
    "tags",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "namespace": row["namespace"] or "",
        "definition": row["definition"],
        "tags": list(row.get("tags") or []),
        "scope": row["scope"],
        "project_id": row["project_id"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row.get("updated_at")),
    }


def _workbooks(services: ServicesDep) -> WorkbookService:
    return WorkbookService(services.definitions)


@router.get(
    "",
    response_model=Workbooks,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS, enums={"scope": ("private", "public")}),
)
def list_workbooks(request: Request, services: ServicesDep) -> dict[str, Any]:
    _check_scope_filter(request)
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = _workbooks(services).list(query, services.settings.max_limit)
    return page(request, "workbooks", rows, query, render)


@router.get("/{name}", response_model=Workbook, response_model_exclude_unset=True)
@router.get(  # Mistral's positional form: /workbooks/{name}/{namespace}
    "/{name}/{namespace}",
    response_model=Workbook,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def get_workbook(
    name: str, services: ServicesDep, namespace: str = "", fields: str | None = None
) -> dict[str, Any]:
    found = render(_workbooks(services).get(name, namespace))
    return select_fields(found, requested_fields(fields, FIELDS))


@router.post(
    "",
    status_code=201,
    response_model=Workbook,
    response_model_exclude_unset=True,
    openapi_extra=TEXT_BODY,
)
async def create_workbook(
    request: Request, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    text = await read_text(request, services.settings.max_body_bytes)
    created = _workbooks(services).create(text, namespace=namespace, scope=check_scope(scope))
    return render(created)


@router.put("", response_model=Workbook, response_model_exclude_unset=True, openapi_extra=TEXT_BODY)
async def update_workbook(
    request: Request, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    text = await read_text(request, services.settings.max_body_bytes)
    updated = _workbooks(services).create(
        text, namespace=namespace, scope=check_scope(scope), update=True
    )
    return render(updated)


@router.delete("/{name}", status_code=204, response_class=Response)
@router.delete(
    "/{name}/{namespace}", status_code=204, response_class=Response, include_in_schema=False
)
def delete_workbook(name: str, services: ServicesDep, namespace: str = "") -> Response:
    _workbooks(services).delete(name, namespace)
    return Response(status_code=204)


@router.post(
    "/validate",
    response_model=Validation,
    response_model_exclude_none=True,
    openapi_extra=VALIDATE_BODY,
)
def validate_workbook(text: TextToValidate, services: ServicesDep) -> dict[str, Any]:
    if not text:
        return validation(EMPTY_DEFINITION)
    error = _workbooks(services).validate(text)
    return validation(error or None)


def _check_scope_filter(request: Request) -> None:
    scope = request.query_params.get("scope")
    if scope is not None and scope not in ("private", "public"):
        raise InvalidInput(f"the scope filter is 'private' or 'public', not '{scope}'")
