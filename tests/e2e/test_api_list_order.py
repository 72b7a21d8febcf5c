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


def _follow(v2: httpx.Client, first: str, key: str) -> list[dict]:
    """Every page of a list, following its ``next`` links."""
    found: list[dict] = []
    url: str | None = first
    while url:
        page = v2.get(url.split("/v2", 1)[1] if url.startswith("http") else url)
        assert page.status_code == 200, page.text
        found += page.json()[key]
        url = page.json().get("next")
    return found


def test_next_links_are_laid_out_as_mistrals_and_walk_every_page(v2: httpx.Client) -> None:
    assert v2.post("/workflows", content=FORK, headers=TEXT).status_code in (201, 409)
    started = v2.post("/executions", json={"workflow_name": "fork_order"}).json()
    execution_id = started["id"]
    eventually(lambda: v2.get(f"/executions/{execution_id}").json()["state"] == "SUCCESS")

    first = v2.get(
        "/tasks",
        params={
            "workflow_execution_id": execution_id,
            "sort_keys": "created_at",
            "sort_dirs": "desc",
            "limit": "2",
            "fields": "name",
        },
    ).json()
    link = first["next"]
    query = link.split("?", 1)[1]
    # As in Mistral: the sort with its id tiebreak and a direction for each key, the
    # filters, limit, marker, and the fields with id.
    assert query == (
        "sort_keys=created_at,id&sort_dirs=desc,asc"
        f"&workflow_execution_id={execution_id}&limit=2&marker={first['tasks'][-1]['id']}"
        "&fields=id,name"
    )
    everything = v2.get(
        "/tasks",
        params={"workflow_execution_id": execution_id, "sort_keys": "created_at"},
    ).json()["tasks"]
    walked = _follow(
        v2, f"/tasks?workflow_execution_id={execution_id}&sort_keys=created_at&limit=2", "tasks"
    )
    # Tasks made in one transaction share created_at: the pages still neither skip nor
    # repeat any of them, and keep their creation order.
    assert [t["id"] for t in walked] == [t["id"] for t in everything]


def test_a_sort_key_given_twice_counts_once(v2: httpx.Client) -> None:
    # As in Mistral: "id,id" is one key, so two directions are one too many.
    answer = v2.get("/workflows", params={"sort_keys": "id,id", "sort_dirs": "asc,asc"})
    assert answer.status_code == 400, answer.text
    assert "Length of sort_keys must be equal or greater than sort_dirs" in answer.text
    assert v2.get("/workflows", params={"sort_keys": "id,id", "sort_dirs": "asc"}).is_success


def test_sort_keys_directions_and_fields_are_read_in_any_case(v2: httpx.Client) -> None:
    # As Mistral reads them (the mistral CLI's own tests sort by "Description").
    assert v2.post("/workflows", content=FORK, headers=TEXT).status_code in (201, 409)
    for description in ("b", "a"):
        started = v2.post(
            "/executions", json={"workflow_name": "fork_order", "description": description}
        )
        assert started.status_code == 201, started.text
    listed = v2.get(
        "/executions",
        params={"sort_keys": "Description", "sort_dirs": "DESC", "fields": "Description"},
    )
    assert listed.status_code == 200, listed.text
    descriptions = [e["description"] for e in listed.json()["executions"]]
    assert descriptions == sorted(descriptions, reverse=True)
    assert {"a", "b"} <= set(descriptions)
    assert all(set(e) == {"id", "description"} for e in listed.json()["executions"])
