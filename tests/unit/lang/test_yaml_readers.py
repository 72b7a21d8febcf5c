"""The fast YAML reader builds exactly the tree PyYAML builds, or leaves the text to it.

Property: for any text, when the fast reader returns a tree, the complete reader
(PyYAML) reads the text without error into the same tree (kinds, values and their
types, lines, columns, offsets, quoting style) with the same diagnostics.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meltemi.lang._fast_yaml import read_simple_yaml
from meltemi.lang._nodes import Node
from meltemi.lang._yaml import load_yaml

Shape = tuple[object, ...]


def shape(node: Node) -> Shape:
    own = (node.kind, node.scalar, type(node.scalar), node.line, node.column, node.start)
    own += (node.end, node.style)
    if node.is_map:
        return (*own, tuple((shape(k), shape(v)) for k, v in node.entries))
    if node.is_seq:
        return (*own, tuple(shape(i) for i in node.items))
    return own


def diagnostics_of(text: str, *, fast: bool) -> list[tuple[int, int, str, str, str]]:
    result = load_yaml(text, "x.yaml", fast=fast)
    return [(d.line, d.column, d.path, d.code, d.message) for d in result.diagnostics]


def assert_same_as_pyyaml(text: str) -> bool:
    """True when the fast reader read the text (and agreed with PyYAML)."""
    fast = read_simple_yaml(text)
    if fast is None:
        return False
    complete = load_yaml(text, "x.yaml", fast=False)
    assert complete.root is not None, f"the fast reader accepted what PyYAML rejects: {text!r}"
    assert shape(fast[0]) == shape(complete.root), text
    assert diagnostics_of(text, fast=True) == diagnostics_of(text, fast=False)
    return True


def doc(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


READ_FAST = [
    doc("""
        version: '2.0'
        wf:
          tasks:
            t1:
              action: std.echo output="hi" # a comment
              on-success:
                - t2
                - t3: <% $.x > 1 %>
            t2: {}
        """).replace("t2: {}", "t2:\n      action: std.noop"),
    "---\nversion: 2.0\nwf:\n  tasks:\n    t: {}\n".replace("t: {}", "t:\n      action: x"),
    "a:\n- x\n- y: 1\n  z: 'it''s'\n-\n- - \n".replace("- - \n", "- w\n"),
    "a: 1\nb: -2\nc: 0x1f\nd: 1.5e3\ne: yes\nf: ~\ng: 2001-12-14\nh: .inf\ni: 1_000\n",
    "1: one\ntrue: yes\n2.5: x\n2020-01-01: d\n",
    "a: http://example.com/x?y=1#frag\nb: a#b\nc: 'q' # c\nd: \"dq\"   \ne:\n",
    "a: 1\na: 2\nb:\n  c: 1\n  c: 2\n",
    "a:   \n  # comment between\n\n  b: 1\n",
    "a: <% $.x %> and <% $.y %>\nb: some text: with colon? no\n".replace(": with", " with"),
    "seq:\n  - a: 1\n    b:\n      - 1\n      - 2\n  - c\n",
]

LEFT_TO_PYYAML = [
    "a: [1, 2]\n",
    "a: {b: 1}\n",
    "a: |\n  text\n",
    "a: >\n  text\n",
    "a: &x 1\n",
    "a: *x\n",
    "a: !!str 1\n",
    'a: "esc\\n"\n',
    "a: multi\n  line\n",
    "a: 'multi\n  line'\n",
    "a:\tb\n",
    "a: 1\r\n",
    "? a\n: b\n",
    "'quoted': 1\n",
    "- a\n- b\n",
    "just text\n",
    "",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\n---\nb: 2\n",
    "a: b: c\n",
    "~: 1\n",
    "<<: 1\n",
    "a: - b\n",
    "  a: 1\n",
]


@pytest.mark.parametrize("text", READ_FAST)
def test_fast_reader_reads_plain_block_yaml_as_pyyaml_does(text: str) -> None:
    assert assert_same_as_pyyaml(text)


@pytest.mark.parametrize("text", LEFT_TO_PYYAML)
def test_fast_reader_leaves_the_rest_of_yaml_to_pyyaml(text: str) -> None:
    assert read_simple_yaml(text) is None


def test_fast_reader_agrees_on_the_corpus(corpus: Path) -> None:
    lines = (corpus / "INDEX.tsv").read_text().splitlines()[1:]
    read = 0
    for line in lines:
        text = (corpus / line.split("\t")[0]).read_text(encoding="utf-8")
        read += assert_same_as_pyyaml(text)
    assert read > len(lines) // 2  # most real documents are plain block YAML


_SCALARS = [
    "a",
    "key",
    "on-success",
    "std.echo output=<% $.x %>",
    "1",
    "-1",
    "1.5",
    "0o17",
    "true",
    "No",
    "null",
    "~",
    "2001-12-14",
    "'q'",
    "'it''s'",
    "''",
    '"dq"',
    '""',
    "http://x",
    "a#b",
    "x # c",
    "x   ",
    "é ü",
    "-a",
    "?x",
    ":x",
]
_KEYS = ["a", "b", "key", "on-success", "t1", "1", "true", "2001-12-14", "x y", "é"]
_NOISE = ["- ", "-", ": ", ":", "#", "---", "[1]", "{a: 1}", "|", "&a", "*a", "'", '"', "\t"]


def trees() -> st.SearchStrategy[object]:
    scalars = st.sampled_from(_SCALARS)
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=4),
            st.lists(st.tuples(st.sampled_from(_KEYS), inner), min_size=1, max_size=4).map(dict),
        ),
        max_leaves=20,
    )


def render(tree: object, indent: int, draw: st.DrawFn, out: list[str]) -> None:
    """Block YAML for a tree, with varied but valid layout choices."""
    pad = " " * indent
    step = draw(st.sampled_from([1, 2, 2, 4]))
    if isinstance(tree, dict):
        for key, value in tree.items():
            if isinstance(value, str):
                out.append(f"{pad}{key}:{draw(st.sampled_from([' ', '  ']))}{value}")
                continue
            out.append(f"{pad}{key}:{draw(st.sampled_from(['', '  ', ' # c']))}")
            indentless = isinstance(value, list) and draw(st.booleans())
            render(value, indent if indentless else indent + step, draw, out)
    elif isinstance(tree, list):
        for item in tree:
            if isinstance(item, str):
                out.append(f"{pad}- {item}")
            elif isinstance(item, dict) and draw(st.booleans()):
                inner: list[str] = []
                render(item, indent + 2, draw, inner)
                out.append(f"{pad}- {inner[0].lstrip(' ')}")
                out.extend(inner[1:])
            else:
                out.append(f"{pad}-")
                render(item, indent + step, draw, out)
    else:
        out.append(f"{pad}{tree}")


@st.composite
def block_yaml(draw: st.DrawFn) -> str:
    root = draw(st.dictionaries(st.sampled_from(_KEYS), trees(), min_size=1, max_size=4))
    lines: list[str] = []
    if draw(st.booleans()):
        lines.append("---")
    render(root, 0, draw, lines)
    for _ in range(draw(st.integers(0, 3))):  # comments and blank lines anywhere
        at = draw(st.integers(0, len(lines)))
        lines.insert(at, draw(st.sampled_from(["", "   ", "# note", "    # indented note"])))
    if draw(st.integers(0, 3)) == 0:  # and now and then something broken
        at = draw(st.integers(0, len(lines) - 1))
        line = lines[at]
        cut = draw(st.integers(0, len(line)))
        lines[at] = line[:cut] + draw(st.sampled_from(_NOISE)) + line[cut:]
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\n\n", "\n# end\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(block_yaml())
def test_fast_reader_never_disagrees_with_pyyaml(text: str) -> None:
    assert_same_as_pyyaml(text)
