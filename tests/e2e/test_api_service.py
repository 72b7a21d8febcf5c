"""The service itself through HTTP: /v2/services, /metrics, structured logs, refused
bodies, and the OpenAPI document."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fixtures.http import TEXT, create_workflow, eventually, fault
from tests.fixtures.server import ServerProcess


def test_services(v2: httpx.Client) -> None:
    services = v2.get("/services").json()["services"]
    assert sorted(s["type"] for s in services) == [
        "api_group",
        "engine_group",
        "executor_group",
        "scheduler_group",
    ]
    assert all(s["name"] for s in services)


def test_metrics_and_structured_logs(v2: httpx.Client, module_server: ServerProcess) -> None:
    create_workflow(v2, "measured")
    started = v2.post("/executions", json={"workflow_name": "measured", "input": {"x": 1}})
    assert started.status_code == 201, started.text
    execution_id = started.json()["id"]
    eventually(lambda: v2.get(f"/executions/{execution_id}").json()["state"] == "SUCCESS")

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

    def requests() -> list[dict[str, Any]]:
        return [
            line
            for line in module_server.log_lines()
            if line.get("event") == "api.request" and line.get("path") == "/v2/executions"
        ]

    # The line is written once the answer is sent, so it may come a moment later.
    eventually(lambda: [r for r in requests() if r["method"] == "POST" and r["status"] == 201])
    assert all(isinstance(r["duration_ms"], float | int) for r in requests())


def test_xml_and_oversized_bodies_are_refused(v2: httpx.Client) -> None:
    xml = "<workflow/>"
    for content_type in ("application/xml", "text/xml; charset=utf-8"):
        response = v2.post("/workflows", content=xml, headers={"Content-Type": content_type})
        assert "XML" in fault(response, 415)
    fault(v2.post("/executions", content=xml, headers={"Content-Type": "text/xml"}), 415)
    huge = "#" * (16 * 1024 * 1024 + 1)
    assert "limit" in fault(v2.post("/workbooks", content=huge, headers=TEXT), 413)


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


def test_control_characters_in_an_error_do_not_break_the_answer(v2: httpx.Client) -> None:
    for path in ("/workflows", "/event_triggers", "/cron_triggers"):
        response = v2.get(path, params={"fields": "\x00\x01"})
        assert "\x00" in fault(response, 400)
        assert response.headers["Server-Error-Message"].isprintable()
