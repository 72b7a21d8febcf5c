"""Invalid tasks: attributes, types, with-items, join, requires, names."""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.lang.cases import Case, check, doc, ids


def task(body: str, *, more: str = "", wf_type: str = "direct") -> str:
    """A workflow whose task ``t1`` (line 5 on) has ``body`` as attributes."""
    attributes = textwrap.indent(doc(body).strip("\n"), "      ")
    head = "version: '2.0'\nwf:\n" + ("" if wf_type == "direct" else f"  type: {wf_type}\n")
    return f"{head}  tasks:\n    t1:\n{attributes}\n" + textwrap.indent(doc(more), "    ")


CASES = [
    Case(
        "unknown task attribute",
        task("action: std.noop\non-succes: t2", more="t2:\n  action: std.noop"),
        6,
        7,
        "wf.tasks.t1.on-succes",
        "unknown-attribute",
    ),
    Case(
        "task is a string",
        "version: '2.0'\nwf:\n  tasks:\n    t1: std.noop\n",
        4,
        9,
        "wf.tasks.t1",
        "wrong-type",
    ),
    Case(
        "task is empty",
        "version: '2.0'\nwf:\n  tasks:\n    t1: {}\n",
        4,
        9,
        "wf.tasks.t1",
        "wrong-type",
    ),
    Case(
        "action and workflow in one task",
        task("action: std.noop\nworkflow: other"),
        6,
        17,
        "wf.tasks.t1.workflow",
        "action-and-workflow",
    ),
    Case("empty action", task('action: ""'), 5, 15, "wf.tasks.t1.action", "wrong-type"),
    Case("action is a list", task("action: [std.noop]"), 5, 15, "wf.tasks.t1.action", "wrong-type"),
    Case("workflow is a number", task("workflow: 42"), 5, 17, "wf.tasks.t1.workflow", "wrong-type"),
    Case(
        "action that is no name",
        task("action: =x y=1"),
        5,
        15,
        "wf.tasks.t1.action",
        "bad-command",
    ),
    Case(
        "input is a list",
        task("action: std.echo\ninput: [a]"),
        6,
        14,
        "wf.tasks.t1.input",
        "wrong-type",
    ),
    Case(
        "input is empty",
        task("action: std.echo\ninput: {}"),
        6,
        14,
        "wf.tasks.t1.input",
        "wrong-type",
    ),
    Case(
        "inline parameters and an input expression",
        task('action: std.echo output="x"\ninput: <% $.params %>'),
        5,
        15,
        "wf.tasks.t1.action",
        "inline-params-with-input-expression",
    ),
    Case(
        "publish is a list",
        task("action: std.echo\npublish: [a]"),
        6,
        16,
        "wf.tasks.t1.publish",
        "wrong-type",
    ),
    Case(
        "publish-on-error is empty",
        task("action: std.echo\npublish-on-error: {}"),
        6,
        25,
        "wf.tasks.t1.publish-on-error",
        "wrong-type",
    ),
    Case(
        "publish-on-skip is a string",
        task("action: std.echo\npublish-on-skip: <% $.x %>"),
        6,
        24,
        "wf.tasks.t1.publish-on-skip",
        "wrong-type",
    ),
    Case(
        "with-items without 'in'",
        task("action: std.echo\nwith-items: x <% $.xs %>"),
        6,
        19,
        "wf.tasks.t1.with-items",
        "bad-with-items",
    ),
    Case(
        "with-items over a bare word",
        task("action: std.echo\nwith-items: x in xs"),
        6,
        19,
        "wf.tasks.t1.with-items",
        "bad-with-items",
    ),
    Case(
        "with-items over a list that is not JSON",
        task("action: std.echo\nwith-items: x in [1, 2,]"),
        6,
        24,
        "wf.tasks.t1.with-items",
        "bad-with-items",
    ),
    Case(
        "with-items over a list with single quotes",
        task("action: std.echo\nwith-items: host in ['a', 'b']"),
        6,
        27,
        "wf.tasks.t1.with-items",
        "bad-with-items",
    ),
    Case(
        "with-items variable twice",
        task("action: std.echo\nwith-items:\n  - x in <% $.xs %>\n  - x in <% $.ys %>"),
        8,
        11,
        "wf.tasks.t1.with-items[1]",
        "duplicate",
    ),
    Case(
        "with-items entry that is a number",
        task("action: std.echo\nwith-items:\n  - x in <% $.xs %>\n  - 5"),
        8,
        11,
        "wf.tasks.t1.with-items[1]",
        "wrong-type",
    ),
    Case(
        "with-items is a mapping",
        task("action: std.echo\nwith-items: {x: <% $.xs %>}"),
        6,
        19,
        "wf.tasks.t1.with-items",
        "wrong-type",
    ),
    Case(
        "with-items is an empty list",
        task("action: std.echo\nwith-items: []"),
        6,
        19,
        "wf.tasks.t1.with-items",
        "wrong-type",
    ),
    Case(
        "target is a list",
        task("action: std.echo\ntarget: [a]"),
        6,
        15,
        "wf.tasks.t1.target",
        "wrong-type",
    ),
    Case(
        "keep-result is a word",
        task("action: std.echo\nkeep-result: no way"),
        6,
        20,
        "wf.tasks.t1.keep-result",
        "not-an-expression",
    ),
    Case(
        "keep-result is a number",
        task("action: std.echo\nkeep-result: 0"),
        6,
        20,
        "wf.tasks.t1.keep-result",
        "wrong-type",
    ),
    Case(
        "safe-rerun is a number",
        task("action: std.echo\nsafe-rerun: 1"),
        6,
        19,
        "wf.tasks.t1.safe-rerun",
        "wrong-type",
    ),
    Case(
        "description is a number",
        task("action: std.echo\ndescription: 5"),
        6,
        20,
        "wf.tasks.t1.description",
        "wrong-type",
    ),
    Case(
        "task tags is a string",
        task("action: std.echo\ntags: web"),
        6,
        13,
        "wf.tasks.t1.tags",
        "wrong-type",
    ),
    Case(
        "task name over 255 characters",
        "version: '2.0'\nwf:\n  tasks:\n    " + "t" * 256 + ":\n      action: std.noop\n",
        4,
        5,
        "wf.tasks." + "t" * 256,
        "name-too-long",
    ),
    Case(
        "join task name over 208 characters",
        task("on-success: " + "j" * 209, more="j" * 209 + ":\n  join: all"),
        7,
        13,
        f"wf.tasks.{'j' * 209}.join",
        "name-too-long",
    ),
    Case(
        "join is a word",
        task("on-success: t2", more="t2:\n  join: some"),
        7,
        13,
        "wf.tasks.t2.join",
        "bad-value",
    ),
    Case(
        "join is negative",
        task("on-success: t2", more="t2:\n  join: -1"),
        7,
        13,
        "wf.tasks.t2.join",
        "bad-value",
    ),
    Case(
        "join is a boolean",
        task("on-success: t2", more="t2:\n  join: true"),
        7,
        13,
        "wf.tasks.t2.join",
        "bad-value",
    ),
    Case(
        "join is a fraction",
        task("on-success: t2", more="t2:\n  join: 1.5"),
        7,
        13,
        "wf.tasks.t2.join",
        "bad-value",
    ),
    Case(
        "join of more tasks than lead to it",
        task("on-success: t3", more="t2:\n  on-success: t3\nt3:\n  join: 3"),
        9,
        13,
        "wf.tasks.t3.join",
        "join-inbound",
    ),
    Case(
        "join all with nothing leading to it",
        task("join: all"),
        5,
        13,
        "wf.tasks.t1.join",
        "join-inbound",
    ),
    Case(
        "requires in a direct workflow",
        task("requires: [t0]"),
        5,
        7,
        "wf.tasks.t1.requires",
        "wrong-workflow-type",
    ),
    Case(
        "on-success in a reverse workflow",
        task("on-success: t2", more="t2:\n  action: std.noop", wf_type="reverse"),
        6,
        7,
        "wf.tasks.t1.on-success",
        "wrong-workflow-type",
    ),
    Case(
        "join in a reverse workflow",
        task("join: all", wf_type="reverse"),
        6,
        7,
        "wf.tasks.t1.join",
        "wrong-workflow-type",
    ),
    Case(
        "requires an unknown task",
        task("requires: [t0]", wf_type="reverse"),
        6,
        18,
        "wf.tasks.t1.requires[0]",
        "unknown-task",
    ),
    Case(
        "requires an unknown task, as a string",
        task("requires: t0", wf_type="reverse"),
        6,
        17,
        "wf.tasks.t1.requires",
        "unknown-task",
    ),
    Case(
        "requires an engine command",
        task("requires: [fail]", wf_type="reverse"),
        6,
        18,
        "wf.tasks.t1.requires[0]",
        "requires-engine-command",
    ),
    Case(
        "requires the same task twice",
        task("requires: [t2, t2]", more="t2:\n  action: std.noop", wf_type="reverse"),
        6,
        22,
        "wf.tasks.t1.requires[1]",
        "duplicate",
    ),
    Case(
        "requires a number",
        task("requires: [1]", wf_type="reverse"),
        6,
        18,
        "wf.tasks.t1.requires[0]",
        "wrong-type",
    ),
    Case(
        "requires in a cycle",
        task(
            "requires: [t3]",
            more="t2:\n  requires: t1\nt3:\n  requires: [t2]",
            wf_type="reverse",
        ),
        6,
        17,
        "wf.tasks.t1.requires",
        "requires-cycle",
    ),
    Case(
        "task-defaults requires an unknown task",
        doc("""
            version: '2.0'
            wf:
              type: reverse
              task-defaults:
                requires: [setup]
              tasks:
                t1:
                  action: std.noop
            """),
        5,
        16,
        "wf.task-defaults.requires[0]",
        "unknown-task",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_task_errors_name_line_column_and_path(case: Case) -> None:
    check(case)
