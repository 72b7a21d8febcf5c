"""Whatever the quick YAQL recogniser calls well formed, yaql's parser accepts.

The recogniser lets validation skip yaql's slow parser for simple expressions; if
it ever accepted an expression yaql rejects, a broken workflow would be registered.
So: every corpus expression and thousands of generated ones, near the subset and
inside it, are checked against the real checker.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meltemi.expressions import check_syntax
from meltemi.lang._nodes import Node
from meltemi.lang._yaml import load_yaml
from meltemi.lang._yaql_shapes import (
    _SIMPLE,
    _Recogniser,
    _tokens,
    certainly_valid,
    certainly_valid_yaql_text,
)


def strings(node: Node) -> list[str]:
    found: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.is_map:
            stack.extend(v for _k, v in current.entries)
        elif current.is_seq:
            stack.extend(current.items)
        elif isinstance(current.scalar, str):
            found.append(current.scalar)
    return found


def test_corpus_expressions_the_recogniser_accepts_are_valid(corpus: Path) -> None:
    expressions: set[str] = set()
    for line in (corpus / "INDEX.tsv").read_text().splitlines()[1:]:
        root = load_yaml((corpus / line.split("\t")[0]).read_bytes(), "x.yaml").root
        if root is not None:
            expressions.update(s for s in strings(root) if "<%" in s)
    accepted = [e for e in expressions if certainly_valid_yaql_text(e)]
    assert [e for e in accepted if check_syntax(e)] == []
    assert len(accepted) > len(expressions) // 2  # it is worth having


@pytest.mark.parametrize(
    "expression",
    [
        "$",
        "$.name",
        "$.a.b[0]['k']",
        "task().result",
        "task('fetch').result.content",
        "task(fetch).result",
        "$.items.where($ > 1).len()",
        "$.count + 1",
        "$.a = 'x' and not $.b",
        "$.x * -1",
        "(1 + 2) * 3",
        "$.n mod 2 = 0 or $.n in $.list",
        'env().get("key", null)',
        "$var.field",
    ],
)
def test_common_shapes_are_recognised(expression: str) -> None:
    assert certainly_valid(expression)
    assert check_syntax(f"<% {expression} %>") == []


@pytest.mark.parametrize(
    "expression",
    [
        "",
        "$.",
        "$.a +",
        "$.a $.b",
        "$.a and",
        "(1",
        "f(1,)",
        "$.a[",
        "$.not",
        "[1, 2]",
        "{a => 1}",
        "$.a.where($ => 1)",
        "'it\\'s'",
        "1.5.3",
        "$.a ? 1",
        "#",
        "$.__execution",  # yaql's lexer refuses names that start with two underscores
        "$.a.__b",
        "__f()",
    ],
)
def test_anything_else_is_left_to_yaql(expression: str) -> None:
    assert not certainly_valid(expression)


def test_names_with_two_leading_underscores_are_invalid_yaql() -> None:
    # Mistral 23.0.0 refuses `<% $.__execution %>` at registration: "Lexical error:
    # illegal character '_' at position 2".
    assert check_syntax("<% $.__execution.id %>") != []
    assert check_syntax("<% $._private + $__var %>") == []


def test_the_quick_pattern_is_a_part_of_the_grammar() -> None:
    # what the one-regex path accepts, the recursive recogniser accepts too
    for expression in ["$.a", "task().result.get(x)", "$.n * 2 + 1 >= $.m or not $.b"]:
        assert _SIMPLE.fullmatch(expression)
        assert _Recogniser(_tokens(expression) or []).accepts()


def test_text_with_jinja_is_left_to_the_checker() -> None:
    assert not certainly_valid_yaql_text("<% $.a %> {{ _.b }}")
    assert certainly_valid_yaql_text("prefix <% $.a %> and <% $.b + 1 %>")
    assert certainly_valid_yaql_text("no expression at all")


ATOMS = st.sampled_from(
    ["$", "$.a", "$x", "1", "2.5", "'s'", '"d"', "true", "null", "word", "task()", "f(1, $)"]
)
TOKENS = st.sampled_from(
    [
        "$",
        ".",
        "a",
        "get",
        "(",
        ")",
        "[",
        "]",
        ",",
        "+",
        "-",
        "*",
        "/",
        "=",
        "!=",
        "<",
        ">=",
        "and",
        "or",
        "not",
        "in",
        "mod",
        "1",
        "0.5",
        "'x'",
        "true",
        "null",
        "is",
        "=>",
        "?",
        "x",
    ]
)


def composed() -> st.SearchStrategy[str]:
    """Expressions built from the recognised grammar (mostly valid)."""
    return st.recursive(
        ATOMS,
        lambda inner: st.one_of(
            st.tuples(
                inner,
                st.sampled_from(
                    ["+", "-", "*", "/", "=", "!=", "<", ">=", "and", "or", "in", "mod"]
                ),
                inner,
            ).map(" ".join),
            inner.map(lambda e: f"not {e}"),
            inner.map(lambda e: f"-{e}"),
            inner.map(lambda e: f"({e})"),
            inner.map(lambda e: f"{e}.key"),
            st.tuples(inner, inner).map(lambda p: f"{p[0]}[{p[1]}]"),
            st.tuples(inner, st.lists(inner, max_size=3)).map(
                lambda p: f"{p[0]}.m({', '.join(p[1])})"
            ),
            st.lists(inner, max_size=3).map(lambda args: f"fn({', '.join(args)})"),
        ),
        max_leaves=8,
    )


def squeezed(expression: str) -> str:
    """The same expression without the spaces around punctuation and operators."""
    for token in (" . ", " ( ", " ) ", " , ", " [ ", " ] ", " + ", " - ", " * ", " = ", " < "):
        expression = expression.replace(token, token.strip())
    return expression


EXPRESSIONS = st.one_of(
    composed(),
    composed().map(squeezed),
    st.lists(TOKENS, min_size=1, max_size=8).map(" ".join),
    st.lists(TOKENS, min_size=1, max_size=8).map("".join),
)


@settings(max_examples=500, deadline=None)
@given(EXPRESSIONS)
def test_the_recogniser_never_accepts_what_yaql_rejects(expression: str) -> None:
    if certainly_valid(expression):
        assert check_syntax(f"<% {expression} %>") == [], expression
