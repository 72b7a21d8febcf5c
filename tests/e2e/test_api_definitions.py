"""Workbooks and actions through the REST API of a real ``meltemi server``; every bad
request is a 4xx with a faultstring that says what is wrong."""

from __future__ import annotations

import json

import httpx

from tests.fixtures.http import TEXT, fault

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


def test_workbook_create_get_list_update_delete(v2: httpx.Client) -> None:
    text = WORKBOOK.format(name="book", extra="second")
    created = v2.post("/workbooks", content=text, headers=TEXT)
    assert created.status_code == 201, created.text
    book = created.json()
    assert book["name"] == "book"
    assert book["definition"] == text
    assert book["tags"] == ["books"]
    assert book["scope"] == "private"
    assert book["namespace"] == ""
    assert len(book["created_at"]) == len("2026-01-01 00:00:00")

    got = v2.get("/workbooks/book").json()
    assert got["id"] == book["id"]
    listed = v2.get("/workbooks", params={"name": "book", "fields": "name"}).json()
    assert listed["workbooks"] == [{"id": book["id"], "name": "book"}]

    main = v2.get("/workflows/book.main").json()
    assert v2.get("/workflows/book.second").status_code == 200
    assert v2.get("/actions/book.shout/").json()["input"] == "text"

    updated_text = WORKBOOK.format(name="book", extra="third")
    updated = v2.put("/workbooks", content=updated_text, headers=TEXT)
    assert updated.status_code == 200, updated.text
    assert updated.json()["definition"] == updated_text
    assert updated.json()["updated_at"] is not None
    assert v2.get("/workflows/book.main").json()["id"] == main["id"]  # kept its id
    assert v2.get("/workflows/book.third").status_code == 200
    # As in Mistral, what the workbook no longer defines stays registered.
    assert v2.get("/workflows/book.second").status_code == 200

    execution = v2.post("/executions", json={"workflow_name": "book.main", "input": {"who": 1}})
    assert execution.status_code == 201, execution.text

    assert v2.delete("/workbooks/book").status_code == 204
    assert "book" in fault(v2.get("/workbooks/book"), 404)
    # As in Mistral, deleting a workbook leaves its workflows and actions: they go
    # one by one, or a workbook of the same name takes them over (same ids).
    assert v2.get("/workflows/book.main").json()["id"] == main["id"]
    assert v2.get("/actions/book.shout/").status_code == 200
    again = v2.post("/workbooks", content=text, headers=TEXT)
    assert again.status_code == 201, again.text
    assert v2.get("/workflows/book.main").json()["id"] == main["id"]
    assert v2.delete("/workbooks/book").status_code == 204
    assert v2.delete(f"/workflows/{main['id']}").status_code == 204
    fault(v2.get("/workflows/book.main"), 404)


def test_workbooks_in_a_namespace(v2: httpx.Client) -> None:
    text = WORKBOOK.format(name="spaced", extra="other")
    created = v2.post("/workbooks", params={"namespace": "ns1"}, content=text, headers=TEXT)
    assert created.status_code == 201, created.text
    assert created.json()["namespace"] == "ns1"
    assert v2.get("/workbooks/spaced", params={"namespace": "ns1"}).status_code == 200
    fault(v2.get("/workbooks/spaced"), 404)
    listed = v2.get("/workbooks", params={"namespace": "ns1"}).json()["workbooks"]
    assert [w["name"] for w in listed] == ["spaced"]
    fault(v2.delete("/workbooks/spaced"), 404)
    assert v2.delete("/workbooks/spaced", params={"namespace": "ns1"}).status_code == 204


def test_workbook_errors(v2: httpx.Client) -> None:
    broken = (
        "version: '2.0'\nname: broken\nworkflows:\n  wf:\n    tasks:\n      t:\n        bad: 1\n"
    )
    message = fault(v2.post("/workbooks", content=broken, headers=TEXT), 400)
    assert ":7:" in message or "line 7" in message, message
    fault(v2.post("/workbooks", content="{[", headers=TEXT), 400)
    fault(v2.post("/workbooks", content="", headers=TEXT), 400)
    text = WORKBOOK.format(name="twice", extra="x")
    assert v2.post("/workbooks", content=text, headers=TEXT).status_code == 201
    assert "twice" in fault(v2.post("/workbooks", content=text, headers=TEXT), 409)
    absent = WORKBOOK.format(name="absent", extra="x")
    fault(v2.put("/workbooks", content=absent, headers=TEXT), 404)
    fault(v2.post("/workbooks", params={"scope": "secret"}, content=text, headers=TEXT), 400)
    fault(v2.get("/workbooks", params={"sort_dirs": "sideways"}), 400)
    fault(v2.get("/workbooks", params={"fields": "colour"}), 400)
    fault(v2.get("/workbooks", params={"limit": "0"}), 400)


