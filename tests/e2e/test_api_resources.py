"""REST API v2 resources against a real ``meltemi server``: workbooks, actions, cron
and event triggers, services, metrics, structured logs, and refused bodies.

Every bad request must come back as a 4xx with a ``faultstring`` that says what is
wrong, never as a 500.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from tests.fixtures.server import ServerProcess

T = TypeVar("T")
TEXT = {"Content-Type": "text/plain"}

WORKBOOK = """
version: '2.0'
name: {name}
description: a book
tags: [books]
actions:
  shout:
    base: std.echo
    base-input:
      output: <% $.text %>
    input: [text]
workflows:
  main:
    input: [who]
    tasks:
      hello:
        action: shout text=<% $.who %>
  {extra}:
    tasks:
      t:
        action: std.noop
"""

ADHOC = """
version: '2.0'
greet:
  description: {description}
  base: std.echo
  base-input:
    output: Hello, <% $.name %>
  input:
    - name
    - punctuation: "!"
    - nothing: null
"""

WORKFLOW = """
version: '2.0'
{name}:
  input: [x]
  tasks:
    t:
      action: std.echo
      input:
        output: <% $.x %>
        delay: 0.01
      publish: {{got: <% task().result %>}}
  output:
    got: <% $.got %>
"""


def eventually(check: Callable[[], T | None], *, timeout: float = 60.0) -> T:
    """The first truthy result of ``check``; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting after {timeout} s")
        time.sleep(0.1)


