"""``/v2/environments``: named variable sets for executions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, ConfigDict

from meltemi.api.body import check_scope, json_body, model_body
from meltemi.api.context import ServicesDep
from meltemi.api.encoding import json_object, json_text, timestamp
from meltemi.api.listing import list_parameters, list_query, page, requested_fields, select_fields
from meltemi.api.models import EnvironmentBody
from meltemi.services.errors import InvalidInput

router = APIRouter(prefix="/v2/environments", tags=["environments"])
EnvironmentBodyDep = Annotated[dict[str, Any], model_body(EnvironmentBody)]

FIELDS = (
    "id",
    "name",
    "description",
    "variables",
    "scope",
    "project_id",
    "created_at",
    "updated_at",
)
FILTERS = ("id", "name", "description", "variables", "scope", "created_at", "updated_at")


class Environment(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None = None
    name: str | None = None
    description: str | None = None
    variables: str | None = None
    scope: str | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class EnvironmentList(BaseModel):
    environments: list[Environment]
    next: str | None = None


def render(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "description": row["description"],
        "variables": json_text(row["variables"] or {}),
        "scope": row["scope"],
        "project_id": row["project_id"],
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
    }


@router.get(
    "",
    response_model=EnvironmentList,
    response_model_exclude_unset=True,
    openapi_extra=list_parameters(FILTERS, enums={"scope": ("private", "public")}),
)
def list_environments(request: Request, services: ServicesDep) -> dict[str, Any]:
    scope = request.query_params.get("scope")
    if scope is not None and scope not in ("private", "public"):
        raise InvalidInput(f"the scope filter is 'private' or 'public', not '{scope}'")
    query = list_query(request, FILTERS, known_fields=FIELDS)
    rows = services.environments.list(query, services.settings.max_limit)
    return page(request, "environments", rows, query, render)


@router.get("/{name}", response_model=Environment, response_model_exclude_unset=True)
def get_environment(name: str, services: ServicesDep, fields: str | None = None) -> Any:
    item = render(services.environments.get(name))
    return select_fields(item, requested_fields(fields, FIELDS))


@router.post(
    "",
    status_code=201,
    response_model=Environment,
    response_model_exclude_unset=True,
    openapi_extra=json_body(EnvironmentBody),
)
def create_environment(body: EnvironmentBodyDep, services: ServicesDep) -> Any:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput("an environment needs a 'name' (text)")
    created = render(
        services.environments.create(
            name,
            json_object(body.get("variables"), "variables"),
            description=body.get("description"),
            scope=check_scope(body.get("scope")),
        )
    )
    # As Mistral answers a create: what is not set (a description, updated_at) is left
    # out; mistralclient shows the difference ('None' against '<none>').
    return {k: v for k, v in created.items() if v is not None}


@router.put(
    "",
    response_model=Environment,
    response_model_exclude_unset=True,
    openapi_extra=json_body(EnvironmentBody),
)
def update_environment(body: EnvironmentBodyDep, services: ServicesDep) -> Any:
    name = body.get("name")
    if not isinstance(name, str) or not name:
        raise InvalidInput("the environment to update is named by 'name' in the body")
    return render(
        services.environments.update(
            name,
            variables=json_object(body["variables"], "variables")
            if body.get("variables") is not None
            else None,
            description=body.get("description"),
            scope=check_scope(body["scope"]) if body.get("scope") else None,
        )
    )


@router.delete("/{name}", status_code=204, response_class=Response)
def delete_environment(name: str, services: ServicesDep) -> Response:
    services.environments.delete(name)
    return Response(status_code=204)
