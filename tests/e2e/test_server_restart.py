"""Stopping ``meltemi server`` with SIGTERM in the middle of timers and long actions,
and starting it again on the same database: every execution still completes.

Waits that were armed (wait-before, wait-after, retry delays) are stored timers and are
armed again on start; an idempotent action that was still running when the grace time
ran out (std.sleep) is run again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.fixtures.server import ServerFactory

WORKFLOWS = """
version: '2.0'
waits_before:
  tasks:
    late:
      wait-before: 10
      action: std.echo output="waited before"
      publish: {said: <% task().result %>}
  output:
    said: <% $.said %>

retries:
  tasks:
    flaky:
      action: std.fail error_data="not yet"
      retry:
        count: 2
        delay: 8
      on-error: recovered
    recovered:
      action: std.echo output="recovered"
      publish: {said: <% task().result %>}
  output:
    said: <% $.said %>

sleeps:
  tasks:
    nap:
      action: std.sleep seconds=15
      on-success: awake
    awake:
      action: std.echo output="woke up"
      publish: {said: <% task().result %>}
  output:
    said: <% $.said %>
"""

EXPECTED = {
    "waits_before": "waited before",
    "retries": "recovered",
    "sleeps": "woke up",
}

COPIES = 3


def wait_for(probe: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
    deadline = time.monotonic() + 120
    while True:
        value = probe()
        if done(value):
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"gave up waiting for {what}; last value: {value!r}")
        time.sleep(0.1)


def tasks_of(api: httpx.Client, execution_id: str) -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = api.get(f"/v2/executions/{execution_id}/tasks").json()["tasks"]
    return tasks


def mid_flight(api: httpx.Client, name: str, execution_id: str) -> bool:
    """Whether the execution is where the restart should catch it."""
    tasks = {t["name"]: t for t in tasks_of(api, execution_id)}
    if name == "waits_before":
        return tasks.get("late", {}).get("state") == "DELAYED"
    if name == "retries":
        flaky = tasks.get("flaky", {})
        return flaky.get("state") == "DELAYED" and "retry" in (flaky.get("state_info") or "")
    nap = tasks.get("nap", {})
    if nap.get("state") != "RUNNING":
        return False
    runs = api.get(f"/v2/tasks/{nap['id']}/action_executions").json()["action_executions"]
    return any(r["state"] == "RUNNING" for r in runs)


def test_executions_complete_across_a_restart(server_factory: ServerFactory) -> None:
    # A short grace: the sleeps are still running when the server exits.
    server = server_factory(args=("--grace", "1"))
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        api.post(
            "/v2/workflows", content=WORKFLOWS, headers={"content-type": "text/plain"}
        ).raise_for_status()
        started: dict[str, str] = {}
        for name in EXPECTED:
            for _copy in range(COPIES):
                answer = api.post("/v2/executions", json={"workflow_name": name})
                answer.raise_for_status()
                started[answer.json()["id"]] = name
        for execution_id, name in started.items():
            wait_for(
                lambda e=execution_id, n=name: mid_flight(api, n, e),
                bool,
                f"{name} ({execution_id}) to be waiting or running",
            )

    assert server.stop() == 0  # SIGTERM: a clean exit after the grace time
    server.start()

    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        for execution_id, name in started.items():
            execution = wait_for(
                lambda e=execution_id: api.get(f"/v2/executions/{e}").json(),
                lambda e: e["state"] in ("SUCCESS", "ERROR", "CANCELLED"),
                f"{name} ({execution_id}) to finish after the restart",
            )
            assert execution["state"] == "SUCCESS", (name, execution["state_info"])
            output = api.get(f"/v2/executions/{execution_id}").json()["output"]
            assert output == f'{{"said": "{EXPECTED[name]}"}}', name

            tasks = {t["name"]: t for t in tasks_of(api, execution_id)}
            if name == "retries":
                flaky = tasks["flaky"]
                assert flaky["state"] == "ERROR"
                runs = api.get(f"/v2/tasks/{flaky['id']}/action_executions").json()
                assert len(runs["action_executions"]) == 3  # the first try and 2 retries
            if name == "sleeps":
                runs = api.get(f"/v2/tasks/{tasks['nap']['id']}/action_executions").json()
                states = [r["state"] for r in runs["action_executions"]]
                assert "SUCCESS" in states


WAITS_AFTER = """
version: '2.0'
waits_after:
  tasks:
    first:
      action: std.echo output="then waited"
      wait-after: 5
      publish: {said: <% task().result %>}
      on-success: second
    second:
      action: std.noop
  output:
    said: <% $.said %>
"""


def test_wait_after_keeps_the_result_across_a_restart(server_factory: ServerFactory) -> None:
    server = server_factory()
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        api.post(
            "/v2/workflows", content=WAITS_AFTER, headers={"content-type": "text/plain"}
        ).raise_for_status()
        execution_id = api.post("/v2/executions", json={"workflow_name": "waits_after"}).json()[
            "id"
        ]
        wait_for(
            lambda: [t["state"] for t in tasks_of(api, execution_id)],
            lambda states: states == ["DELAYED"],
            "the task 'first' to wait after its action",
        )
    server.stop()
    server.start()
    with httpx.Client(base_url=server.base_url, timeout=30) as api:
        execution = wait_for(
            lambda: api.get(f"/v2/executions/{execution_id}").json(),
            lambda e: e["state"] in ("SUCCESS", "ERROR", "CANCELLED"),
            "the execution to finish after the restart",
        )
    assert execution["state"] == "SUCCESS"
    assert execution["output"] == '{"said": "then waited"}'


def test_sigterm_exits_cleanly(server_factory: ServerFactory) -> None:
    server = server_factory()
    assert server.stop() == 0
    events = [line.get("event") for line in server.log_lines()]
    assert "server.stopped" in events