def fault(response: httpx.Response, status: int) -> str:
    """Checks an error response (status, Mistral's body); returns its faultstring."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["faultcode"] == "Client"
    assert body["faultstring"]
    return str(body["faultstring"])


@pytest.fixture(scope="module")
def api(module_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{module_server.base_url}/v2", timeout=60) as client:
        yield client


def create_workflow(api: httpx.Client, name: str) -> dict[str, Any]:
    response = api.post("/workflows", content=WORKFLOW.format(name=name), headers=TEXT)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()["workflows"][0]
    return created


def utc_text(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


# -- workbooks ---------------------------------------------------------------------------


def test_workbook_create_get_list_update_delete(api: httpx.Client) -> None:
    text = WORKBOOK.format(name="book", extra="second")
    created = api.post("/workbooks", content=text, headers=TEXT)
    assert created.status_code == 201, created.text
    book = created.json()
    assert book["name"] == "book"
    assert book["definition"] == text
    assert book["tags"] == ["books"]
    assert book["scope"] == "private"
    assert book["namespace"] == ""
    assert len(book["created_at"]) == len("2026-01-01 00:00:00")

    got = api.get("/workbooks/book").json()
    assert got["id"] == book["id"]
    listed = api.get("/workbooks", params={"name": "book", "fields": "name"}).json()
    assert listed["workbooks"] == [{"id": book["id"], "name": "book"}]

    main = api.get("/workflows/book.main").json()
    assert api.get("/workflows/book.second").status_code == 200
    assert api.get("/actions/book.shout/").json()["input"] == "text"

    updated_text = WORKBOOK.format(name="book", extra="third")
    updated = api.put("/workbooks", content=updated_text, headers=TEXT)
    assert updated.status_code == 200, updated.text
    assert updated.json()["definition"] == updated_text
    assert updated.json()["updated_at"] is not None
    assert api.get("/workflows/book.main").json()["id"] == main["id"]  # kept its id
    assert api.get("/workflows/book.third").status_code == 200
    fault(api.get("/workflows/book.second"), 404)

    execution = api.post("/executions", json={"workflow_name": "book.main", "input": {"who": 1}})
    assert execution.status_code == 201, execution.text

    assert api.delete("/workbooks/book").status_code == 204
    assert "book" in fault(api.get("/workbooks/book"), 404)
    fault(api.get("/workflows/book.main"), 404)
    fault(api.get("/actions/book.shout/"), 404)


def test_workbooks_in_a_namespace(api: httpx.Client) -> None:
    text = WORKBOOK.format(name="spaced", extra="other")
    created = api.post("/workbooks", params={"namespace": "ns1"}, content=text, headers=TEXT)
    assert created.status_code == 201, created.text
    assert created.json()["namespace"] == "ns1"
    assert api.get("/workbooks/spaced", params={"namespace": "ns1"}).status_code == 200
    fault(api.get("/workbooks/spaced"), 404)
    listed = api.get("/workbooks", params={"namespace": "ns1"}).json()["workbooks"]
    assert [w["name"] for w in listed] == ["spaced"]
    fault(api.delete("/workbooks/spaced"), 404)
    assert api.delete("/workbooks/spaced", params={"namespace": "ns1"}).status_code == 204


def test_workbook_errors(api: httpx.Client) -> None:
    broken = (
        "version: '2.0'\nname: broken\nworkflows:\n  wf:\n    tasks:\n      t:\n        bad: 1\n"
    )
    message = fault(api.post("/workbooks", content=broken, headers=TEXT), 400)
    assert ":7:" in message or "line 7" in message, message
    fault(api.post("/workbooks", content="{[", headers=TEXT), 400)
    fault(api.post("/workbooks", content="", headers=TEXT), 400)
    text = WORKBOOK.format(name="twice", extra="x")
    assert api.post("/workbooks", content=text, headers=TEXT).status_code == 201
    assert "twice" in fault(api.post("/workbooks", content=text, headers=TEXT), 409)
    absent = WORKBOOK.format(name="absent", extra="x")
    fault(api.put("/workbooks", content=absent, headers=TEXT), 404)
    fault(api.post("/workbooks", params={"scope": "secret"}, content=text, headers=TEXT), 400)
    fault(api.get("/workbooks", params={"sort_dirs": "sideways"}), 400)
    fault(api.get("/workbooks", params={"fields": "colour"}), 400)
    fault(api.get("/workbooks", params={"limit": "0"}), 400)


def test_workbook_validate(api: httpx.Client) -> None:
    good = api.post("/workbooks/validate", content=WORKBOOK.format(name="v", extra="x"))
    assert good.json() == {"valid": True}
    bad = api.post("/workbooks/validate", content="version: '2.0'\nname: v\nworkflows: 3\n")
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["error"]


# -- actions -----------------------------------------------------------------------------


def test_system_actions_are_listed_with_their_input(api: httpx.Client) -> None:
    actions = api.get("/actions").json()["actions"]
    names = [a["name"] for a in actions]
    assert names == sorted(names)
    echo = next(a for a in actions if a["name"] == "std.echo")
    assert echo["id"] == "std.echo"
    assert echo["input"] == "output, delay=0"
    assert echo["is_system"] is False
    assert echo["description"]
    fail = api.get("/actions/std.fail").json()
    assert fail["input"] == "error_data=null"  # json.dumps of the default, as Mistral

    found = api.get("/actions", params={"name": "has:std.e"}).json()["actions"]
    assert [a["name"] for a in found] == ["std.echo"]
    first = api.get("/actions", params={"limit": 2}).json()
    assert len(first["actions"]) == 2
    assert "marker=" in first["next"]
    second = api.get("/actions", params={"limit": 2, "marker": first["actions"][-1]["id"]})
    assert second.json()["actions"][0]["name"] == names[2]
    newest_first = api.get("/actions", params={"sort_dirs": "desc"}).json()["actions"]
    assert [a["name"] for a in newest_first] == sorted(names, reverse=True)
    only = api.get("/actions/std.echo", params={"fields": "input"}).json()
    assert only == {"id": "std.echo", "input": "output, delay=0"}

    fault(api.get("/actions", params={"sort_keys": "colour"}), 400)
    fault(api.get("/actions", params={"is_system": "maybe"}), 400)
    fault(api.get("/actions", params={"marker": "no-such-action"}), 400)
    assert "std.nothing" in fault(api.get("/actions/std.nothing/"), 404)


def test_adhoc_action_create_get_update_delete(api: httpx.Client) -> None:
    created = api.post("/actions", content=ADHOC.format(description="hi"), headers=TEXT)
    assert created.status_code == 201, created.text
    (greet,) = created.json()["actions"]
    assert greet["name"] == "greet"
    assert greet["input"] == 'name, punctuation="!", nothing=null'
    assert greet["description"] == "hi"
    assert greet["is_system"] is False
    assert "base: std.echo" in greet["definition"]

    assert api.get("/actions/greet/").json()["id"] == greet["id"]  # the client's form
    assert api.get(f"/actions/{greet['id']}").json()["name"] == "greet"
    listed = api.get("/actions", params={"is_system": "false", "name": "greet"}).json()
    assert [a["id"] for a in listed["actions"]] == [greet["id"]]

    again = api.post("/actions", content=ADHOC.format(description="hi"), headers=TEXT)
    assert "greet" in fault(again, 409)
    updated = api.put("/actions", content=ADHOC.format(description="hello"), headers=TEXT)
    assert updated.status_code == 200, updated.text
    assert updated.json()["actions"][0]["description"] == "hello"
    assert updated.json()["actions"][0]["id"] == greet["id"]
    by_id = api.put(
        f"/actions/{greet['id']}", content=ADHOC.format(description="hey"), headers=TEXT
    )
    assert by_id.json()["actions"][0]["description"] == "hey"

    run = api.post(
        "/action_executions",
        json={"name": "greet", "input": {"name": "you"}, "params": {"run_sync": True}},
    )
    assert run.status_code == 201, run.text
    assert json.loads(run.json()["output"]) == {"result": "Hello, you"}

    assert api.delete("/actions/greet/").status_code == 204
    fault(api.get("/actions/greet/"), 404)
    fault(api.delete("/actions/greet"), 404)


def test_action_errors(api: httpx.Client) -> None:
    message = fault(api.delete("/actions/std.echo/"), 400)
    assert "system action" in message
    shadow = "version: '2.0'\nstd.echo:\n  base: std.noop\n"
    assert "system action" in fault(api.post("/actions", content=shadow, headers=TEXT), 400)
    no_base = "version: '2.0'\nlonely:\n  input: [a]\n"
    assert "base" in fault(api.post("/actions", content=no_base, headers=TEXT), 400)
    missing = ADHOC.replace("greet:", "nobody:").format(description="x")
    fault(api.put("/actions", content=missing, headers=TEXT), 404)
    validated = api.post("/actions/validate", content=no_base).json()
    assert validated["valid"] is False
    assert api.post("/actions/validate", content=ADHOC.format(description="x")).json() == {
        "valid": True
    }


# -- cron triggers -------------------------------------------------------------------------


def test_cron_trigger_fires(api: httpx.Client) -> None:
    workflow = create_workflow(api, "ticked")
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    created = api.post(
        "/cron_triggers",
        json={
            "name": "every-minute",
            "workflow_name": "ticked",
            "pattern": "* * * * *",
            "first_execution_time": utc_text(first),
            "remaining_executions": 2,
            "workflow_input": json.dumps({"x": 7}),
            "workflow_params": json.dumps({"env": {"e": 1}}),
        },
    )
    assert created.status_code == 201, created.text
    trigger = created.json()
    assert trigger["workflow_id"] == workflow["id"]
    assert trigger["workflow_name"] == "ticked"
    assert trigger["next_execution_time"] == utc_text(first)
    assert trigger["first_execution_time"] == utc_text(first)
    assert json.loads(trigger["workflow_input"]) == {"x": 7}
    assert trigger["remaining_executions"] == 2
    assert api.get(f"/cron_triggers/{trigger['id']}").json()["name"] == "every-minute"
    names = [t["name"] for t in api.get("/cron_triggers").json()["cron_triggers"]]
    assert "every-minute" in names

    def fired() -> list[dict[str, Any]]:
        found = api.get("/executions", params={"workflow_name": "ticked"}).json()
        return [e for e in found["executions"] if e["state"] == "SUCCESS"]

    (execution,) = eventually(fired)
    description = json.loads(execution["description"])
    assert description == {
        "description": f"Workflow execution created by cron trigger '({trigger['id']})'.",
        "triggered_by": {"type": "cron_trigger", "id": trigger["id"]},
    }
    assert json.loads(execution["input"]) == {"x": 7}
    assert json.loads(execution["params"])["env"] == {"e": 1}
    output = api.get(f"/executions/{execution['id']}").json()["output"]
    assert json.loads(output) == {"got": 7}

    after = api.get("/cron_triggers/every-minute").json()
    assert after["remaining_executions"] == 1
    assert after["next_execution_time"].endswith(":00")
    assert after["next_execution_time"] > utc_text(first)

    message = fault(api.delete(f"/workflows/{workflow['id']}"), 400)
    assert "Can't delete workflow that has cron triggers associated" in message
    assert api.delete("/cron_triggers/every-minute").status_code == 204
    fault(api.get("/cron_triggers/every-minute"), 404)
    fault(api.delete("/cron_triggers/every-minute"), 404)
    assert api.delete(f"/workflows/{workflow['id']}").status_code == 204


def _cron(api: httpx.Client, **body: Any) -> httpx.Response:
    base = {"name": "bad", "workflow_name": "checked", "pattern": "0 * * * *"}
    return api.post("/cron_triggers", json={**base, **body})


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"pattern": None}, 400, "Pattern or first_execution_time"),
        ({"pattern": "61 * * * *"}, 400, "61 * * * *"),
        ({"pattern": "whenever"}, 400, "whenever"),
        ({"workflow_name": "no-such-workflow"}, 404, "no-such-workflow"),
        ({"first_execution_time": "2001-01-01 00:00"}, 400, "in the past"),
        ({"first_execution_time": "tomorrow"}, 400, "tomorrow"),
        (
            {
                "pattern": None,
                "first_execution_time": "2999-01-01 00:00",
                "remaining_executions": 2,
            },
            400,
            "Pattern must be provided",
        ),
        ({"remaining_executions": 0}, 400, "at least 1"),
        ({"remaining_executions": "many"}, 400, "integer"),
        ({"workflow_input": "{not json"}, 400, "workflow_input"),
        ({"workflow_input": {"y": 1}}, 400, "'y'"),
        ({"workflow_input": {}}, 400, "'x'"),
        ({"workflow_name": None}, 400, "'workflow_id' or 'workflow_name'"),
        ({"name": ""}, 400, "name"),
        ({"colour": "red"}, 400, "colour"),
        ({"scope": "galactic"}, 400, "scope"),
    ],
)
def test_cron_trigger_bad_input(
    api: httpx.Client, body: dict[str, Any], status: int, words: str
) -> None:
    if api.get("/workflows/checked").status_code == 404:
        create_workflow(api, "checked")
    message = fault(_cron(api, **{"workflow_input": {"x": 1}, **body}), status)
    assert words in message, message


def test_cron_trigger_conflicts_and_bad_bodies(api: httpx.Client) -> None:
    if api.get("/workflows/checked").status_code == 404:
        create_workflow(api, "checked")
    assert _cron(api, name="hourly", workflow_input={"x": 1}).status_code == 201
    assert "hourly" in fault(_cron(api, name="hourly", workflow_input={"x": 1}), 409)
    assert "JSON" in fault(
        api.post("/cron_triggers", content="{", headers={"Content-Type": "application/json"}),
        400,
    )
    fault(api.post("/cron_triggers", json=[1, 2]), 400)
    fault(api.get("/cron_triggers", params={"remaining_executions": "lots"}), 400)
    assert api.delete("/cron_triggers/hourly").status_code == 204


def test_cron_trigger_fires_after_a_restart(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory()
    with httpx.Client(base_url=f"{server.base_url}/v2", timeout=60) as api:
        create_workflow(api, "later")
        first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=10)
        created = api.post(
            "/cron_triggers",
            json={
                "name": "once",
                "workflow_name": "later",
                "first_execution_time": utc_text(first),
                "workflow_input": {"x": "late"},
            },
        )
        assert created.status_code == 201, created.text
        assert created.json()["remaining_executions"] == 1
        assert api.get("/executions").json()["executions"] == []
    server.stop()
    # The trigger's time passes while the server is down.
    time.sleep(max(0.0, (first - datetime.now(UTC)).total_seconds() + 1))
    server.start()
    with httpx.Client(base_url=f"{server.base_url}/v2", timeout=60) as api:

        def finished() -> list[dict[str, Any]]:
            found = api.get("/executions").json()["executions"]
            return [e for e in found if e["state"] == "SUCCESS"]

        (execution,) = eventually(finished)
        assert json.loads(execution["input"]) == {"x": "late"}
        fault(api.get("/cron_triggers/once"), 404)  # its only firing is spent
        assert len(api.get("/executions").json()["executions"]) == 1


# -- event triggers ------------------------------------------------------------------------


def test_event_triggers(api: httpx.Client) -> None:
    workflow = create_workflow(api, "on-event")
    body = {
        "name": "created",
        "workflow_id": workflow["id"],
        "exchange": "nova",
        "topic": "notifications",
        "event": "compute.instance.create.end",
        "workflow_input": json.dumps({"x": 1}),
    }
    created = api.post("/event_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger = created.json()
    assert trigger["exchange"] == "nova"
    assert json.loads(trigger["workflow_input"]) == {"x": 1}
    assert json.loads(trigger["workflow_params"]) == {}
    assert trigger["scope"] == "private"
    assert api.get(f"/event_triggers/{trigger['id']}").json()["event"] == body["event"]
    listed = api.get("/event_triggers", params={"topic": "notifications"}).json()
    assert [t["id"] for t in listed["event_triggers"]] == [trigger["id"]]

    renamed = api.put(f"/event_triggers/{trigger['id']}", json={"name": "made"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "made"
    fault(api.put(f"/event_triggers/{trigger['id']}", json={"topic": "other"}), 400)
    fault(api.put(f"/event_triggers/{trigger['id']}", json={"workflow_id": "other"}), 400)
    same = api.put(f"/event_triggers/{trigger['id']}", json={"topic": "notifications"})
    assert same.status_code == 200, same.text
    fault(api.put("/event_triggers/no-such-trigger", json={"name": "x"}), 404)
    assert "Duplicate" in fault(api.post("/event_triggers", json=body), 409)
    fault(api.post("/event_triggers", json={**body, "exchange": ""}), 400)
    fault(api.post("/event_triggers", json={**body, "workflow_id": "nope"}), 404)
    fault(api.post("/event_triggers", json={**body, "workflow_input": {"q": 1}}), 400)
    message = fault(api.delete(f"/workflows/{workflow['id']}"), 400)
    assert "event triggers" in message

    assert api.delete(f"/event_triggers/{trigger['id']}").status_code == 204
    fault(api.get(f"/event_triggers/{trigger['id']}"), 404)
    fault(api.delete(f"/event_triggers/{trigger['id']}"), 404)
    assert api.delete(f"/workflows/{workflow['id']}").status_code == 204


# -- the service itself ----------------------------------------------------------------------


def test_services(api: httpx.Client) -> None:
    services = api.get("/services").json()["services"]
    assert sorted(s["type"] for s in services) == [
        "api_group",
        "engine_group",
        "executor_group",
        "scheduler_group",
    ]
    assert all(s["name"] for s in services)


def test_metrics_and_structured_logs(api: httpx.Client, module_server: ServerProcess) -> None:
    create_workflow(api, "measured")
    started = api.post("/executions", json={"workflow_name": "measured", "input": {"x": 1}})
    assert started.status_code == 201, started.text
    execution_id = started.json()["id"]
    eventually(lambda: api.get(f"/executions/{execution_id}").json()["state"] == "SUCCESS")

    metrics = httpx.get(f"{module_server.base_url}/metrics", timeout=30)
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert 'meltemi_workflow_executions{state="SUCCESS"}' in text
    assert 'meltemi_task_executions{state="SUCCESS"}' in text
    assert "meltemi_runtime_queue_depth" in text
    assert 'meltemi_action_duration_seconds_count{action="std.echo",outcome="success"}' in text
    assert 'meltemi_http_requests_total{method="POST",status="201"}' in text

    def logged() -> list[dict[str, Any]]:
        return [
            line
            for line in module_server.log_lines()
            if line.get("event") == "execution.state_changed"
            and line.get("execution_id") == execution_id
        ]

    changes = eventually(lambda: [c for c in logged() if c["state"] == "SUCCESS"] and logged())
    assert [c["state"] for c in changes] == ["RUNNING", "SUCCESS"]
    assert changes[0]["workflow_name"] == "measured"
    requests = [
        line
        for line in module_server.log_lines()
        if line.get("event") == "api.request" and line.get("path") == "/v2/executions"
    ]
    assert any(r["method"] == "POST" and r["status"] == 201 for r in requests)
    assert all(isinstance(r["duration_ms"], float | int) for r in requests)


def test_xml_and_oversized_bodies_are_refused(api: httpx.Client) -> None:
    xml = "<workflow/>"
    for content_type in ("application/xml", "text/xml; charset=utf-8"):
        response = api.post("/workflows", content=xml, headers={"Content-Type": content_type})
        assert "XML" in fault(response, 415)
    fault(api.post("/executions", content=xml, headers={"Content-Type": "text/xml"}), 415)
    huge = "#" * (16 * 1024 * 1024 + 1)
    assert "limit" in fault(api.post("/workbooks", content=huge, headers=TEXT), 413)


def test_openapi_describes_the_new_resources(module_server: ServerProcess) -> None:
    paths = httpx.get(f"{module_server.base_url}/openapi.json", timeout=30).json()["paths"]
    for path in (
        "/v2/workbooks",
        "/v2/workbooks/{name}",
        "/v2/actions",
        "/v2/actions/{identifier}",
        "/v2/cron_triggers",
        "/v2/cron_triggers/{identifier}",
        "/v2/event_triggers",
        "/v2/event_triggers/{trigger_id}",
        "/v2/services",
        "/metrics",
    ):
        assert path in paths, path
