"""Invalid documents as a whole: version, workbooks, ad-hoc actions, workflow names."""

from __future__ import annotations

import pytest

from meltemi.lang import DocumentKind, parse
from tests.unit.lang.cases import Case, check, doc, ids

WORKFLOW = """
wf:
  tasks:
    t1:
      action: std.noop
"""

CASES = [
    Case("no version", WORKFLOW.lstrip("\n"), 1, 1, "", "missing-version"),
    Case("version 3.0", "version: '3.0'" + WORKFLOW, 1, 10, "version", "bad-version"),
    Case("version 2.1", "version: 2.1" + WORKFLOW, 1, 10, "version", "bad-version"),
    Case("version as a list", "version: ['2.0']" + WORKFLOW, 1, 10, "version", "bad-version"),
    Case("nothing but a version", "version: '2.0'\n", 1, 1, "", "empty-document"),
    Case(
        "workbook without a name",
        doc("""
            version: '2.0'
            workflows:
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        1,
        1,
        "",
        "missing-attribute",
    ),
    Case(
        "workbook name is a list",
        doc("""
            version: '2.0'
            name: [wb]
            workflows:
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        2,
        7,
        "name",
        "wrong-type",
    ),
    Case(
        "unknown workbook attribute",
        doc("""
            version: '2.0'
            name: wb
            tag: [x]
            workflows:
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        3,
        1,
        "tag",
        "unknown-attribute",
    ),
    Case(
        "workbook tags is a mapping",
        doc("""
            version: '2.0'
            name: wb
            tags: {a: 1}
            workflows:
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        3,
        7,
        "tags",
        "wrong-type",
    ),
    Case(
        "workbook with an empty workflows section",
        "version: '2.0'\nname: wb\nworkflows: {}\n",
        3,
        12,
        "workflows",
        "wrong-type",
    ),
    Case(
        "workbook with an empty actions section",
        doc("""
            version: '2.0'
            name: wb
            actions: {}
            workflows:
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        3,
        10,
        "actions",
        "wrong-type",
    ),
    Case(
        "workbook member name with a space",
        doc("""
            version: '2.0'
            name: wb
            workflows:
              my wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        4,
        3,
        "workflows.my wf",
        "bad-name",
    ),
    Case(
        "workbook section with another version",
        doc("""
            version: '2.0'
            name: wb
            workflows:
              version: '3.0'
              wf:
                tasks:
                  t1:
                    action: std.noop
            """),
        4,
        12,
        "workflows.version",
        "bad-version",
    ),
    Case(
        "ad-hoc action without base",
        doc("""
            version: '2.0'
            name: wb
            actions:
              greet:
                base-input:
                  output: hi
            """),
        4,
        3,
        "actions.greet",
        "missing-attribute",
    ),
    Case(
        "unknown ad-hoc action attribute",
        doc("""
            version: '2.0'
            greet:
              base: std.echo
              outputs: <% $ %>
            """),
        4,
        3,
        "greet.outputs",
        "unknown-attribute",
    ),
    Case(
        "ad-hoc base is a number",
        doc("""
            version: '2.0'
            name: wb
            actions:
              greet:
                base: 3
            """),
        5,
        11,
        "actions.greet.base",
        "wrong-type",
    ),
    Case(
        "ad-hoc base-input is a list",
        doc("""
            version: '2.0'
            greet:
              base: std.echo
              base-input: [output]
            """),
        4,
        15,
        "greet.base-input",
        "wrong-type",
    ),
    Case(
        "ad-hoc action input named twice",
        doc("""
            version: '2.0'
            greet:
              base: std.echo
              input:
                - name
                - name: x
            """),
        6,
        7,
        "greet.input[1]",
        "duplicate",
    ),
    Case(
        "ad-hoc action input is a mapping",
        doc("""
            version: '2.0'
            greet:
              base: std.echo
              input:
                name: x
            """),
        5,
        5,
        "greet.input",
        "wrong-type",
    ),
    Case(
        "ad-hoc action with a reserved input name",
        doc("""
            version: '2.0'
            greet:
              base: std.echo
              input:
                - __env
            """),
        5,
        7,
        "greet.input[0]",
        "reserved-name",
    ),
    Case(
        "workflow that is a string",
        "version: '2.0'\nwf: just a string\n",
        2,
        5,
        "wf",
        "wrong-type",
    ),
    Case("workflow that is empty", "version: '2.0'\nwf:\n", 2, 1, "wf", "wrong-type"),
    Case(
        "workflow named like a UUID",
        "version: '2.0'\n123e4567-e89b-12d3-a456-426614174000:" + WORKFLOW.replace("wf:", ""),
        2,
        1,
        "123e4567-e89b-12d3-a456-426614174000",
        "bad-name",
    ),
    Case(
        "workflow named like a UUID without dashes",
        "version: '2.0'\n123e4567e89b12d3a456426614174000:" + WORKFLOW.replace("wf:", ""),
        2,
        1,
        "123e4567e89b12d3a456426614174000",
        "bad-name",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_document_errors_name_line_column_and_path(case: Case) -> None:
    check(case)


def test_an_actions_document_without_base_says_so() -> None:
    text = "version: '2.0'\ngreet:\n  base-input:\n    output: hi\n"
    result = parse(text, "actions.yaml", kind=DocumentKind.ACTIONS)
    found = [(d.line, d.column, d.path, d.code) for d in result.errors]
    assert found == [(2, 1, "greet", "missing-attribute")]


def test_every_error_of_a_document_is_reported_at_once_in_source_order() -> None:
    text = doc("""
        version: '2.0'
        wf:
          tasks:
            t1:
              action: std.noop
              wait-before: -1
              on-success: t9
            t2:
              action: std.noop
              retry: {count: 3}
        """)
    result = parse(text, "wf.yaml")
    assert [(d.line, d.code) for d in result.errors] == [
        (6, "negative"),
        (7, "unknown-task"),
        (10, "missing-attribute"),
    ]
