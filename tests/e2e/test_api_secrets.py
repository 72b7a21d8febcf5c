"""Secrets in action input never come back out: not in the API's action executions,
not in a failed task's state_info, not in the server's log."""

from __future__ import annotations

import json

import httpx

from tests.fixtures.http import TEXT, eventually
from tests.fixtures.server import ServerProcess, free_port

PASSWORD = "hunter22-not-for-eyes"
TOKEN = "tok-0123456789"

WORKFLOW = f"""
version: '2.0'
leaky:
  tasks:
    call:
      action: std.http
      input:
        url: http://127.0.0.1:{{port}}/x
        auth: "ann:{PASSWORD}"
        headers: {{X-Auth-Token: {TOKEN}, Accept: application/json}}
      on-error: compute
    compute:
      action: std.javascript
      input:
        context: {{password: {PASSWORD}, user: ann}}
        script: throw new Error("login failed for " + $.user + " with " + $.password)
"""


def test_secrets_are_masked_everywhere(v2: httpx.Client, module_server: ServerProcess) -> None:
    text = WORKFLOW.replace("{port}", str(free_port()))  # nothing listens there
    created = v2.post("/workflows", content=text, headers=TEXT)
    assert created.status_code == 201, created.text
    started = v2.post("/executions", json={"workflow_name": "leaky"})
    execution_id = started.json()["id"]
    eventually(lambda: v2.get(f"/executions/{execution_id}").json()["state"] == "ERROR")

    runs = v2.get("/action_executions", params={"include_output": "true"}).json()
    mine = [r for r in runs["action_executions"] if r["workflow_name"] == "leaky"]
    assert sorted(r["name"] for r in mine) == ["std.http", "std.javascript"]
    http_run = next(r for r in mine if r["name"] == "std.http")
    shown = json.loads(http_run["input"])
    assert shown["auth"] == "***"
    assert shown["headers"] == {"X-Auth-Token": "***", "Accept": "application/json"}
    assert shown["url"].startswith("http://127.0.0.1:")
    js_run = next(r for r in mine if r["name"] == "std.javascript")
    assert json.loads(js_run["input"])["context"] == {"password": "***", "user": "ann"}
    assert "login failed for ann with ***" in json.loads(js_run["output"])["result"]

    execution = v2.get(f"/executions/{execution_id}").json()
    tasks = v2.get(f"/executions/{execution_id}/tasks").json()["tasks"]
    everything = json.dumps([runs, execution, tasks]) + module_server.log()
    assert PASSWORD not in everything
    assert TOKEN not in everything
    assert "login failed for ann with ***" in execution["state_info"]


def test_a_directly_run_action_shows_its_input_masked(v2: httpx.Client) -> None:
    url = f"http://ann:{PASSWORD}@127.0.0.1:{free_port()}/"
    ran = v2.post(
        "/action_executions",
        json={"name": "std.http", "input": {"url": url, "auth": f"bob:{PASSWORD}"}},
    )
    assert ran.status_code == 201, ran.text
    body = ran.json()
    assert json.loads(body["input"]) == {
        "url": url.replace(PASSWORD, "***"),
        "auth": "***",
    }
    assert body["state"] == "ERROR"
    assert PASSWORD not in json.dumps(body)
