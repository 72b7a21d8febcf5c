"""Invalid on-success / on-error / on-complete / on-skip clauses and the task graph."""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.lang.cases import Case, check, doc, ids, warning


def tasks(body: str) -> str:
    """A direct workflow whose tasks (line 4 on) are ``body``."""
    return "version: '2.0'\nwf:\n  tasks:\n" + textwrap.indent(doc(body), "    ")


T2 = "t2:\n  action: std.noop\n"

CASES = [
    Case(
        "unknown task, as a string",
        tasks("t1:\n  on-success: t9\n"),
        5,
        19,
        "wf.tasks.t1.on-success",
        "unknown-task",
    ),
    Case(
        "unknown task, in a list",
        tasks("t1:\n  on-success:\n    - t2\n    - t9\n" + T2),
        7,
        11,
        "wf.tasks.t1.on-success[1]",
        "unknown-task",
    ),
    Case(
        "unknown task, with a condition",
        tasks("t1:\n  on-error:\n    - t9: <% $.x %>\n"),
        6,
        11,
        "wf.tasks.t1.on-error[0]",
        "unknown-task",
    ),
    Case(
        "unknown task, as a one-key mapping",
        tasks("t1:\n  on-complete:\n    t9: <% $.x %>\n"),
        6,
        9,
        "wf.tasks.t1.on-complete",
        "unknown-task",
    ),
    Case(
        "unknown task, in advanced next",
        tasks("t1:\n  on-complete:\n    publish:\n      branch:\n        x: 1\n    next: t9\n"),
        9,
        15,
        "wf.tasks.t1.on-complete.next",
        "unknown-task",
    ),
    Case(
        "unknown task, in advanced next list",
        tasks("t1:\n  on-success:\n    next:\n      - t2\n      - t8: <% $.x %>\n" + T2),
        8,
        13,
        "wf.tasks.t1.on-success.next[1]",
        "unknown-task",
    ),
    Case(
        "unknown task, in on-skip",
        tasks("t1:\n  on-skip: t9\n"),
        5,
        16,
        "wf.tasks.t1.on-skip",
        "unknown-task",
    ),
    Case(
        "unknown task, with engine-command style parameters",
        tasks('t1:\n  on-error: stop msg="x"\n'),
        5,
        17,
        "wf.tasks.t1.on-error",
        "unknown-task",
    ),
    Case(
        "unknown task, in task-defaults",
        doc("""
            version: '2.0'
            wf:
              task-defaults:
                on-error: handler
              tasks:
                t1:
                  action: std.noop
            """),
        4,
        15,
        "wf.task-defaults.on-error",
        "unknown-task",
    ),
    Case(
        "condition is a boolean",
        tasks("t1:\n  on-success:\n    - t2: true\n" + T2),
        6,
        15,
        "wf.tasks.t1.on-success[0]",
        "not-an-expression",
    ),
    Case(
        "condition is text, not an expression",
        tasks("t1:\n  on-success:\n    - t2: $.x > 1\n" + T2),
        6,
        15,
        "wf.tasks.t1.on-success[0]",
        "not-an-expression",
    ),
    Case(
        "condition of a one-key mapping is text",
        tasks('t1:\n  on-success:\n    t2: "x"\n' + T2),
        6,
        13,
        "wf.tasks.t1.on-success",
        "not-an-expression",
    ),
    Case(
        "unknown attribute in an advanced clause",
        tasks("t1:\n  on-success:\n    publish:\n      branch:\n        x: 1\n    nxt: t2\n" + T2),
        9,
        9,
        "wf.tasks.t1.on-success.nxt",
        "unknown-attribute",
    ),
    Case(
        "unknown scope in an advanced publish",
        tasks("t1:\n  on-success:\n    publish:\n      globl:\n        x: 1\n    next: t2\n" + T2),
        7,
        11,
        "wf.tasks.t1.on-success.publish.globl",
        "unknown-attribute",
    ),
    Case(
        "advanced publish without a scope",
        tasks("t1:\n  on-success:\n    publish: {}\n"),
        6,
        18,
        "wf.tasks.t1.on-success.publish",
        "missing-attribute",
    ),
    Case(
        "advanced publish scope is a list",
        tasks("t1:\n  on-success:\n    publish:\n      global: [x]\n"),
        7,
        19,
        "wf.tasks.t1.on-success.publish.global",
        "wrong-type",
    ),
    Case(
        "advanced publish is a string",
        tasks("t1:\n  on-error:\n    publish: <% $.x %>\n    next: t2\n" + T2),
        6,
        18,
        "wf.tasks.t1.on-error.publish",
        "wrong-type",
    ),
    Case(
        "empty list of transitions",
        tasks("t1:\n  on-success: []\n"),
        5,
        19,
        "wf.tasks.t1.on-success",
        "wrong-type",
    ),
    Case(
        "transition that is a number",
        tasks("t1:\n  on-success:\n    - 5\n"),
        6,
        11,
        "wf.tasks.t1.on-success[0]",
        "bad-transition",
    ),
    Case(
        "transition with two conditions in one entry",
        tasks("t1:\n  on-success:\n    - t2: <% true %>\n      t3: <% false %>\n" + T2),
        6,
        11,
        "wf.tasks.t1.on-success[0]",
        "bad-transition",
    ),
    Case(
        "the same transition twice",
        tasks("t1:\n  on-success:\n    - t2\n    - t2\n" + T2),
        7,
        11,
        "wf.tasks.t1.on-success[1]",
        "duplicate",
    ),
    Case(
        "transition of several words",
        tasks("t1:\n  on-success: fail now please\n"),
        5,
        19,
        "wf.tasks.t1.on-success",
        "bad-transition",
    ),
    Case(
        "empty transition",
        tasks("t1:\n  on-success:\n"),
        5,
        18,
        "wf.tasks.t1.on-success",
        "bad-transition",
    ),
    Case(
        "no start task",
        tasks("a:\n  on-success: b\nb:\n  on-success: a\n"),
        4,
        5,
        "wf.tasks",
        "no-start-task",
    ),
    warning(
        "a task that can never run",
        tasks(
            "start:\n  action: std.noop\n"
            "a:\n  action: std.noop\n  on-success: b\n"
            "b:\n  action: std.noop\n  on-success: a\n"
        ),
        8,
        19,
        "wf.tasks.a.on-success",
        "unreachable-task",
        count=2,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_transition_errors_name_line_column_and_path(case: Case) -> None:
    check(case)
