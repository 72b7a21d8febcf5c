"""schemathesis over the running server's ``/openapi.json``.

Every operation the document describes is called with generated requests, valid and
invalid: the server must never answer 5xx, must answer invalid requests with a 4xx,
and every answer must be one the document describes (status, content type, body).
Bounded in examples per operation so that the whole run stays near a minute.
"""

from __future__ import annotations

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.fixtures.server import ServerProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]

SEED = """
version: '2.0'
seeded:
  input:
    - name: world
  tasks:
    hello:
      action: std.echo output="Hello, <% $.name %>"
"""


@pytest.fixture(scope="module")
def api_schema(module_server: ServerProcess) -> schemathesis.BaseSchema:
    server = module_server.base_url
    # A few real things to find, so that not every generated id is unknown.
    httpx.post(
        f"{server}/v2/workflows", content=SEED, headers={"content-type": "text/plain"}
    ).raise_for_status()
    httpx.post(f"{server}/v2/executions", json={"workflow_name": "seeded"}).raise_for_status()
    loaded = schemathesis.openapi.from_url(f"{server}/openapi.json")
    loaded.config.update(base_url=server)
    return loaded


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,  # time is bounded by max_examples; a loaded machine must not fail it
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_conforms_to_its_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS, timeout=30)


def test_definitions_are_documented_as_text(module_server: ServerProcess) -> None:
    document = httpx.get(f"{module_server.base_url}/openapi.json").json()
    paths = document["paths"]
    for path, method in [
        ("/v2/workflows", "post"),
        ("/v2/workflows", "put"),
        ("/v2/workflows/{identifier}", "put"),
        ("/v2/workflows/validate", "post"),
    ]:
        content = paths[path][method]["requestBody"]["content"]
        assert list(content) == ["text/plain"], (method, path)
        assert content["text/plain"]["schema"]["type"] == "string"
    created = paths["/v2/executions"]["post"]["requestBody"]["content"]["application/json"]
    assert created["schema"]["additionalProperties"] is False
    assert "422" not in paths["/v2/executions"]["post"]["responses"]
    assert "400" in paths["/v2/executions"]["post"]["responses"]


def test_bad_bodies_get_a_4xx_that_says_why(module_server: ServerProcess) -> None:
    with httpx.Client(base_url=f"{module_server.base_url}/v2", timeout=60) as api:
        check_bad_bodies(api)


def check_bad_bodies(api: httpx.Client) -> None:
    text = {"content-type": "text/plain"}

    def fault(answer: httpx.Response, status: int) -> str:
        assert answer.status_code == status, answer.text
        message: str = answer.json()["faultstring"]
        assert answer.headers["Server-Error-Message"] == message.splitlines()[0]
        return message

    huge = b"x" * (16 * 1024 * 1024 + 1)
    assert "limit" in fault(api.post("/workflows", content=huge, headers=text), 413)
    assert "limit" in fault(api.post("/executions", content=huge), 413)
    assert "empty" in fault(api.post("/workflows", content=b"", headers=text), 400)
    assert "UTF-8" in fault(api.post("/workflows", content=b"\xff\xfe\x00", headers=text), 400)
    assert "line 1, column 2" in fault(api.post("/executions", content=b"{oops}"), 400)
    assert "JSON object" in fault(api.post("/executions", json=[1, 2]), 400)
    unknown = fault(api.post("/executions", json={"workflow_name": "x", "colour": "red"}), 400)
    assert "unknown field 'colour'" in unknown
    assert "'input'" in fault(api.post("/executions", json={"workflow_name": "x", "input": 5}), 400)
    state = fault(api.put("/tasks/some-id", json={"state": "DONE"}), 400)
    assert "'state'" in state
    assert "RUNNING" in state
    assert "not valid JSON" in fault(
        api.post("/executions", json={"workflow_name": "x", "params": "{env"}), 400
    )
    assert "Limit must be positive" in fault(api.get("/executions", params={"limit": 0}), 400)
    assert "Limit must be an integer" in fault(api.get("/action_executions?limit="), 400)
    # As in Mistral, an unknown execution is a 404 before its update body is checked.
    assert "1a2b3c" in fault(api.put("/executions/1a2b3c", json={"state": "STOPPED"}), 404)
    assert "sort direction" in fault(api.get("/executions", params={"sort_dirs": "up"}), 400)
    assert "include_output" in fault(
        api.get("/executions", params={"include_output": "maybe"}), 400
    )