def test_workbook_validate(v2: httpx.Client) -> None:
    good = v2.post("/workbooks/validate", content=WORKBOOK.format(name="v", extra="x"))
    assert good.json() == {"valid": True}
    bad = v2.post("/workbooks/validate", content="version: '2.0'\nname: v\nworkflows: 3\n")
    assert bad.status_code == 200
    assert bad.json()["valid"] is False
    assert bad.json()["error"]


# -- actions ---------------------------------------------------------------------------


def test_system_actions_are_listed_with_their_input(v2: httpx.Client) -> None:
    actions = v2.get("/actions").json()["actions"]
    names = [a["name"] for a in actions]
    assert names == sorted(names)
    echo = next(a for a in actions if a["name"] == "std.echo")
    assert echo["id"] == "std.echo"
    assert echo["input"] == "output, delay=0"
    assert echo["is_system"] is False
    assert echo["description"]
    fail = v2.get("/actions/std.fail").json()
    assert fail["input"] == "error_data=null"  # json.dumps of the default, as Mistral

    found = v2.get("/actions", params={"name": "has:std.ech"}).json()["actions"]
    assert [a["name"] for a in found] == ["std.echo"]
    first = v2.get("/actions", params={"limit": 2}).json()
    assert len(first["actions"]) == 2
    assert "marker=" in first["next"]
    second = v2.get("/actions", params={"limit": 2, "marker": first["actions"][-1]["id"]})
    assert second.json()["actions"][0]["name"] == names[2]
    newest_first = v2.get("/actions", params={"sort_dirs": "desc"}).json()["actions"]
    assert [a["name"] for a in newest_first] == sorted(names, reverse=True)
    only = v2.get("/actions/std.echo", params={"fields": "input"}).json()
    assert only == {"id": "std.echo", "input": "output, delay=0"}

    fault(v2.get("/actions", params={"sort_keys": "colour"}), 400)
    fault(v2.get("/actions", params={"is_system": "maybe"}), 400)
    fault(v2.get("/actions", params={"marker": "no-such-action"}), 400)
    assert "std.nothing" in fault(v2.get("/actions/std.nothing/"), 404)


def test_adhoc_action_create_get_update_delete(v2: httpx.Client) -> None:
    created = v2.post("/actions", content=ADHOC.format(description="hi"), headers=TEXT)
    assert created.status_code == 201, created.text
    (greet,) = created.json()["actions"]
    assert greet["name"] == "greet"
    assert greet["input"] == 'name, punctuation="!", nothing=null'
    assert greet["description"] == "hi"
    assert greet["is_system"] is False
    assert "base: std.echo" in greet["definition"]

    assert v2.get("/actions/greet/").json()["id"] == greet["id"]  # the client's form
    assert v2.get(f"/actions/{greet['id']}").json()["name"] == "greet"
    listed = v2.get("/actions", params={"is_system": "false", "name": "greet"}).json()
    assert [a["id"] for a in listed["actions"]] == [greet["id"]]

    again = v2.post("/actions", content=ADHOC.format(description="hi"), headers=TEXT)
    assert "greet" in fault(again, 409)
    updated = v2.put("/actions", content=ADHOC.format(description="hello"), headers=TEXT)
    assert updated.status_code == 200, updated.text
    assert updated.json()["actions"][0]["description"] == "hello"
    assert updated.json()["actions"][0]["id"] == greet["id"]
    by_id = v2.put(f"/actions/{greet['id']}", content=ADHOC.format(description="hey"), headers=TEXT)
    assert by_id.json()["actions"][0]["description"] == "hey"

    run = v2.post(
        "/action_executions",
        json={"name": "greet", "input": {"name": "you"}, "params": {"run_sync": True}},
    )
    assert run.status_code == 201, run.text
    assert json.loads(run.json()["output"]) == {"result": "Hello, you"}

    assert v2.delete("/actions/greet/").status_code == 204
    fault(v2.get("/actions/greet/"), 404)
    fault(v2.delete("/actions/greet"), 404)


