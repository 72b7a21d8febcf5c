"""Cron and event triggers through the REST API of a real ``meltemi server``: a cron
trigger that fires, one that fires after a restart, and refused input."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.fixtures.http import create_workflow, eventually, fault, utc_text
from tests.fixtures.server import ServerProcess


def test_cron_trigger_fires(v2: httpx.Client) -> None:
    workflow = create_workflow(v2, "ticked")
    first = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    created = v2.post(
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
    assert v2.get(f"/cron_triggers/{trigger['id']}").json()["name"] == "every-minute"
    names = [t["name"] for t in v2.get("/cron_triggers").json()["cron_triggers"]]
    assert "every-minute" in names

    def fired() -> list[dict[str, Any]]:
        found = v2.get("/executions", params={"workflow_name": "ticked"}).json()
        return [e for e in found["executions"] if e["state"] == "SUCCESS"]

    (execution,) = eventually(fired)
    description = json.loads(execution["description"])
    assert description == {
        "description": f"Workflow execution created by cron trigger '({trigger['id']})'.",
        "triggered_by": {"type": "cron_trigger", "id": trigger["id"]},
    }
    assert json.loads(execution["input"]) == {"x": 7}
    assert json.loads(execution["params"])["env"] == {"e": 1}
    output = v2.get(f"/executions/{execution['id']}").json()["output"]
    assert json.loads(output) == {"got": 7}

    after = v2.get("/cron_triggers/every-minute").json()
    assert after["remaining_executions"] == 1
    assert after["next_execution_time"].endswith(":00")
    assert after["next_execution_time"] > utc_text(first)

    message = fault(v2.delete(f"/workflows/{workflow['id']}"), 400)
    assert "Can't delete workflow that has cron triggers associated" in message
    assert v2.delete("/cron_triggers/every-minute").status_code == 204
    fault(v2.get("/cron_triggers/every-minute"), 404)
    fault(v2.delete("/cron_triggers/every-minute"), 404)
    assert v2.delete(f"/workflows/{workflow['id']}").status_code == 204


def _cron(v2: httpx.Client, **body: Any) -> httpx.Response:
    base = {"name": "bad", "workflow_name": "checked", "pattern": "0 * * * *"}
    return v2.post("/cron_triggers", json={**base, **body})


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
    v2: httpx.Client, body: dict[str, Any], status: int, words: str
) -> None:
    if v2.get("/workflows/checked").status_code == 404:
        create_workflow(v2, "checked")
    message = fault(_cron(v2, **{"workflow_input": {"x": 1}, **body}), status)
    assert words in message, message


def test_cron_trigger_conflicts_and_bad_bodies(v2: httpx.Client) -> None:
    if v2.get("/workflows/checked").status_code == 404:
        create_workflow(v2, "checked")
    assert _cron(v2, name="hourly", workflow_input={"x": 1}).status_code == 201
    assert "hourly" in fault(_cron(v2, name="hourly", workflow_input={"x": 1}), 409)
    # As in Mistral, a second name for the same workflow, input and schedule is a
    # conflict too; a different input, first time or count is not.
    assert "hourly" in fault(_cron(v2, name="twin", workflow_input={"x": 1}), 409)
    first = "2999-01-01 00:00"
    for name, changes in [
        ("other-input", {"workflow_input": {"x": 2}}),
        ("counted", {"workflow_input": {"x": 1}, "remaining_executions": "3"}),
        ("later", {"workflow_input": {"x": 1}, "first_execution_time": first}),
    ]:
        made = _cron(v2, name=name, **changes)
        assert made.status_code == 201, made.text
    assert "later" in fault(
        _cron(v2, name="later-twin", workflow_input={"x": 1}, first_execution_time=first), 409
    )
    for name in ("other-input", "counted", "later"):
        assert v2.delete(f"/cron_triggers/{name}").status_code == 204
    assert "JSON" in fault(
        v2.post("/cron_triggers", content="{", headers={"Content-Type": "application/json"}),
        400,
    )
    fault(v2.post("/cron_triggers", json=[1, 2]), 400)
    fault(v2.get("/cron_triggers", params={"remaining_executions": "lots"}), 400)
    assert v2.delete("/cron_triggers/hourly").status_code == 204


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


def test_event_triggers(v2: httpx.Client) -> None:
    workflow = create_workflow(v2, "on-event")
    body = {
        "name": "created",
        "workflow_id": workflow["id"],
        "exchange": "nova",
        "topic": "notifications",
        "event": "compute.instance.create.end",
        "workflow_input": json.dumps({"x": 1}),
    }
    created = v2.post("/event_triggers", json=body)
    assert created.status_code == 201, created.text
    trigger = created.json()
    assert trigger["exchange"] == "nova"
    assert json.loads(trigger["workflow_input"]) == {"x": 1}
    assert json.loads(trigger["workflow_params"]) == {}
    assert trigger["scope"] == "private"
    assert v2.get(f"/event_triggers/{trigger['id']}").json()["event"] == body["event"]
    listed = v2.get("/event_triggers", params={"topic": "notifications"}).json()
    assert [t["id"] for t in listed["event_triggers"]] == [trigger["id"]]

    renamed = v2.put(f"/event_triggers/{trigger['id']}", json={"name": "made"})
    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "made"
    fault(v2.put(f"/event_triggers/{trigger['id']}", json={"topic": "other"}), 400)
    fault(v2.put(f"/event_triggers/{trigger['id']}", json={"workflow_id": "other"}), 400)
    same = v2.put(f"/event_triggers/{trigger['id']}", json={"topic": "notifications"})
    assert same.status_code == 200, same.text
    fault(v2.put("/event_triggers/no-such-trigger", json={"name": "x"}), 404)
    assert "Duplicate" in fault(v2.post("/event_triggers", json=body), 409)
    fault(v2.post("/event_triggers", json={**body, "exchange": ""}), 400)
    # As in Mistral: a workflow_id that is no UUID is a bad request, an unknown one
    # is not found.
    assert "Expected a uuid" in fault(
        v2.post("/event_triggers", json={**body, "workflow_id": "nope"}), 400
    )
    unknown = "00000000-0000-4000-8000-000000000000"
    fault(v2.post("/event_triggers", json={**body, "workflow_id": unknown}), 404)
    fault(v2.post("/event_triggers", json={**body, "workflow_input": {"q": 1}}), 400)
    message = fault(v2.delete(f"/workflows/{workflow['id']}"), 400)
    assert "event triggers" in message

    assert v2.delete(f"/event_triggers/{trigger['id']}").status_code == 204
    fault(v2.get(f"/event_triggers/{trigger['id']}"), 404)
    fault(v2.delete(f"/event_triggers/{trigger['id']}"), 404)
    assert v2.delete(f"/workflows/{workflow['id']}").status_code == 204
