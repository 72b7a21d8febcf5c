"""Loading workflow documents: text in, validated specs or diagnostics out.

:func:`parse` never raises on bad input: it returns the document (when it could be
built) and every diagnostic, in source order. :func:`load` raises
:class:`~meltemi.lang.errors.DefinitionError` when there is an error (or, with
``strict``, a warning).
"""

from __future__ import annotations

from dataclasses import dataclass

from meltemi.lang._collector import collector_paused
from meltemi.lang._documents import build_document
from meltemi.lang._reader import Reader
from meltemi.lang._yaml import load_yaml
from meltemi.lang.errors import DefinitionError, Diagnostic, Severity, sort_diagnostics
from meltemi.lang.specs import Document, DocumentKind


@dataclass(frozen=True, slots=True)
class ParseResult:
    document: Document | None
    diagnostics: tuple[Diagnostic, ...]
    source: str

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.severity is Severity.WARNING)

    def is_valid(self, *, strict: bool = False) -> bool:
        return self.document is not None and not (self.diagnostics if strict else self.errors)


def parse(
    data: str | bytes, file: str = "<definition>", *, kind: DocumentKind | None = None
) -> ParseResult:
    """Parses and validates a document; never raises for bad input.

    Args:
        data: the YAML text, or its bytes (UTF-8).
        file: the name shown in diagnostics.
        kind: what the document must be (as the API endpoint says); guessed when None.
    """
    with collector_paused():
        return _parse(data, file, kind)


def _parse(data: str | bytes, file: str, kind: DocumentKind | None) -> ParseResult:
    # A function of its own, so that the YAML tree is freed before the collector is
    # back on (it would walk every node once more).
    loaded = load_yaml(data, file)
    diagnostics = list(loaded.diagnostics)
    document = None
    if loaded.root is not None:
        reader = Reader(loaded.source, diagnostics)
        document = build_document(reader, loaded.root, kind)
    return ParseResult(document, sort_diagnostics(diagnostics), loaded.source.text)


def load(
    data: str | bytes,
    file: str = "<definition>",
    *,
    kind: DocumentKind | None = None,
    strict: bool = False,
) -> Document:
    """The document's specs; raises DefinitionError when it is not valid."""
    result = parse(data, file, kind=kind)
    if not result.is_valid(strict=strict) or result.document is None:
        raise DefinitionError(result.diagnostics, result.source)
    return result.document
