"""HTTP actions in workflows, through a Runtime: std.mistral_http's callback, task
timeouts that cancel a request, and std.http over with-items."""

from __future__ import annotations

from meltemi.engine import State
from meltemi.services.action_runs import ActionRuns
from meltemi.services.executions import Executions
from tests.fixtures.runtime import RuntimeFactory
from tests.integration.actions.servers import HttpServer, wait_until

CALLBACK = """
version: '2.0'
callback:
  input: [url]
  tasks:
    call:
      action: std.mistral_http
      input:
        url: <% $.url %>
        method: POST
        json: {job: 7}
      publish: {answer: <% task().result %>}
  output:
    answer: <% $.answer %>
"""

TIMEOUT = """
version: '2.0'
slow:
  input: [url]
  tasks:
    call:
      action: std.http url=<% $.url %>
      timeout: 1
"""

ITEMS = """
version: '2.0'
items:
  input: [base, n]
  tasks:
    calls:
      with-items: i in <% range($.n) %>
      concurrency: 5
      action: std.http url="<% $.base %>/echo?i=<% $.i %>"
      publish:
        seen: <% task().result.select($.content.query.i) %>
  output:
    seen: <% $.seen %>
"""


def test_mistral_http_result_comes_through_the_callback(
    sqlite_url: str, runtime_factory: RuntimeFactory, http: HttpServer
) -> None:
    runtime = runtime_factory(sqlite_url, callback_base="http://meltemi.test:8989/")
    runtime.definitions.create_workflows(CALLBACK)
    execution = Executions(runtime).start("callback", input={"url": f"{http.url}/echo"})
    wait_until(lambda: http.recorded("/echo"), what="the request of std.mistral_http")
    [request] = http.recorded("/echo")
    run_id = request.headers["Mistral-Action-Execution-Id"]
    assert request.headers["Mistral-Workflow-Name"] == "callback"
    assert request.headers["Mistral-Workflow-Execution-Id"] == execution.id
    assert request.headers["Mistral-Task-Id"]
    assert request.headers["Mistral-Callback-URL"] == (
        f"http://meltemi.test:8989/v2/action_executions/{run_id}"
    )
    assert request.body == b'{"job":7}'
    assert runtime.execution(execution.id).state is State.RUNNING

    ActionRuns(runtime).complete(run_id, State.SUCCESS, {"done": True})
    final = runtime.wait(execution.id, timeout=60)
    assert final.state is State.SUCCESS, final.state_info
    assert final.output == {"answer": {"done": True}}


def test_mistral_http_fails_at_once_when_the_request_fails(
    sqlite_url: str, runtime_factory: RuntimeFactory, http: HttpServer
) -> None:
    runtime = runtime_factory(sqlite_url)
    runtime.definitions.create_workflows(CALLBACK)
    execution = Executions(runtime).start("callback", input={"url": f"{http.url}/status/503"})
    final = runtime.wait(execution.id, timeout=60)
    assert final.state is State.ERROR
    assert '"status": 503' in (final.state_info or "")


def test_task_timeout_cancels_the_request(
    sqlite_url: str, runtime_factory: RuntimeFactory, http: HttpServer
) -> None:
    runtime = runtime_factory(sqlite_url)
    runtime.definitions.create_workflows(TIMEOUT)
    execution = Executions(runtime).start("slow", input={"url": f"{http.url}/slow"})
    final = runtime.wait(execution.id, timeout=60)
    assert final.state is State.ERROR
    assert "timed out" in (final.state_info or "").lower(), final.state_info
    assert http.slow_started.is_set()


def test_with_items_over_http(
    sqlite_url: str, runtime_factory: RuntimeFactory, http: HttpServer
) -> None:
    runtime = runtime_factory(sqlite_url)
    runtime.definitions.create_workflows(ITEMS)
    execution = Executions(runtime).start("items", input={"base": http.url, "n": 20})
    final = runtime.wait(execution.id, timeout=120)
    assert final.state is State.SUCCESS, final.state_info
    assert final.output == {"seen": [str(i) for i in range(20)]}
