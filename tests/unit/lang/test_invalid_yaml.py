"""Bad input never crashes the validator: YAML errors, bytes, empty files, bombs, size."""

from __future__ import annotations

import pytest

from meltemi.lang import DefinitionError, Severity, load, parse
from meltemi.lang._yaml import MAX_DOCUMENT_BYTES
from tests.unit.lang.cases import Case, check, doc, ids

CASES = [
    Case(
        "bad indentation",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                 publish: {}
            """),
        6,
        6,
        "",
        "yaml-syntax",
    ),
    Case(
        "unclosed quote points at where it opens",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: "std.noop
            """),
        5,
        15,
        "",
        "yaml-syntax",
    ),
    Case(
        "tab indentation",
        "version: '2.0'\nwf:\n\ttasks: {}\n",
        3,
        1,
        "",
        "yaml-syntax",
    ),
    Case(
        "two documents in one file",
        "version: '2.0'\n---\nwf: {}\n",
        2,
        1,
        "",
        "yaml-syntax",
    ),
    Case(
        "unclosed flow list",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  on-success: [t2, t3
                t2: {}
            """),
        6,
        7,
        "",
        "yaml-syntax",
    ),
    Case("empty file", "", 1, 1, "", "empty-document"),
    Case("only comments and blanks", "# nothing here\n\n   \n", 1, 1, "", "empty-document"),
    Case("a list, not a mapping", "- version: '2.0'\n- wf: {}\n", 1, 1, "", "wrong-type"),
    Case("a scalar, not a mapping", "just some text\n", 1, 1, "", "wrong-type"),
    Case(
        "control character",
        "version: '2.0'\nwf:\n  description: bell \x07\n",
        3,
        21,
        "",
        "yaml-syntax",
    ),
    Case(
        "unsupported tag",
        doc("""
            version: '2.0'
            wf:
              vars:
                x: !!binary aGVsbG8=
              tasks:
                t1:
                  action: std.noop
            """),
        4,
        8,
        "wf.vars.x",
        "yaml-tag",
    ),
    Case(
        "python tag is never constructed",
        doc("""
            version: '2.0'
            wf:
              vars:
                x: !!python/object/apply:os.system ["true"]
              tasks:
                t1:
                  action: std.noop
            """),
        4,
        8,
        "wf.vars.x",
        "yaml-tag",
    ),
    Case(
        "a list as a mapping key",
        doc("""
            version: '2.0'
            wf:
              vars:
                [a, b]: 1
                c: 2
              tasks:
                t1:
                  action: std.noop
            """),
        4,
        5,
        "wf.vars",
        "bad-key",
    ),
    Case(
        "duplicate task names",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                t1:
                  action: std.echo output=1
            """),
        6,
        5,
        "wf.tasks.t1",
        "duplicate-key",
    ),
    Case(
        "duplicate workflow names",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
            wf:
              tasks:
                t2:
                  action: std.noop
            """),
        6,
        1,
        "wf",
        "duplicate-key",
    ),
    Case(
        "duplicate attribute (read by the complete reader)",
        doc("""
            version: '2.0'
            wf:
              tasks:
                t1:
                  action: std.noop
                  publish: {x: 1}
                  publish: {y: 2}
            """),
        7,
        7,
        "wf.tasks.t1.publish",
        "duplicate-key",
    ),
]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_bad_yaml_is_reported_at_its_position(case: Case) -> None:
    check(case)


def test_bytes_that_are_not_utf8_are_reported_at_the_first_bad_byte() -> None:
    data = b"version: '2.0'\nwf:\n  description: caf" + b"\xe9 au lait\n"
    result = parse(data, "wf.yaml")
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("not-utf8", 3, 19)
    assert "0xe9" in diagnostic.message
    assert result.document is None


def test_a_utf8_byte_order_mark_is_fine() -> None:
    data = b"\xef\xbb\xbfversion: '2.0'\nwf:\n  tasks:\n    t1:\n      action: std.noop\n"
    assert parse(data, "wf.yaml").is_valid()


def test_a_document_over_the_size_limit_is_refused_before_it_is_read() -> None:
    text = "version: '2.0'\n" + "#" * MAX_DOCUMENT_BYTES
    result = parse(text.encode(), "big.yaml")
    [diagnostic] = result.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column, diagnostic.path) == (
        "too-large",
        1,
        1,
        "",
    )
    with pytest.raises(DefinitionError):
        load(text, "big.yaml")


BOMB = doc("""
    version: '2.0'
    wf:
      vars:
        a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
        b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
        c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
        d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
        e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
        f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
        g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
        h: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
      tasks:
        t1:
          action: std.noop
    """)


def test_an_alias_bomb_is_plain_text_as_in_mistral() -> None:
    # Mistral's loader reads '&' and '*' as text, so 9**8 strings are never built.
    document = load(BOMB, "bomb.yaml")
    variables = document.workflow("wf").vars
    assert variables["h"] == ["*g"] * 9
    assert variables["a"] == '&a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'


def test_an_anchor_before_a_block_is_a_syntax_error_as_in_mistral() -> None:
    text = doc("""
        version: '2.0'
        base: &base
          tasks:
            t1:
              action: std.noop
        wf: *base
        """)
    result = parse(text, "wf.yaml")
    [diagnostic] = result.diagnostics
    assert (diagnostic.line, diagnostic.column, diagnostic.code) == (3, 8, "yaml-syntax")
    assert "mapping values are not allowed here" in diagnostic.message


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    text = "version: '2.0'\nwf:\n  vars:\n    x: " + "[" * 5000 + "]" * 5000 + "\n"
    result = parse(text, "deep.yaml")
    assert result.document is None
    assert [d.severity for d in result.diagnostics] == [Severity.ERROR]
    assert result.diagnostics[0].code in ("too-large", "yaml-syntax")
