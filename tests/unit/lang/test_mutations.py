"""Mutated corpus documents: nothing but a definition error ever comes out.

Real workflows from the corpus are broken in the ways people break them: keys
dropped or renamed, values of the wrong type, random scalars, lists and mappings
in their place, the text cut short, stray characters typed in, lines duplicated
(duplicate keys) or lost. Whatever comes out, ``parse()`` returns diagnostics
instead of raising, ``load()`` raises nothing but ``DefinitionError``, and every
diagnostic points at a real place (line and column from 1).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meltemi.lang import DefinitionError, Document, Severity, load, parse
from meltemi.lang._yaml import JsonValue, load_yaml

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(min_value=-1e9, max_value=1e9),
    st.sampled_from(
        [
            "",
            "std.noop",
            "std.echo output=fast",
            "fail msg=<% $.x %>",
            "<% $.x %>",
            "<% $.x + %>",
            "{{ _.x }}",
            "{{ _.x + }}",
            "<% $.a %> {{ _.b }}",
            "x in <% $.xs %>",
            "x in [1, 2,",
            "all",
            "one",
            "direct",
            "reverse",
            "2.0",
            "noop",
            "t1",
            "count=3 delay=1",
            "123e4567-e89b-12d3-a456-426614174000",
        ]
    ),
    st.text(max_size=12),
)


def values(depth: int = 2) -> st.SearchStrategy[JsonValue]:
    if depth == 0:
        return SCALARS
    inner = values(depth - 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3),
        st.dictionaries(st.text(max_size=8), inner, max_size=3),
    )


@functools.cache
def corpus_texts(corpus: Path) -> tuple[str, ...]:
    lines = (corpus / "INDEX.tsv").read_text().splitlines()[1:]
    return tuple(
        (corpus / line.split("\t")[0]).read_text(encoding="utf-8") for line in lines if line
    )


def containers(data: JsonValue) -> list[dict[str, JsonValue] | list[JsonValue]]:
    """Every mapping and list inside a value, the value included."""
    found: list[dict[str, JsonValue] | list[JsonValue]] = []
    stack = [data]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            found.append(current)
            stack.extend(current.values())
        elif isinstance(current, list):
            found.append(current)
            stack.extend(current)
    return found


def mutate_data(data: JsonValue, draw: st.DrawFn) -> JsonValue:
    """Drops a key or an item, swaps a value for another type, or renames a key."""
    spots = containers(data)
    if not spots:
        return draw(values())
    spot = draw(st.sampled_from(spots))
    if isinstance(spot, dict):
        if not spot:
            spot[draw(st.text(max_size=8))] = draw(values())
            return data
        key = draw(st.sampled_from(sorted(spot)))
        action = draw(st.sampled_from(["drop", "replace", "rename"]))
        if action == "drop":
            del spot[key]
        elif action == "replace":
            spot[key] = draw(values())
        else:
            spot[draw(st.text(min_size=1, max_size=10))] = spot.pop(key)
    elif spot:
        index = draw(st.integers(0, len(spot) - 1))
        if draw(st.booleans()):
            del spot[index]
        else:
            spot[index] = draw(values())
    else:
        spot.append(draw(values()))
    return data


NOISE = st.sampled_from(
    [":", "- ", "'", '"', "{", "[", "]", "}", "&a ", "*a", "!!", "%", "#", "\t", "\n", "  ", "|"]
) | st.text(max_size=4)


def mutate_text(text: str, draw: st.DrawFn) -> str:
    """Cuts the text, types characters into it, or duplicates or drops a line."""
    action = draw(st.sampled_from(["cut", "insert", "duplicate line", "drop line"]))
    if action == "cut":
        return text[: draw(st.integers(0, len(text)))]
    if action == "insert":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(NOISE) + text[at:]
    lines = text.splitlines(keepends=True)
    if not lines:
        return text
    index = draw(st.integers(0, len(lines) - 1))
    if action == "duplicate line":
        lines.insert(index, lines[index])
    else:
        del lines[index]
    return "".join(lines)


@st.composite
def mutated(draw: st.DrawFn, corpus: Path) -> str:
    # The corpus is passed by its path: hypothesis shows a strategy's arguments.
    text = draw(st.sampled_from(corpus_texts(corpus)))
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):
            root = load_yaml(text, "x.yaml").root
            if root is not None:
                data = mutate_data(root.to_python(), draw)
                text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
                continue
        text = mutate_text(text, draw)
    return text


def assert_only_definition_errors(text: str) -> None:
    result = parse(text, "mutant.yaml")
    # YAML breaks lines at CR, LF, CRLF, NEL and the Unicode separators too.
    line_count = len(re.split("\r\n|[\r\n\x85\u2028\u2029]", text))
    for d in result.diagnostics:
        assert 1 <= d.line <= line_count, d
        assert d.column >= 1, d
        assert d.severity in (Severity.ERROR, Severity.WARNING)
        assert d.message
        assert d.code
        assert d.file == "mutant.yaml"
    if result.document is None:
        assert result.errors, "no document and no error"
    if result.errors:
        with pytest.raises(DefinitionError) as raised:
            load(text, "mutant.yaml")
        assert raised.value.errors == result.errors
        assert raised.value.render()
    else:
        assert isinstance(load(text, "mutant.yaml"), Document)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_mutated_corpus_documents_give_definition_errors_only(
    corpus: Path, data: st.DataObject
) -> None:
    text = data.draw(mutated(corpus))
    assert_only_definition_errors(text)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_definition_errors_only(raw: bytes) -> None:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        result = parse(raw, "mutant.yaml")
        assert [d.code for d in result.diagnostics] == ["not-utf8"]
        return
    assert_only_definition_errors(text)
