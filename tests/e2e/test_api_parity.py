"""Where the REST API answered otherwise than Mistral 23.0.0 (compared side by side with
a real Mistral): status codes, which arguments a list takes, filter operators, state
changes, sub-executions and the report. Each test runs against a real ``meltemi
server``."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.fixtures.http import TEXT, eventually, fault

NESTED = """
version: '2.0'
top:
  tasks:
    a:
      workflow: mid
      on-complete: [b]
    b:
      workflow: leaf
      input: {fail: true}
mid:
  tasks:
    m1:
      workflow: leaf
    m2:
      with-items: i in [1, 2]
      workflow: leaf
leaf:
  input: [fail: false]
  tasks:
    l:
      action: std.echo output=1
      on-success:
        - f: <% $.fail %>
    f:
      action: std.fail
ok:
  tasks:
    t:
      action: std.noop
bad:
  tasks:
    t:
      action: std.fail
waits:
  tasks:
    t:
      action: std.async_noop
items:
  tasks:
    free:
      with-items: i in [1, 2, 3]
      action: std.echo output=<% $.i %>
    capped:
      with-items: i in [1, 2, 3]
      concurrency: 2
      action: std.echo output=<% $.i %>
"""


BOOK = """
version: '2.0'
name: {name}
workflows:
  w:
    tasks:
      t:
        action: std.noop
