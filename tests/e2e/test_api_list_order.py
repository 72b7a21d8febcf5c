"""Rows written in one transaction share their created_at: lists still give them in
the order they were made (tasks by creation, action executions by item index), and
pages walked with ``marker`` neither skip nor repeat any of them."""

from __future__ import annotations

import httpx

from tests.fixtures.http import TEXT, eventually

FORK = """
version: '2.0'
fork_order:
  tasks:
    start:
      action: std.noop
      on-success: [zulu, alpha, mike, bravo, yankee, charlie, xray]
    zulu: {action: std.noop}
    alpha: {action: std.noop}
    mike: {action: std.noop}
    bravo: {action: std.noop}
    yankee: {action: std.noop}
    charlie: {action: std.noop}
    xray: {action: std.noop}
    items:
      with-items: i in <% range(12) %>
      action: std.echo output=<% $.i %>
"""
BRANCHES = ["zulu", "alpha", "mike", "bravo", "yankee", "charlie", "xray"]


def _walk(v2: httpx.Client, path: str, key: str, params: dict[str, str]) -> list[dict]:
    found: list[dict] = []
    marker = None
    while True:
        page = v2.get(
            path, params={**params, "limit": "3", **({"marker": marker} if marker else {})}
        )
        assert page.status_code == 200, page.text
        rows = page.json()[key]
        found += rows
        if len(rows) < 3:
            return found
        marker = rows[-1]["id"]


def test_tasks_and_action_executions_keep_their_order(v2: httpx.Client) -> None:
    assert v2.post("/workflows", content=FORK, headers=TEXT).status_code == 201
    started = v2.post("/executions", json={"workflow_name": "fork_order"}).json()
    execution_id = started["id"]
    eventually(lambda: v2.get(f"/executions/{execution_id}").json()["state"] == "SUCCESS")

    tasks = v2.get("/tasks", params={"workflow_execution_id": execution_id}).json()["tasks"]
    names = [t["name"] for t in tasks]
    assert names[0] == "start"
    assert [n for n in names if n in BRANCHES] == BRANCHES
    walked = _walk(v2, "/tasks", "tasks", {"workflow_execution_id": execution_id})
    assert [t["name"] for t in walked] == names

    items = next(t for t in tasks if t["name"] == "items")
    listed = v2.get(
        "/action_executions",
        params={"task_execution_id": items["id"], "include_output": "true"},
    ).json()["action_executions"]
    assert [r["output"] for r in listed] == [f'{{"result": {i}}}' for i in range(12)]
    walked_runs = _walk(
        v2, "/action_executions", "action_executions", {"task_execution_id": items["id"]}
    )
    assert [r["id"] for r in walked_runs] == [r["id"] for r in listed]
