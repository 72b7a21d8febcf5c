"""The task graph as Mermaid and Graphviz DOT text."""

from __future__ import annotations

from meltemi.lang import WorkflowSpec, load
from meltemi.lang.graph import Edge, edges, to_dot, to_mermaid
from tests.unit.lang.cases import doc

DIRECT = doc("""
    version: '2.0'
    wf:
      task-defaults:
        on-error: handle
      tasks:
        fetch:
          action: std.http url="http://x"
          on-success:
            - parse: <% $.ok = "yes" %>
            - fail msg="bad"
        parse:
          workflow: sub
          on-complete:
            next: done
        done:
          join: all
        handle:
          action: std.echo output="h"
          on-success: fail
    """)

REVERSE = doc("""
    version: '2.0'
    wf:
      type: reverse
      tasks:
        build:
          action: std.noop
        test:
          requires: build
        ship:
          requires: [build, test]
    """)


def workflow(text: str) -> WorkflowSpec:
    return load(text, "wf.yaml").workflow("wf")


def test_edges_follow_every_clause_with_task_defaults_applied() -> None:
    assert edges(workflow(DIRECT)) == [
        Edge("fetch", "parse", 'success [<% $.ok = "yes" %>]'),
        Edge("fetch", "fetch:fail", "success", "fail"),
        Edge("fetch", "handle", "error"),
        Edge("parse", "handle", "error"),
        Edge("parse", "done", "complete"),
        Edge("done", "handle", "error"),
        # task-defaults' on-error is not applied to the task it points to
        Edge("handle", "handle:fail", "success", "fail"),
    ]


def test_reverse_workflows_draw_requirements() -> None:
    assert edges(workflow(REVERSE)) == [
        Edge("build", "test", "requires"),
        Edge("build", "ship", "requires"),
        Edge("test", "ship", "requires"),
    ]


def test_mermaid_flowchart() -> None:
    assert to_mermaid(workflow(DIRECT)) == doc("""
        flowchart TD
            n0["fetch<br/><small>std.http</small>"]
            n1["parse<br/><small>sub</small>"]
            n2["done<br/><small>std.noop</small>"]
            n3["handle<br/><small>std.echo</small>"]
            n0 -->|"success [#lt;% $.ok = #quot;yes#quot; %#gt;]"| n1
            n4(("fail"))
            n0 -->|"success"| n4
            n0 -->|"error"| n3
            n1 -->|"error"| n3
            n1 -->|"complete"| n2
            n2 -->|"error"| n3
            n5(("fail"))
            n3 -->|"success"| n5
        """)


def test_mermaid_ids_do_not_collide_for_similar_names() -> None:
    text = doc("""
        version: '2.0'
        wf:
          tasks:
            a-b:
              on-success: a_b
            a_b:
              action: std.noop
        """)
    chart = to_mermaid(workflow(text))
    assert 'n0["a-b<br/>' in chart
    assert 'n1["a_b<br/>' in chart
    assert 'n0 -->|"success"| n1' in chart


def test_dot_digraph() -> None:
    assert to_dot(workflow(REVERSE)) == doc("""
        digraph "wf" {
            node [shape=box];
            "build" [label="build\\nstd.noop"];
            "test" [label="test\\nstd.noop"];
            "ship" [label="ship\\nstd.noop"];
            "build" -> "test" [label="requires"];
            "build" -> "ship" [label="requires"];
            "test" -> "ship" [label="requires"];
        }
        """)


def test_dot_escapes_quotes_and_marks_engine_commands() -> None:
    dot = to_dot(workflow(DIRECT))
    assert '"fetch" -> "parse" [label="success [<% $.ok = \\"yes\\" %>]"];' in dot
    assert '"fetch:fail" [label="fail", shape=ellipse];' in dot
    assert dot.count("{") == dot.count("}")