"""


@pytest.fixture(scope="module")
def api(v2: httpx.Client) -> httpx.Client:
    created = v2.post("/workflows", content=NESTED, headers=TEXT)
    assert created.status_code == 201, created.text
    return v2


def run(api: httpx.Client, workflow: str, *, until: tuple[str, ...] = ("SUCCESS", "ERROR")) -> str:
    started = api.post("/executions", json={"workflow_name": workflow})
    assert started.status_code == 201, started.text
    execution_id: str = started.json()["id"]

    def ended() -> bool:
        return api.get(f"/executions/{execution_id}").json()["state"] in until

    eventually(ended)
    return execution_id


def _names(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["workflow_name"], e["state"]) for e in body["executions"]]


@pytest.mark.parametrize(
    "path",
    [
        "/workflows",
        "/workbooks",
        "/actions",
        "/executions",
        "/tasks",
        "/action_executions",
        "/environments",
        "/cron_triggers",
        "/event_triggers",
    ],
)
def test_a_list_refuses_an_argument_it_does_not_know(api: httpx.Client, path: str) -> None:
    message = fault(api.get(path, params={"zzz": "1"}), 400)
    assert message.startswith('Unknown argument: "zzz"')
    assert api.get(path, params={"limit": "1", "sort_dirs": "asc"}).status_code == 200


def test_lists_take_the_filters_mistral_takes(api: httpx.Client) -> None:
    # Tasks and action executions have no tags: a filter on them matches nothing.
    run(api, "ok")
    assert api.get("/tasks", params={"tags": "x"}).json()["tasks"] == []
    assert api.get("/action_executions", params={"tags": "x"}).json()["action_executions"] == []
    runs = api.get("/action_executions", params={"input": "has:zzz"}).json()
    assert runs["action_executions"] == []
    for name in ("include_output", "all_projects", "project_id", "nulls"):
        value = "root_execution_id" if name == "nulls" else "false"
        assert api.get("/executions", params={name: value}).status_code == 200, name


def test_state_filters_take_operators(api: httpx.Client) -> None:
    done = run(api, "ok")
    failed = run(api, "bad")
    listed = api.get("/executions", params={"state": "in:SUCCESS,ERROR"})
    assert listed.status_code == 200, listed.text
    ids = {e["id"] for e in listed.json()["executions"]}
    assert {done, failed} <= ids
    only_errors = api.get("/executions", params={"state": "neq:SUCCESS"}).json()
    assert failed in {e["id"] for e in only_errors["executions"]}
    assert done not in {e["id"] for e in only_errors["executions"]}
    # No execution is ever in a state that does not exist (Mistral answers an empty list).
    assert api.get("/executions", params={"state": "NOPE"}).json() == {"executions": []}

    tasks = api.get("/tasks", params={"state": "in:ERROR", "workflow_execution_id": failed})
    assert tasks.status_code == 200, tasks.text
    assert [t["name"] for t in tasks.json()["tasks"]] == ["t"]
    nested = api.get(f"/executions/{failed}/tasks", params={"state": "nin:ERROR"})
    assert nested.json() == {"tasks": []}


def test_tasks_of_an_unknown_execution_is_a_404(api: httpx.Client) -> None:
    fault(api.get("/executions/00000000-0000-0000-0000-000000000000/tasks"), 404)
    # An unknown execution is a 404 before anything wrong in the update is a 400.
    unknown = "/executions/00000000-0000-0000-0000-000000000000"
    fault(api.put(unknown, json={"state": "RUNNING", "description": "x"}), 404)


def test_an_ended_execution_cannot_be_paused_or_made_to_succeed(api: httpx.Client) -> None:
    done = run(api, "ok")
    failed = run(api, "bad")
    for execution_id, current in ((done, "SUCCESS"), (failed, "ERROR")):
        message = fault(api.put(f"/executions/{execution_id}", json={"state": "PAUSED"}), 400)
        assert f"from {current} to PAUSED" in message
    message = fault(api.put(f"/executions/{failed}", json={"state": "SUCCESS"}), 400)
    assert "from ERROR to SUCCESS" in message
    # Ending an ended execution again changes nothing, as in Mistral.
    for state in ("SUCCESS", "ERROR", "CANCELLED", "RUNNING"):
        again = api.put(f"/executions/{done}", json={"state": state})
        assert again.status_code == 200, again.text
        assert again.json()["state"] == "SUCCESS"

    cancelled = run(api, "waits", until=("RUNNING",))
    assert api.put(f"/executions/{cancelled}", json={"state": "CANCELLED"}).status_code == 200
    for state in ("PAUSED", "SUCCESS"):
        fault(api.put(f"/executions/{cancelled}", json={"state": state}), 400)


def test_sub_executions_start_with_the_execution_itself(api: httpx.Client) -> None:
    top = run(api, "top")

    def subs(**params: Any) -> list[tuple[str, str]]:
        answer = api.get(f"/executions/{top}/executions", params=params)
        assert answer.status_code == 200, answer.text
        return _names(answer.json())

    assert subs() == [
        ("top", "ERROR"),
        ("mid", "SUCCESS"),
        ("leaf", "SUCCESS"),
        ("leaf", "SUCCESS"),
        ("leaf", "SUCCESS"),
        ("leaf", "ERROR"),
    ]
    assert subs(errors_only="") == subs()  # what python-mistralclient sends
    assert subs(errors_only="true") == [("top", "ERROR"), ("leaf", "ERROR")]
    assert subs(max_depth=0) == [("top", "ERROR")]
    assert subs(max_depth=1) == [("top", "ERROR"), ("mid", "SUCCESS"), ("leaf", "ERROR")]
    with_output = api.get(f"/executions/{top}/executions", params={"include_output": "true"})
    assert all("output" in e for e in with_output.json()["executions"])
    assert all(
        "output" not in e for e in api.get(f"/executions/{top}/executions").json()["executions"]
    )
    fault(api.get("/executions/00000000-0000-0000-0000-000000000000/executions"), 404)

    tasks = api.get(f"/executions/{top}/tasks").json()["tasks"]
    task_a = next(t["id"] for t in tasks if t["name"] == "a")
    below = api.get(f"/tasks/{task_a}/executions").json()
    assert _names(below) == [
        ("mid", "SUCCESS"),
        ("leaf", "SUCCESS"),
        ("leaf", "SUCCESS"),
        ("leaf", "SUCCESS"),
    ]
    assert _names(api.get(f"/tasks/{task_a}/executions", params={"max_depth": 0}).json()) == [
        ("mid", "SUCCESS")
    ]
    assert api.get(f"/tasks/{task_a}/executions", params={"errors_only": "true"}).json() == {
        "executions": []
    }
    direct = api.get(f"/tasks/{task_a}/workflow_executions").json()
    assert _names(direct) == [("mid", "SUCCESS")]


def test_report_statistics_have_the_estimated_time(api: httpx.Client) -> None:
    done = run(api, "ok")
    report = api.get(f"/executions/{done}/report").json()
    assert report["statistics"]["estimated_time"] == 0
    (task,) = report["root_workflow_execution"]["task_executions"]
    assert "retry_count" not in task  # only a retried task has one (the CLI prints it)

    running = run(api, "waits", until=("RUNNING",))
    estimate = api.get(f"/executions/{running}/report").json()["statistics"]
    assert estimate["estimated_time"] == -1  # no successful run of 'waits' to go by
    api.put(f"/executions/{running}", json={"state": "CANCELLED"})


@pytest.mark.parametrize("collection", ["workflows", "workbooks", "actions"])
def test_validating_an_empty_definition_says_it_is_not_valid(
    api: httpx.Client, collection: str
) -> None:
    answer = api.post(f"/{collection}/validate", content="", headers=TEXT)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["valid"] is False
    assert "empty" in body["error"]
    # Creating from nothing stays a 400.
    fault(api.post(f"/{collection}", content="", headers=TEXT), 400)


@pytest.mark.parametrize("collection", ["workflows", "workbooks", "actions"])
def test_a_definition_quoting_lone_surrogates_is_answered_not_a_500(
    api: httpx.Client, collection: str
) -> None:
    # A YAML escape can make a lone surrogate, which the error then quotes.
    text = '{"\\ud91e": 1}'
    fault(api.post(f"/{collection}", content=text, headers=TEXT), 400)
    checked = api.post(f"/{collection}/validate", content=text, headers=TEXT)
    assert checked.status_code == 200, checked.text
    assert checked.json()["valid"] is False


def test_an_unsaved_action_run_has_a_null_id(api: httpx.Client) -> None:
    ran = api.post("/action_executions", json={"name": "std.echo", "input": {"output": "hi"}})
    assert ran.status_code == 201, ran.text
    body = ran.json()
    assert body["id"] is None
    assert body["output"] == '{"result": "hi"}'
    saved = api.post(
        "/action_executions",
        json={"name": "std.echo", "input": {"output": 1}, "params": {"save_result": True}},
    )
    assert saved.json()["id"]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("GET", None),
        ("POST", {"member_id": "other"}),
    ],
)
def test_workflow_members_need_authentication(
    api: httpx.Client, path: str, body: dict[str, str] | None
) -> None:
    workflow = api.get("/workflows/ok").json()
    members = f"/workflows/{workflow['id']}/members"
    assert "authentication" in fault(api.request(path, members, json=body), 400)
    for method in ("GET", "PUT", "DELETE"):
        fault(api.request(method, f"{members}/other", json={"status": "accepted"}), 400)
    # The workflow itself is still there under its name, with a namespace path too.
    assert api.get(f"/workflows/{workflow['id']}").status_code == 200


@pytest.mark.parametrize("resource", ["executions", "tasks", "workbooks", "environments"])
def test_getting_a_field_that_does_not_exist_is_a_400(api: httpx.Client, resource: str) -> None:
    if resource == "executions":
        identifier = run(api, "ok")
    elif resource == "tasks":
        identifier = api.get("/tasks", params={"limit": 1}).json()["tasks"][0]["id"]
    elif resource == "workbooks":
        book = BOOK.format(name="fielded")
        assert api.post("/workbooks", content=book, headers=TEXT).status_code == 201
        identifier = "fielded"
    else:
        assert (
            api.post("/environments", json={"name": "fielded", "variables": {}}).status_code == 201
        )
        identifier = "fielded"
    assert "zzz" in fault(api.get(f"/{resource}/{identifier}", params={"fields": "state,zzz"}), 400)
    picked = api.get(f"/{resource}/{identifier}", params={"fields": "created_at"})
    assert set(picked.json()) == {"id", "created_at"}


def test_an_error_whose_first_line_ends_in_a_space_is_answered(api: httpx.Client) -> None:
    # \x1e ends a line for Python: the header (the faultstring's first line) would end in
    # a space, which HTTP forbids, and the server used to drop the connection.
    answer = api.get("/workflows/%1E/members/0")
    assert "authentication" in fault(answer, 400)
    assert not answer.headers["Server-Error-Message"].endswith(" ")


def test_a_trailing_slash_is_the_same_path(api: httpx.Client) -> None:
    listed = api.get("/workflows/", params={"name": "ok"})
    assert listed.status_code == 200, listed.text
    assert [w["name"] for w in listed.json()["workflows"]] == ["ok"]
    assert api.get("/workflows/ok/").json()["name"] == "ok"
    created = api.post("/environments/", json={"name": "slashed", "variables": {}})
    assert created.status_code == 201, created.text
    assert api.delete("/environments/slashed/").status_code == 204
    assert api.get("/").status_code == 200  # /v2/ itself


def test_a_marker_that_is_an_unknown_id_is_a_404(api: httpx.Client) -> None:
    unknown = "00000000-0000-0000-0000-000000000000"
    for collection in ("executions", "tasks", "workflows", "environments"):
        fault(api.get(f"/{collection}", params={"marker": unknown}), 404)
    fault(api.get("/executions", params={"marker": "not-an-id"}), 400)


def test_created_and_updated_workflows_have_their_interface_as_an_object(
    api: httpx.Client,
) -> None:
    text = (
        "version: '2.0'\nshaped:\n  input: [a, b: 1]\n  output: {c: 1}\n"
        "  tasks: {t: {action: std.noop}}\n"
    )
    interface = {"input": ["a", {"b": 1}], "output": ["c"]}
    (created,) = api.post("/workflows", content=text, headers=TEXT).json()["workflows"]
    assert created["interface"] == interface
    (updated,) = api.put("/workflows", content=text, headers=TEXT).json()["workflows"]
    assert updated["interface"] == interface
    by_id = api.put(f"/workflows/{created['id']}", content=text, headers=TEXT).json()
    assert by_id["interface"] == interface
    # A get answers it as JSON text, as every other JSON field.
    got = api.get(f"/workflows/{created['id']}").json()
    assert isinstance(got["interface"], str)
    assert (
        api.get("/workflows", params={"name": "shaped"}).json()["workflows"][0]["interface"]
        == got["interface"]
    )


def test_with_items_runtime_context_is_shaped_as_mistral_s(api: httpx.Client) -> None:
    done = run(api, "items")
    tasks = {t["name"]: t for t in api.get(f"/executions/{done}/tasks").json()["tasks"]}
    assert json.loads(tasks["free"]["runtime_context"]) == {
        "with_items": {"count": 3, "capacity": None}
    }
    assert json.loads(tasks["capped"]["runtime_context"]) == {
        "concurrency": 2,
        "with_items": {"count": 3, "capacity": 2},
    }


def test_lists_give_the_output_when_it_is_among_the_fields(api: httpx.Client) -> None:
    done = run(api, "ok")
    (task,) = api.get(f"/executions/{done}/tasks").json()["tasks"]
    for path, params in [
        ("/executions", {"fields": "output"}),
        ("/executions", {"include_output": "true"}),
        ("/action_executions", {"fields": "output"}),
        (f"/tasks/{task['id']}/action_executions", {"fields": "state,output"}),
        (f"/tasks/{task['id']}/action_executions", {"include_output": "true"}),
    ]:
        (item, *_) = next(iter(api.get(path, params={"limit": 1, **params}).json().values()))
        assert "output" in item, (path, params)
    (run_,) = api.get(f"/tasks/{task['id']}/action_executions").json()["action_executions"]
    assert "output" not in run_  # as in Mistral, not unless asked


@pytest.mark.parametrize("env", [5, [1], True])
def test_an_env_that_is_no_object_is_a_400(api: httpx.Client, env: Any) -> None:
    body = {"workflow_name": "ok", "params": {"env": env}}
    assert "environment" in fault(api.post("/executions", json=body), 400)
    failed = run(api, "bad")
    fault(api.put(f"/executions/{failed}", json={"params": {"env": env}}), 400)


def test_a_running_action_is_not_accepted_yet_and_has_no_output(api: httpx.Client) -> None:
    waiting = run(api, "waits", until=("RUNNING",))
    (task,) = eventually(lambda: api.get(f"/executions/{waiting}/tasks").json()["tasks"])
    path = f"/tasks/{task['id']}/action_executions"
    (action,) = eventually(lambda: api.get(path).json()["action_executions"])
    got = api.get(f"/action_executions/{action['id']}").json()
    assert got["state"] == "RUNNING"
    assert got["accepted"] is False
    assert got["output"] is None
    done = api.put(f"/action_executions/{action['id']}", json={"state": "SUCCESS", "output": "1"})
    assert done.status_code == 200, done.text
    assert done.json()["accepted"] is True
    assert done.json()["output"] == '{"result": 1}'


def test_a_task_result_is_always_json_text(api: httpx.Client) -> None:
    done = run(api, "ok")  # std.noop: its result is None, written "null"
    (task,) = api.get(f"/executions/{done}/tasks").json()["tasks"]
    assert api.get(f"/tasks/{task['id']}").json()["result"] == "null"
    waiting = run(api, "waits", until=("RUNNING",))
    (running,) = eventually(lambda: api.get(f"/executions/{waiting}/tasks").json()["tasks"])
    assert api.get(f"/tasks/{running['id']}").json()["result"] == "[]"  # no result yet
    api.put(f"/executions/{waiting}", json={"state": "CANCELLED"})


def test_report_depth_and_errors_only_as_mistral(api: httpx.Client) -> None:
    top = run(api, "top")

    def report(**params: Any) -> dict[str, Any]:
        answer = api.get(f"/executions/{top}/report", params=params)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    assert report()["statistics"]["total_tasks_count"] == 9
    # Only the tasks shown are counted: with errors_only, those in ERROR.
    errors = report(errors_only="true")
    assert errors["statistics"]["total_tasks_count"] == 2
    assert errors["statistics"]["success_tasks_count"] == 0
    assert report(errors_only="true", statistics_only="true")["statistics"] == errors["statistics"]
    # Past max_depth, a sub-workflow is there without its tasks.
    shallow = report(max_depth=0)
    assert shallow["statistics"]["total_tasks_count"] == 2
    (a, _b) = shallow["root_workflow_execution"]["task_executions"]
    (mid,) = a["workflow_executions"]
    assert mid["name"] == "mid"
    assert "task_executions" not in mid
    assert report(max_depth=1)["statistics"]["total_tasks_count"] == 6


def test_a_workbook_s_namespace_may_be_a_path_segment(api: httpx.Client) -> None:
    book = BOOK.format(name="placed")
    assert api.post("/workbooks?namespace=shelf", content=book, headers=TEXT).status_code == 201
    assert api.get("/workbooks/placed/shelf").json()["namespace"] == "shelf"
    fault(api.get("/workbooks/placed"), 404)  # not in the default namespace
    assert api.delete("/workbooks/placed/shelf").status_code == 204
    fault(api.get("/workbooks/placed", params={"namespace": "shelf"}), 404)
