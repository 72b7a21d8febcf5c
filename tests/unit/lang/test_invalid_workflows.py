"""Invalid workflow attributes: input, output, vars, tags, type, task-defaults."""

from __future__ import annotations

import textwrap

import pytest

from tests.unit.lang.cases import Case, check, doc, ids


def workflow(head: str) -> str:
    """A one-task workflow document (line 3 on) with ``head`` as its first attributes."""
    attributes = textwrap.indent(doc(head).strip("\n"), "  ")
    return f"version: '2.0'\nwf:\n{attributes}\n  tasks:\n    t1:\n      action: std.noop\n"


CASES = [
    Case(
        "unknown workflow attribute",
        workflow("inputs: [a]"),
        3,
        3,
        "wf.inputs",
        "unknown-attribute",
    ),
    Case("unknown workflow type", workflow("type: sideways"), 3, 9, "wf.type", "bad-value"),
    Case(
        "workflow without tasks",
        "version: '2.0'\nwf:\n  description: nothing to do\n",
        2,
        1,
        "wf",
        "missing-attribute",
    ),
    Case(
        "tasks as a list",
        "version: '2.0'\nwf:\n  tasks:\n    - t1\n",
        4,
        5,
        "wf.tasks",
        "wrong-type",
    ),
    Case(
        "tasks empty",
        "version: '2.0'\nwf:\n  tasks: {}\n",
        3,
        10,
        "wf.tasks",
        "wrong-type",
    ),
    Case("input is a string", workflow("input: a"), 3, 10, "wf.input", "wrong-type"),
    Case(
        "input named twice",
        workflow("""
            input:
              - a
              - b
              - a: 1
            """),
        6,
        7,
        "wf.input[2]",
        "duplicate",
    ),
    Case(
        "input with a reserved name",
        workflow("""
            input:
              - __execution
            """),
        4,
        7,
        "wf.input[0]",
        "reserved-name",
    ),
    Case(
        "input entry with two keys",
        workflow("""
            input:
              - a: 1
                b: 2
            """),
        4,
        7,
        "wf.input[0]",
        "wrong-type",
    ),
    Case("input entry is a number", workflow("input: [1]"), 3, 11, "wf.input[0]", "wrong-type"),
    Case("output is a list", workflow("output: [a]"), 3, 11, "wf.output", "wrong-type"),
    Case("output is empty", workflow("output: {}"), 3, 11, "wf.output", "wrong-type"),
    Case(
        "output-on-error is a string",
        workflow("output-on-error: <% $.x %>"),
        3,
        20,
        "wf.output-on-error",
        "wrong-type",
    ),
    Case("vars is a list", workflow("vars: [a, b]"), 3, 9, "wf.vars", "wrong-type"),
    Case(
        "vars with a reserved name",
        workflow("""
            vars:
              __env: 1
            """),
        4,
        5,
        "wf.vars.__env",
        "reserved-name",
    ),
    Case(
        "vars with a reserved name: openstack",
        workflow("""
            vars:
              openstack: {}
            """),
        4,
        5,
        "wf.vars.openstack",
        "reserved-name",
    ),
    Case("tags is a string", workflow("tags: web"), 3, 9, "wf.tags", "wrong-type"),
    Case("tag listed twice", workflow("tags: [a, a]"), 3, 13, "wf.tags[1]", "duplicate"),
    Case("empty tag", workflow("tags: [a, '']"), 3, 13, "wf.tags[1]", "wrong-type"),
    Case(
        "empty description",
        workflow('description: ""'),
        3,
        16,
        "wf.description",
        "wrong-type",
    ),
    Case(
        "description is a mapping",
        workflow("description: {text: x}"),
        3,
        16,
        "wf.description",
        "wrong-type",
    ),
    Case(
        "unknown task-defaults attribute",
        workflow("""
            task-defaults:
              retries: 3
            """),
        4,
        5,
        "wf.task-defaults.retries",
        "unknown-attribute",
    ),
    Case(
        "task-defaults cannot say which action to run",
        workflow("""
            task-defaults:
              action: std.echo
            """),
        4,
        5,
        "wf.task-defaults.action",
        "unknown-attribute",
    ),
    Case(
        "task-defaults is a string",
        workflow("task-defaults: retry"),
        3,
        18,
        "wf.task-defaults",
        "wrong-type",
    ),
    Case(
        "task-defaults is empty",
        workflow("task-defaults: {}"),
        3,
        18,
        "wf.task-defaults",
        "wrong-type",
    ),
    Case(
        "task-defaults with a negative timeout",
        workflow("""
            task-defaults:
              timeout: -30
            """),
        4,
        14,
        "wf.task-defaults.timeout",
        "negative",
    ),
    Case(
        "task-defaults with a retry that has no count",
        workflow("""
            task-defaults:
              retry:
                delay: 5
            """),
        5,
        7,
        "wf.task-defaults.retry",
        "missing-attribute",
    ),
    Case(
        "task-defaults safe-rerun is a string",
        workflow("""
            task-defaults:
              safe-rerun: yes please
            """),
        4,
        17,
        "wf.task-defaults.safe-rerun",
        "not-an-expression",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_workflow_errors_name_line_column_and_path(case: Case) -> None:
    check(case)
