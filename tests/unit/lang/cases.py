"""Invalid documents and what the validator must say about them.

Each case is a document and the one diagnostic it must produce: line, column,
attribute path, code and severity. ``count`` is how many diagnostics the document
produces in all, so that a case also fails when the validator says more than it
should (a second, confusing error about the same mistake).
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

import pytest

from meltemi.lang import DefinitionError, Severity, load, parse, render_diagnostics


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    line: int
    column: int
    path: str
    code: str
    severity: Severity = Severity.ERROR
    count: int = 1


def doc(text: str) -> str:
    """A document written indented in a test, without its indentation."""
    return textwrap.dedent(text).lstrip("\n")


def warning(
    id: str, text: str, line: int, column: int, path: str, code: str, count: int = 1
) -> Case:
    """A case whose diagnostic is a warning."""
    return Case(id, text, line, column, path, code, Severity.WARNING, count)


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


def check(case: Case) -> None:
    """The document gets the case's diagnostic, and validates (or not) accordingly."""
    result = parse(case.text, "wf.yaml")
    found = [(d.line, d.column, d.path, d.code, d.severity) for d in result.diagnostics]
    expected = (case.line, case.column, case.path, case.code, case.severity)
    shown = render_diagnostics(result.diagnostics, result.source)
    assert expected in found, f"{expected} not in:\n{shown}"
    assert len(found) == case.count, f"expected {case.count} diagnostic(s):\n{shown}"
    if case.severity is Severity.ERROR:
        assert not result.is_valid()
        with pytest.raises(DefinitionError) as raised:
            load(case.text, "wf.yaml")
        assert any(d.code == case.code for d in raised.value.errors)
    else:
        assert result.is_valid(), shown  # warnings never make a document invalid...
        assert not result.is_valid(strict=True)  # ...unless asked to be strict
        load(case.text, "wf.yaml")
        with pytest.raises(DefinitionError):
            load(case.text, "wf.yaml", strict=True)
