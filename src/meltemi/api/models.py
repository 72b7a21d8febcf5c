"""The resources of the REST API v2, with Mistral's field names.

Fields Mistral sends as JSON inside a string (input, output, params, published, ...)
are strings here too. Every field is optional because ``fields=`` picks a subset and
list endpoints leave some out (an execution's output, a task's result).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Resource(BaseModel):
    model_config = ConfigDict(extra="allow")


class Link(BaseModel):
    href: str
    target: str
    rel: str


class Version(BaseModel):
    id: str
    status: str
    links: list[Link]


class Versions(BaseModel):
    versions: list[Version]


class Uri(BaseModel):
    uri: str


class Workflow(Resource):
    id: str | None = None
    name: str | None = None
    namespace: str | None = None
    input: str | None = None
    interface: str | None = None
    definition: str | None = None
    checksum: str | None = None
    tags: list[str] | None = None
    scope: str | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Workflows(BaseModel):
    workflows: list[Workflow]
    next: str | None = None


class WrittenWorkflow(Workflow):
    """A workflow as POST and PUT answer it: ``interface`` is an object there, not JSON
    text (as Mistral answers its text endpoints)."""

    interface: dict[str, Any] | None = None  # type: ignore[assignment]


class WrittenWorkflows(BaseModel):
    workflows: list[WrittenWorkflow]


class Workbook(Resource):
    id: str | None = None
    name: str | None = None
    namespace: str | None = None
    definition: str | None = None
    tags: list[str] | None = None
    scope: str | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Workbooks(BaseModel):
    workbooks: list[Workbook]
    next: str | None = None


class Action(Resource):
    id: str | None = None
    name: str | None = None
    namespace: str | None = None
    input: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    definition: str | None = None
    is_system: bool | None = None
    scope: str | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class Actions(BaseModel):
    actions: list[Action]
    next: str | None = None


class Execution(Resource):
    id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    params: str | None = None
    task_execution_id: str | None = None
    root_execution_id: str | None = None
    source_execution_id: str | None = None
    state: str | None = None
    state_info: str | None = None
    input: str | None = None
    output: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    project_id: str | None = None
    published_global: str | None = None


class Executions(BaseModel):
    executions: list[Execution]
    next: str | None = None


class Task(Resource):
    id: str | None = None
    name: str | None = None
    type: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    workflow_id: str | None = None
    workflow_execution_id: str | None = None
    tags: list[str] | None = None
    state: str | None = None
    state_info: str | None = None
    project_id: str | None = None
    runtime_context: str | None = None
    result: str | None = None
    published: str | None = None
    published_global: str | None = None
    processed: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None


class Tasks(BaseModel):
    tasks: list[Task]
    next: str | None = None


class ActionExecution(Resource):
    id: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    task_name: str | None = None
    task_execution_id: str | None = None
    state: str | None = None
    state_info: str | None = None
    tags: list[str] | None = None
    name: str | None = None
    description: str | None = None
    project_id: str | None = None
    accepted: bool | None = None
    input: str | None = None
    output: str | None = None
    params: str | None = None
    created_at: str | None = None
    updated_at: str | None = None


class ActionExecutions(BaseModel):
    action_executions: list[ActionExecution]
    next: str | None = None


class Validation(BaseModel):
    valid: bool
    error: str | None = None


class Fault(BaseModel):
    faultcode: str
    faultstring: str
    debuginfo: str | None = None


# -- request bodies ----------------------------------------------------------------------
#
# What clients may send: Mistral's resource fields (clients often send back what they
# read), each with the types Mistral accepts. JSON values may come as objects or as
# JSON text (python-mistralclient sends text). Unknown fields are refused, as Mistral
# does.

JsonObject = dict[str, Any] | str | None
ExecutionState = Literal["IDLE", "RUNNING", "SUCCESS", "ERROR", "PAUSED", "CANCELLED"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ExecutionBody(Body):
    """POST /v2/executions (start) and PUT /v2/executions/{id} (state, description, env)."""

    id: str | None = None
    workflow_id: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    params: JsonObject = None
    task_execution_id: str | None = None
    root_execution_id: str | None = None
    source_execution_id: str | None = None
    state: ExecutionState | None = None
    state_info: str | None = None
    input: JsonObject = None
    output: JsonObject = None
    published_global: JsonObject = None
    created_at: str | None = None
    updated_at: str | None = None
    project_id: str | None = None


class TaskBody(Body):
    """PUT /v2/tasks/{id}: rerun (state RUNNING, reset, env) or skip (state SKIPPED)."""

    id: str | None = None
    name: str | None = None
    type: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    workflow_id: str | None = None
    workflow_execution_id: str | None = None
    tags: list[str] | None = None
    state: Literal["RUNNING", "SKIPPED"]
    state_info: str | None = None
    project_id: str | None = None
    runtime_context: JsonObject = None
    result: Any = None
    published: JsonObject = None
    published_global: JsonObject = None
    processed: bool | None = None
    created_at: str | None = None
    updated_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    reset: bool | None = None
    env: JsonObject = None


class ActionExecutionBody(Body):
    """POST /v2/action_executions (run an action) and PUT (complete or update a run)."""

    id: str | None = None
    workflow_name: str | None = None
    workflow_namespace: str | None = None
    task_name: str | None = None
    task_execution_id: str | None = None
    state: Literal["SUCCESS", "ERROR", "CANCELLED", "PAUSED", "RUNNING"] | None = None
    state_info: str | None = None
    tags: list[str] | None = None
    name: str | None = None
    description: str | None = None
    project_id: str | None = None
    accepted: bool | None = None
    input: JsonObject = None
    output: Any = None
    params: JsonObject = None
    created_at: str | None = None
    updated_at: str | None = None


class EnvironmentBody(Body):
    """POST and PUT /v2/environments."""

    id: str | None = None
    name: str = Field(min_length=1)
    description: str | None = None
    variables: JsonObject = None
    scope: Literal["private", "public"] | None = None
    project_id: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
