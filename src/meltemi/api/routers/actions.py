"""``/v2/actions``: system actions and ad-hoc action definitions.

python-mistralclient names an action as ``/actions/{name}/{namespace}`` (with an
empty namespace that is ``/actions/{name}/``), so every single-action path accepts
the namespace as a path segment as well as a query parameter.
"""

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
from meltemi.api.listing import list_parameters, list_query, page, select_fields
from meltemi.api.models import Action, Actions, Validation
from meltemi.services.actions import FIELDS
from meltemi.services.actions import Actions as ActionService
from meltemi.services.errors import InvalidInput

router = APIRouter(prefix="/v2/actions", tags=["actions"])

FILTERS = (
    "id",
    "name",
    "namespace",
    "scope",
    "tags",
    "created_at",
    "updated_at",
    "description",
    "definition",
    "is_system",
    "input",
)


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "namespace": row.get("namespace") or "",
        "input": row.get("input") or "",
        "description": row.get("description"),
        "tags": list(row.get("tags") or []),
        "definition": row.get("definition") or "",
        "is_system": bool(row.get("is_system")),
        "scope": row.get("scope"),
        "project_id": row.get("project_id"),
        "created_at": timestamp(row.get("created_at")),
        "updated_at": timestamp(row.get("updated_at")),
    }


def _saved(row: dict[str, Any], *, created: bool = False) -> dict[str, Any]:
    """An action as Mistral answers its create or update: no input is null (a GET
    says ""); a create leaves out an unset updated_at, an update answers it null."""
    item = render(row)
    item["input"] = item["input"] or None
    if created and item["updated_at"] is None:
        del item["updated_at"]
    return item


def _actions(services: ServicesDep) -> ActionService:
    return ActionService(services.definitions, services.runtime.registry)


def _namespace(request: Request, path_namespace: str) -> str:
    return path_namespace or request.query_params.get("namespace", "")


@router.get(
    "",
    response_model=Actions,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(
        [f for f in FILTERS if f != "is_system"],
        enums={"scope": ("private", "public")},
        flags=("is_system",),
    ),
)
def list_actions(request: Request, services: ServicesDep) -> dict[str, Any]:
    _check_scope_filter(request)
    is_system = request.query_params.get("is_system")
    if is_system is not None and is_system.lower() not in ("true", "false", "1", "0"):
        raise InvalidInput(f"is_system must be true or false, not '{is_system}'")
    query = list_query(request, FILTERS, default_sort=("name",), known_fields=FIELDS)
    rows = _actions(services).list(query, services.settings.max_limit)
    return page(request, "actions", rows, query, render)


@router.post(
    "/validate",
    response_model=Validation,
    response_model_exclude_none=True,
    openapi_extra=VALIDATE_BODY,
)
def validate_actions(text: TextToValidate, services: ServicesDep) -> dict[str, Any]:
    if not text:
        return validation(EMPTY_DEFINITION)
    error = _actions(services).validate(text)
    return validation(error or None)


@router.get("/{identifier}", response_model=Action, response_model_exclude_unset=True)
@router.get(
    "/{identifier}/",
    response_model=Action,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
@router.get(
    "/{identifier}/{namespace}",
    response_model=Action,
    response_model_exclude_unset=True,
    include_in_schema=False,
)
def get_action(
    identifier: str,
    request: Request,
    services: ServicesDep,
    namespace: str = "",
    fields: str | None = None,
) -> dict[str, Any]:
    found = _actions(services).get(identifier, _namespace(request, namespace))
    return select_fields(render(found), tuple(f for f in (fields or "").split(",") if f))


@router.post(
    "",
    status_code=201,
    response_model=Actions,
    response_model_exclude_unset=True,
    openapi_extra=TEXT_BODY,
)
async def create_actions(
    request: Request, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    text = await read_text(request, services.settings.max_body_bytes)
    created = _actions(services).create(text, namespace=namespace, scope=check_scope(scope))
    return {"actions": [_saved(a, created=True) for a in created]}


@router.put("", response_model=Actions, response_model_exclude_unset=True, openapi_extra=TEXT_BODY)
async def update_actions(
    request: Request, services: ServicesDep, namespace: str = "", scope: str | None = None
) -> dict[str, Any]:
    text = await read_text(request, services.settings.max_body_bytes)
    updated = _actions(services).create(
        text, namespace=namespace, scope=check_scope(scope), update=True
    )
    return {"actions": [_saved(a) for a in updated]}


@router.put(
    "/{identifier}",
    response_model=Actions,
    response_model_exclude_unset=True,
    openapi_extra=TEXT_BODY,
)
async def update_action(
    identifier: str,
    request: Request,
    services: ServicesDep,
    namespace: str = "",
    scope: str | None = None,
) -> dict[str, Any]:
    text = await read_text(request, services.settings.max_body_bytes)
    updated = _actions(services).create(
        text, namespace=namespace, scope=check_scope(scope), update=True, identifier=identifier
    )
    return {"actions": [_saved(a) for a in updated]}


@router.delete("/{identifier}", status_code=204, response_class=Response)
@router.delete("/{identifier}/", status_code=204, response_class=Response, include_in_schema=False)
@router.delete(
    "/{identifier}/{namespace}", status_code=204, response_class=Response, include_in_schema=False
)
def delete_action(
    identifier: str, request: Request, services: ServicesDep, namespace: str = ""
) -> Response:
    _actions(services).delete(identifier, _namespace(request, namespace))
    return Response(status_code=204)


def _check_scope_filter(request: Request) -> None:
    scope = request.query_params.get("scope")
    if scope is not None and scope not in ("private", "public"):
        raise InvalidInput(f"the scope filter is 'private' or 'public', not '{scope}'")
