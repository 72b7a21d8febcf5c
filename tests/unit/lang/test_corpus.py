"""Every real workflow of the shared corpus is accepted and survives a JSON round trip."""

from __future__ import annotations

from pathlib import Path

import orjson

from meltemi.lang import Severity, WorkflowSpec, parse, render_diagnostics
from meltemi.lang._serialize import from_json, to_json


def _index(corpus: Path) -> list[str]:
    lines = (corpus / "INDEX.tsv").read_text().splitlines()[1:]
    return [line.split("\t")[0] for line in lines if line.strip()]


def test_every_corpus_document_is_valid(corpus: Path) -> None:
    paths = _index(corpus)
    assert len(paths) > 150
    failures = []
    for relative in paths:
        result = parse((corpus / relative).read_bytes(), relative)
        if not result.is_valid():
            failures.append(render_diagnostics(result.errors, result.source))
    assert not failures, "\n\n".join(failures)


def test_corpus_warnings_are_only_the_known_dropped_parameters(corpus: Path) -> None:
    codes = set()
    for relative in _index(corpus):
        result = parse((corpus / relative).read_bytes(), relative)
        codes |= {d.code for d in result.diagnostics if d.severity is Severity.WARNING}
    # tripleo's baremetal workbook writes `maintenance=False`: Mistral drops it.
    assert codes == {"dropped-inline-param"}


def test_corpus_specs_round_trip_through_json(corpus: Path) -> None:
    count = 0
    for relative in _index(corpus):
        document = parse((corpus / relative).read_bytes(), relative).document
        assert document is not None
        for workflow in document.workflows:
            back = from_json(WorkflowSpec, orjson.loads(orjson.dumps(to_json(workflow))))
            assert back == workflow
            count += 1
    assert count > 300
