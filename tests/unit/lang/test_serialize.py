"""Specs survive a trip through JSON text unchanged (they are stored that way)."""

from __future__ import annotations

import json

import orjson
import pytest

from meltemi.lang import (
    ActionSpec,
    Document,
    Expr,
    RetrySpec,
    WithItemsSpec,
    WorkflowSpec,
    load,
    spec_from_json,
    spec_to_json,
)
from tests.unit.lang.cases import doc

EVERYTHING = doc("""
    version: '2.0'
    name: wb
    description: every attribute at least once
    tags: [demo]
    actions:
      greet:
        base: std.echo output="hi"
        base-input:
          extra: <% $.name %>
        input:
          - name
          - greeting: Hello
        output: <% $.content %>
    workflows:
      direct:
        description: a direct workflow
        tags: [a, b]
        input:
          - hosts
          - retries: 3
        output:
          result: <% $.done %>
        output-on-error:
          error: <% $.err %>
        vars:
          v: {nested: [1, 2.5, true, null]}
        task-defaults:
          retry: count=2 delay=1
          timeout: <% $.t %>
          on-error: cleanup
          safe-rerun: true
        tasks:
          first:
            action: std.echo output=<% $.hosts %> n=3
            input:
              more: x
            with-items:
              - host in <% $.hosts %>
              - n in [1, 2, 3]
            concurrency: 2
            publish:
              done: <% task().result %>
            publish-on-error:
              err: <% task().state_info %>
            publish-on-skip:
              skipped: true
            retry:
              count: <% $.retries %>
              delay: 5
              break-on: <% $.stop %>
              continue-on: <% $.go %>
            wait-before: 1
            wait-after: <% $.wait %>
            pause-before: <% $.pause %>
            fail-on: false
            target: <% $.host %>
            keep-result: false
            on-success:
              - second: <% $.ok %>
              - fail msg="no"
            on-complete:
              publish:
                branch:
                  b: 1
                global:
                  g: 2
                atomic:
                  a: 3
              next: second
          second:
            workflow: reverse a="x"
            join: 1
          cleanup:
            action: std.noop
            on-skip: noop
      reverse:
        type: reverse
        task-defaults:
          requires: [setup]
        tasks:
          setup:
            action: std.noop
          main:
            requires: setup
    """)


@pytest.fixture
def document() -> Document:
    return load(EVERYTHING, "everything.yaml")


def through_json(value: object) -> object:
    return orjson.loads(orjson.dumps(spec_to_json(value)))


def test_every_workflow_attribute_survives_a_round_trip(document: Document) -> None:
    for workflow in document.workflows:
        back = spec_from_json(WorkflowSpec, through_json(workflow))
        assert back == workflow
        assert back.start_tasks() == workflow.start_tasks()
        for name in workflow.tasks:
            assert back.inbound(name) == workflow.inbound(name)
            assert back.outbound(name) == workflow.outbound(name)
            assert back.policies(back.tasks[name]) == workflow.policies(workflow.tasks[name])


def test_ad_hoc_actions_and_whole_documents_survive_a_round_trip(document: Document) -> None:
    [action] = document.actions
    assert spec_from_json(ActionSpec, through_json(action)) == action
    assert spec_from_json(Document, through_json(document)) == document


def test_typed_values_come_back_with_their_types(document: Document) -> None:
    back = spec_from_json(WorkflowSpec, through_json(document.workflow("direct")))
    first = back.tasks["first"]
    assert first.with_items == (
        WithItemsSpec(var="host", source=Expr("<% $.hosts %>")),
        WithItemsSpec(var="n", source=[1, 2, 3]),
    )
    assert first.policies.retry == RetrySpec(
        count=Expr("<% $.retries %>"),
        delay=5,
        break_on=Expr("<% $.stop %>"),
        continue_on=Expr("<% $.go %>"),
    )
    assert isinstance(first.tags, tuple)
    assert first.input == {"more": "x", "output": "<% $.hosts %>", "n": 3}
    assert back.task_defaults is not None
    assert back.task_defaults.policies.retry == RetrySpec(count=2, delay=1)
    assert back.vars == {"v": {"nested": [1, 2.5, True, None]}}


def test_the_json_form_is_plain_json(document: Document) -> None:
    data = spec_to_json(document)
    assert json.loads(json.dumps(data)) == data
    task = data["workflows"][0]["tasks"]["first"]
    assert task["type"] == "ACTION"
    assert task["on_complete"]["publish"]["global_"] == {"g": 2}
    assert "_outbound" not in data["workflows"][0]
