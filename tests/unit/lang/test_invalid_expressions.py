"""Unparsable YAQL and Jinja everywhere an expression may stand, found at validation.

The column points inside the expression, at the token the parser stumbled on (for
Jinja, at the start of the expression: Jinja reports lines, not columns).
"""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.lang.cases import Case, check, doc, ids

CODE = "expression-syntax"


def task(body: str) -> str:
    """A workflow whose only task ``t1`` (line 5 on) has ``body`` as attributes."""
    attributes = textwrap.indent(doc(body).strip("\n"), "      ")
    return f"version: '2.0'\nwf:\n  tasks:\n    t1:\n{attributes}\n"


def workflow(head: str) -> str:
    """A one-task workflow (line 3 on) with ``head`` as its first attributes."""
    attributes = textwrap.indent(doc(head).strip("\n"), "  ")
    return f"version: '2.0'\nwf:\n{attributes}\n  tasks:\n    t1:\n      action: std.noop\n"


def action(body: str) -> str:
    """An ad-hoc action document; ``greet`` has ``body`` as attributes (line 3 on)."""
    return "version: '2.0'\ngreet:\n" + textwrap.indent(doc(body).strip("\n"), "  ") + "\n"


CASES = [
    Case(
        "task input value",
        task("action: std.echo\ninput:\n  output: <% $.a.( %>"),
        7,
        26,
        "wf.tasks.t1.input.output",
        CODE,
    ),
    Case(
        "task input as one expression",
        task("action: std.echo\ninput: <% $.a[ %>"),
        6,
        22,
        "wf.tasks.t1.input",
        CODE,
    ),
    Case(
        "nested task input value",
        task("action: std.echo\ninput:\n  output:\n    list: [1, '<% $.a + %>']"),
        8,
        31,
        "wf.tasks.t1.input.output.list[1]",
        CODE,
    ),
    Case(
        "publish",
        task("action: std.noop\npublish:\n  x: <% $.a + %>"),
        7,
        21,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "publish-on-error",
        task("action: std.noop\npublish-on-error:\n  err: <% task().state_info ++ %>"),
        7,
        38,
        "wf.tasks.t1.publish-on-error.err",
        CODE,
    ),
    Case(
        "publish-on-skip",
        task("action: std.noop\npublish-on-skip:\n  why: <% $.( %>"),
        7,
        21,
        "wf.tasks.t1.publish-on-skip.why",
        CODE,
    ),
    Case("workflow output", workflow("output:\n  r: <% $.x $.y %>"), 4, 15, "wf.output.r", CODE),
    Case(
        "workflow output-on-error (Jinja)",
        workflow('output-on-error:\n  r: "{{ _.x + }}"'),
        4,
        9,
        "wf.output-on-error.r",
        CODE,
    ),
    Case(
        "vars, inside a longer string",
        workflow("vars:\n  v: prefix <% $.a ) %> suffix"),
        4,
        22,
        "wf.vars.v",
        CODE,
    ),
    Case(
        "with-items source",
        task("action: std.echo\nwith-items: x in <% $.xs[ %>"),
        6,
        33,
        "wf.tasks.t1.with-items",
        CODE,
    ),
    Case(
        "on-success condition",
        task("on-success:\n  - t2: <% $.x = = 1 %>") + "    t2:\n      action: std.noop\n",
        6,
        24,
        "wf.tasks.t1.on-success[0]",
        CODE,
    ),
    Case(
        "engine command parameter",
        task("on-error: fail msg=<% $.x + %>"),
        5,
        35,
        "wf.tasks.t1.on-error",
        CODE,
    ),
    Case(
        "engine command parameter, function form",
        task("on-error: fail(msg=<% $.x + %>)"),
        5,
        35,
        "wf.tasks.t1.on-error",
        CODE,
    ),
    Case(
        "retry break-on",
        task("retry:\n  count: 3\n  delay: 1\n  break-on: <% $.x > %>"),
        8,
        28,
        "wf.tasks.t1.retry.break-on",
        CODE,
    ),
    Case(
        "retry continue-on (Jinja)",
        task('retry:\n  count: 3\n  delay: 1\n  continue-on: "{{ _.x > }}"'),
        8,
        23,
        "wf.tasks.t1.retry.continue-on",
        CODE,
    ),
    Case(
        "retry count",
        task("retry:\n  count: <% $.n * %>\n  delay: 1"),
        6,
        25,
        "wf.tasks.t1.retry.count",
        CODE,
    ),
    Case(
        "one-line retry",
        task("retry: count=<% $.n * %> delay=1"),
        5,
        29,
        "wf.tasks.t1.retry",
        CODE,
    ),
    Case(
        "wait-before",
        task("wait-before: <% $.delay - %>"),
        5,
        33,
        "wf.tasks.t1.wait-before",
        CODE,
    ),
    Case("wait-after", task("wait-after: <% ($.d %>"), 5, 27, "wf.tasks.t1.wait-after", CODE),
    Case("timeout", task("timeout: <% $.t. %>"), 5, 24, "wf.tasks.t1.timeout", CODE),
    Case(
        "concurrency (Jinja)",
        task('concurrency: "{{ _.n | }}"'),
        5,
        21,
        "wf.tasks.t1.concurrency",
        CODE,
    ),
    Case(
        "pause-before",
        task("pause-before: <% $.p and %>"),
        5,
        32,
        "wf.tasks.t1.pause-before",
        CODE,
    ),
    Case("fail-on", task("fail-on: <% $.p or or %>"), 5, 26, "wf.tasks.t1.fail-on", CODE),
    Case(
        "keep-result",
        task("action: std.echo\nkeep-result: <% $.keep and %>"),
        6,
        34,
        "wf.tasks.t1.keep-result",
        CODE,
    ),
    Case(
        "safe-rerun",
        task("action: std.echo\nsafe-rerun: <% not %>"),
        6,
        26,
        "wf.tasks.t1.safe-rerun",
        CODE,
    ),
    Case(
        "target",
        task("action: std.echo\ntarget: <% $.host + %>"),
        6,
        27,
        "wf.tasks.t1.target",
        CODE,
    ),
    Case(
        "action inline parameter",
        task("action: std.echo output=<% $.x + %>"),
        5,
        40,
        "wf.tasks.t1.action",
        CODE,
    ),
    Case(
        "workflow inline parameter",
        task("workflow: sub a=<% $.x[ %>"),
        5,
        31,
        "wf.tasks.t1.workflow",
        CODE,
    ),
    Case(
        "task-defaults policy",
        doc("""
            version: '2.0'
            wf:
              task-defaults:
                timeout: <% $.t + %>
              tasks:
                t1:
                  action: std.noop
            """),
        4,
        23,
        "wf.task-defaults.timeout",
        CODE,
    ),
    Case(
        "advanced publish, global",
        task("on-success:\n  publish:\n    global:\n      g: <% $.x + %>"),
        8,
        25,
        "wf.tasks.t1.on-success.publish.global.g",
        CODE,
    ),
    Case(
        "ad-hoc base-input",
        action("base: std.echo\nbase-input:\n  output: <% $.name + %>"),
        5,
        25,
        "greet.base-input.output",
        CODE,
    ),
    Case(
        "ad-hoc base inline parameter",
        action("base: std.echo output=<% $.name + %>"),
        3,
        37,
        "greet.base",
        CODE,
    ),
    Case(
        "ad-hoc output",
        action("base: std.echo\noutput: <% $.content[ %>"),
        4,
        25,
        "greet.output",
        CODE,
    ),
    Case(
        "ad-hoc output, nested",
        action("base: std.echo\noutput:\n  text: <% $.content[ %>"),
        5,
        25,
        "greet.output.text",
        CODE,
    ),
    Case(
        "YAQL and Jinja mixed in one string",
        task("action: std.noop\npublish:\n  x: <% $.a %> and {{ _.b }}"),
        7,
        12,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "unclosed Jinja block",
        task('action: std.noop\npublish:\n  x: "{% if _.a %}yes"'),
        7,
        13,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "empty YAQL expression",
        task("action: std.noop\npublish:\n  x: <% %>"),
        7,
        14,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "illegal character in YAQL",
        task("action: std.noop\npublish:\n  x: <% $.a ? 1 %>"),
        7,
        19,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "in a double-quoted string",
        task('action: std.noop\npublish:\n  x: "<% $.a + %>"'),
        7,
        22,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "the second expression of a string",
        task('action: std.noop\npublish:\n  x: "<% $.a %> and <% $.b + %>"'),
        7,
        36,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "in a block scalar",
        task("action: std.noop\npublish:\n  x: |\n    first line\n    <% $.b + %>"),
        9,
        20,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "Jinja on the second line of a block scalar",
        task("action: std.noop\npublish:\n  x: |\n    {{ _.a }}\n    value {{ _.b + }}"),
        9,
        17,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
    Case(
        "in a folded plain scalar",
        task("action: std.noop\npublish:\n  x: first part\n    then <% $.b + %>"),
        8,
        25,
        "wf.tasks.t1.publish.x",
        CODE,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_expression_errors_point_inside_the_expression(case: Case) -> None:
    check(case)
