"""Diagnostics about workflow documents, and the error that carries them.

::

    MeltemiError
    └── DefinitionError     one or more error diagnostics in a document

A :class:`Diagnostic` names the file, the line and column (1-based), the attribute
path inside the document (``wf.tasks.notify.on-error[1]``), what is wrong, and what
to do about it. Warnings are diagnostics too; they never make a document invalid
unless the caller asks for strict validation.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from meltemi.errors import MeltemiError


class Severity(enum.StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class Diagnostic:
    """One finding about a document, anchored to a position in its source."""

    severity: Severity
    code: str
    message: str
    file: str
    line: int
    column: int
    path: str = ""
    hint: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, int, str]:
        return (self.file, self.line, self.column, self.severity != Severity.ERROR, self.message)

    def headline(self) -> str:
        """``file:line:col: error: path: message`` on one line."""
        where = f"{self.path}: " if self.path else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {where}{self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "severity": str(self.severity),
            "code": self.code,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """Diagnostics in source order, without exact duplicates."""
    return tuple(sorted(set(diagnostics), key=lambda d: d.sort_key))


def render_diagnostic(diagnostic: Diagnostic, source: str | None) -> str:
    """Renders a diagnostic like a compiler: headline, source line, caret, hint."""
    lines = [diagnostic.headline()]
    if source is not None:
        source_lines = source.splitlines()
        if 1 <= diagnostic.line <= len(source_lines):
            text = source_lines[diagnostic.line - 1].expandtabs(1)
            lines.append(f"    {text}")
            lines.append("    " + " " * max(diagnostic.column - 1, 0) + "^")
    if diagnostic.hint:
        lines.append(f"    hint: {diagnostic.hint}")
    return "\n".join(lines)


def render_diagnostics(diagnostics: Sequence[Diagnostic], source: str | None) -> str:
    return "\n".join(render_diagnostic(d, source) for d in diagnostics)


class DefinitionError(MeltemiError):
    """A workflow document is not valid; ``diagnostics`` says where and why.

    The message lists every error of the document in source order, one per line,
    as ``file:line:col: error: path: message``.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic], source: str | None = None) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        self.source = source
        errors = [d for d in self.diagnostics if d.severity == Severity.ERROR]
        shown = errors or list(self.diagnostics)
        super().__init__("\n".join(d.headline() for d in shown))

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity == Severity.ERROR)

    def render(self) -> str:
        """The compiler-style text of every diagnostic, with source lines and carets."""
        return render_diagnostics(self.diagnostics, self.source)
