"""Invalid documents: each error names the right line, column and attribute path."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from meltemi.lang import Severity, parse


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    column: int
    path: str
    code: str
    severity: Severity = Severity.ERROR


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


CASES = [
    Case(
        "unknown task in on-success list",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                  on-success:
                    - t2
                    - t9
                t2:
                  action: std.noop
            """),
        8,
        11,
        "wf.tasks.t1.on-success[1]",
        "unknown-task",
    ),
    Case(
        "yaql syntax error inside publish",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                  publish:
                    x: <% $.a + %>
            """),
        7,
        21,
        "wf.tasks.t1.publish.x",
        "expression-syntax",
    ),
    Case(
        "negative wait-before",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  wait-before: -5
            """),
        5,
        20,
        "wf.tasks.t1.wait-before",
        "negative",
    ),
    Case(
        "action and workflow in one task",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                  workflow: other
            """),
        6,
        17,
        "wf.tasks.t1.workflow",
        "action-and-workflow",
    ),
    Case(
        "bare word inline parameter",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.echo output=fast
            """),
        5,
        24,
        "wf.tasks.t1.action",
        "dropped-inline-param",
        Severity.WARNING,
    ),
    Case(
        "version 3.0",
        doc("""
            version: '3.0'
            wf:
              tasks:
                t1:
                  action: std.noop
            """),
        1,
        10,
        "version",
        "bad-version",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_reports_position_and_path(case: Case) -> None:
    result = parse(case.text, "wf.yaml")
    found = [(d.line, d.column, d.path, d.code, d.severity) for d in result.diagnostics]
    assert (case.line, case.column, case.path, case.code, case.severity) in found, found