def test_action_errors(v2: httpx.Client) -> None:
    message = fault(v2.delete("/actions/std.echo/"), 400)
    assert "system action" in message
    shadow = "version: '2.0'\nstd.echo:\n  base: std.noop\n"
    assert "system action" in fault(v2.post("/actions", content=shadow, headers=TEXT), 400)
    no_base = "version: '2.0'\nlonely:\n  input: [a]\n"
    assert "base" in fault(v2.post("/actions", content=no_base, headers=TEXT), 400)
    missing = ADHOC.replace("greet:", "nobody:").format(description="x")
    fault(v2.put("/actions", content=missing, headers=TEXT), 404)
    validated = v2.post("/actions/validate", content=no_base).json()
    assert validated["valid"] is False
    assert v2.post("/actions/validate", content=ADHOC.format(description="x")).json() == {
        "valid": True
    }


SAME_AGAIN_ACTIONS = """
version: '2.0'
hail:
  base: std.echo
  base-input:
    output: hail
"""
SAME_AGAIN_WORKFLOW = """
version: '2.0'
same_again:
  tasks:
    t:
      action: std.noop
"""


def test_an_update_that_changes_nothing_leaves_updated_at_unset(v2: httpx.Client) -> None:
    # As in Mistral (mistralclient's functional tests check it): storing the same
    # definition again is no update; a different one is.
    book = WORKBOOK.format(name="same_book", extra="other")
    assert v2.post("/workbooks", content=book, headers=TEXT).status_code == 201
    assert v2.put("/workbooks", content=book, headers=TEXT).json()["updated_at"] is None
    changed = book.replace("description: a book", "description: a new book")
    assert v2.put("/workbooks", content=changed, headers=TEXT).json()["updated_at"]

    created = v2.post("/workflows", content=SAME_AGAIN_WORKFLOW, headers=TEXT).json()
    assert "updated_at" not in created["workflows"][0]
    again = v2.put("/workflows", content=SAME_AGAIN_WORKFLOW, headers=TEXT).json()
    assert again["workflows"][0]["updated_at"] is None  # an update answers it, null
    different = SAME_AGAIN_WORKFLOW.replace("std.noop", "std.echo output=1")
    assert v2.put("/workflows", content=different, headers=TEXT).json()["workflows"][0][
        "updated_at"
    ]

    # An action without input answers its create with input null, as Mistral does
    # (a GET says ""); the same definition again leaves it untouched.
    made = v2.post("/actions", content=SAME_AGAIN_ACTIONS, headers=TEXT).json()["actions"][0]
    assert made["input"] is None
    assert "updated_at" not in made
    assert v2.get("/actions/hail").json()["input"] == ""
    kept = v2.put("/actions", content=SAME_AGAIN_ACTIONS, headers=TEXT).json()["actions"][0]
    assert kept["updated_at"] is None
    assert v2.get("/actions/hail").json()["updated_at"] is None


def test_an_environment_create_leaves_out_what_is_not_set(v2: httpx.Client) -> None:
    # As Mistral answers it; mistralclient then shows 'None' for both.
    created = v2.post("/environments", json={"name": "bare", "variables": {"a": 1}})
    assert created.status_code == 201, created.text
    assert "description" not in created.json()
    assert "updated_at" not in created.json()
    assert v2.get("/environments/bare").json()["description"] is None


def test_an_action_is_found_through_a_namespace_in_the_default_one(v2: httpx.Client) -> None:
    # As Mistral looks actions up: first in the namespace asked for, then in the
    # default namespace (mistralclient's functional tests rely on it).
    text = SAME_AGAIN_ACTIONS.replace("hail:", "nsfallback:")
    assert v2.post("/actions", content=text, headers=TEXT).status_code == 201
    found = v2.get("/actions/nsfallback", params={"namespace": "elsewhere"})
    assert found.status_code == 200, found.text
    assert found.json()["namespace"] == ""
    placed = v2.post("/actions", params={"namespace": "elsewhere"}, content=text, headers=TEXT)
    assert placed.status_code == 201, placed.text
    own = v2.get("/actions/nsfallback", params={"namespace": "elsewhere"}).json()
    assert own["namespace"] == "elsewhere"
    fault(v2.get("/actions/no-such-action", params={"namespace": "elsewhere"}), 404)
