"""The YAQL fast path gives exactly what stock yaql gives, or hands over to it.

Every expression is evaluated both ways on the same data: by stock yaql with
Mistral's conversions (the reference) and by the compiled fast path. The fast path
may decline (``Fallback``, or not compile the shape at all); when it answers, its
answer must equal yaql's, with the same types, and yaql must not have failed.
Expressions come from the shared corpus of real workflows and from hypothesis.
"""

from __future__ import annotations

import math
import os
import random
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from yaql.language import expressions as nodes

from meltemi.expressions import _fast, _yaql
from meltemi.expressions._functions import Functions

KEYS = ("a", "b", "c", "result")
# More examples for a deeper run: MELTEMI_DIFFERENTIAL_EXAMPLES=20000 pytest ...
EXAMPLES = int(os.environ.get("MELTEMI_DIFFERENTIAL_EXAMPLES", "2000"))
FIXED_UUID = "0b8f4a4e-7d7c-4c8e-9d55-8a2f0e3c1a11"


class DataHost:
    """A deterministic host whose answers come from the data, so tasks return
    results of every shape the data has."""

    def __init__(self, data: Any) -> None:
        self.data = data if isinstance(data, dict) else {}

    def env(self) -> Any:
        return self.data.get("a", {"a": 1, "b": [1, 2]})

    def execution(self) -> Any:
        return {"id": "wf-1", "input": self.data.get("b"), "params": {}}

    def task(self, name: str | None) -> Any:
        if name == "absent":
            return None
        return {"id": "t", "name": name or "current", "result": self.data.get(name or "c")}

    def tasks(self, *args: Any) -> Any:
        return [self.task("a"), self.task("b")]

    def global_var(self, name: str) -> Any:
        return self.data.get(name)

    def executions(self, *args: Any) -> Any:
        return []


def _same(left: Any, right: Any) -> bool:
    """Equal, with the same types all the way down and dict keys in the same order."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, float) and math.isnan(left):
        return math.isnan(right)
    return bool(left == right)


@contextmanager
def _fixed_uuid() -> Iterator[None]:
    with mock.patch("meltemi.expressions._functions._uuid.uuid4", return_value=FIXED_UUID):
        yield


def compare(text: str, data: Any) -> str:
    """Evaluates ``text`` both ways; returns "fast", "fallback" or "uncompiled"."""
    try:
        statement = _yaql.parse(text)
    except Exception:  # noqa: BLE001  # not valid YAQL: neither path evaluates it
        return "invalid"
    compiled = _fast.compile_statement(statement)
    if compiled is None:
        return "uncompiled"
    host = DataHost(data)
    with _fixed_uuid():
        try:
            expected: tuple[str, Any] = (
                "value",
                _yaql.evaluate(statement, data, _yaql.convert_input(data), Functions(host, data)),
            )
        except Exception as e:  # noqa: BLE001  # errors are compared, whatever they are
            expected = ("error", f"{type(e).__name__}: {e}")
        try:
            got = compiled(data, Functions(host, data))
        except _fast.Fallback:
            return "fallback"
    assert expected[0] == "value", f"{text!r} on {data!r}: fast path gave {got!r}, yaql {expected}"
    assert _same(got, expected[1]), f"{text!r} on {data!r}: fast {got!r} != yaql {expected[1]!r}"
    return "fast"


# -- the corpus of real workflows

_YAQL = re.compile(r"<%.*?%>")


def _corpus_expressions(corpus: Path) -> list[str]:
    found = set()
    for path in sorted(corpus.rglob("*.yaml")):
        for raw in _YAQL.findall(path.read_text(errors="replace")):
            found.add(raw.strip("<%>").strip())
    return sorted(found)


def _names(text: str) -> list[str]:
    """Keywords and strings of an expression: the keys its data should have."""
    names: set[str] = set()

    def visit(node: Any) -> None:
        if isinstance(node, nodes.Constant) and isinstance(node.value, str):
            names.add(node.value)
        for child in getattr(node, "args", ()):
            visit(child)
        for attribute in ("expr", "expression", "source", "destination"):
            if hasattr(node, attribute) and isinstance(getattr(node, attribute), nodes.Expression):
                visit(getattr(node, attribute))

    visit(_yaql.parse(text))
    return sorted(names) or ["a"]


def _random_value(rng: random.Random, names: list[str], depth: int) -> Any:
    choice = rng.randrange(12 if depth < 3 else 8)
    scalars: list[Any] = [None, True, False, 0, 1, -7, 2.5, "", "x", rng.choice(names), 10**20]
    if choice < 7:
        return rng.choice(scalars)
    if choice == 7:
        return float(rng.randrange(-3, 4))
    if choice < 10:
        return {
            n: _random_value(rng, names, depth + 1) for n in rng.sample(names, min(3, len(names)))
        }
    return [_random_value(rng, names, depth + 1) for _ in range(rng.randrange(4))]


def _random_data(rng: random.Random, names: list[str]) -> dict[str, Any]:
    data = {name: _random_value(rng, names, 1) for name in names if rng.random() < 0.9}
    data["__env"] = {name: _random_value(rng, names, 2) for name in names[:3]}
    data["__task_execution"] = {"id": "t", "name": rng.choice(names)}
    return data


def test_corpus_expressions_agree_with_yaql(corpus: Path) -> None:
    expressions = _corpus_expressions(corpus)
    assert len(expressions) > 500
    rng = random.Random(20261125)
    outcomes: dict[str, int] = {}
    compiled = 0
    for text in expressions:
        outcome = "invalid"
        for _ in range(12):
            outcome = compare(text, _random_data(rng, _names(text)) if outcome != "invalid" else {})
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if outcome in ("invalid", "uncompiled"):
                break
        compiled += outcome not in ("invalid", "uncompiled")
    # Not a vacuous pass: most real expressions take the fast path at least sometimes.
    assert compiled > len(expressions) * 0.6, (compiled, len(expressions), outcomes)
    assert outcomes.get("fast", 0) > 3000, outcomes


# -- generated expressions and data

_key = st.sampled_from(KEYS)
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, 2.5]),
    st.sampled_from(["", "a", "b", "ab", "result", "x y"]),
)
_data = st.recursive(
    _scalar,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_key, children, max_size=4),
    max_leaves=12,
)
_root = st.dictionaries(_key, _data, max_size=4)

_literal = st.sampled_from(
    ["0", "1", "-2", "3", "7", "2.5", "0.0", "'a'", "'ab'", "''", '"result"', "true", "false",
     "null", "a", "b", "[]", "[1, 2]", "{}", "{a => 1}", "[1, 'a', null]", "1000000000000"]
)  # fmt: skip
_leaf = st.one_of(
    _literal,
    st.sampled_from(["$", "$.a", "$.b", "$.c", "$.a.b", "$.a.a", "$.b[0]", "$.a[1]", "$.c.b.a"]),
    st.sampled_from(["$__env", "$__task_execution.name", "$nothing", "$1"]),
    st.sampled_from(["env()", "env().a", "task(a).result", "task().result", "task(absent)"]),
    st.sampled_from(["global(b)", "execution().input", "uuid()", "json_dump($.a)"]),
    st.sampled_from(["json_parse('[1, 2]')", "yaml_dump($.b)", "yaml_parse('a: 1')"]),
)
_FUNCTIONS = ["len", "str", "int", "float", "bool", "isString", "isInteger", "isNumber",
              "isBoolean", "isList", "isDict"]  # fmt: skip
_BINARY = ["+", "-", "*", "/", "mod", "=", "!=", "<", ">", "<=", ">=", "and", "or", "in"]


def _extend(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(_BINARY), inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
        st.tuples(inner, st.sampled_from(_BINARY), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"not {e}"),
        inner.map(lambda e: f"-{e}"),
        st.tuples(inner, _key).map(lambda t: f"{t[0]}.{t[1]}"),
        st.tuples(inner, _key).map(lambda t: f"{t[0]}?.{t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"{t[0]}[{t[1]}]"),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]}[{t[1]}, {t[2]}]"),
        st.tuples(st.sampled_from(_FUNCTIONS), inner).map(lambda t: f"{t[0]}({t[1]})"),
        st.tuples(inner, _key).map(lambda t: f"{t[0]}.get({t[1]})"),
        st.tuples(inner, inner, inner).map(lambda t: f"({t[0]}).get({t[1]}, {t[2]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}).contains({t[1]})"),
        inner.map(lambda e: f"({e}).first()"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}).first({t[1]})"),
        inner.map(lambda e: f"({e}).len()"),
        inner.map(lambda e: f"({e})?.len()"),
        st.tuples(inner, inner).map(lambda t: f"[{t[0]}, {t[1]}]"),
        st.tuples(inner, inner).map(lambda t: f"{{a => {t[0]}, b => {t[1]}}}"),
        inner.map(lambda e: f"task({e}).result"),
        inner.map(lambda e: f"json_dump({e})"),
        inner.map(lambda e: f"({e}).where($ > 1)"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}).where({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}).select({t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]}).filter({t[1]})"),
        inner.map(lambda e: f"({e}).select($__env)"),  # not compiled
        inner.map(lambda e: f"({e}).orderBy($)"),  # not compiled: mixes fast and stock
    )


_expression = st.recursive(_leaf, _extend, max_leaves=6)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_expression, data=_root)
def test_generated_expressions_agree_with_yaql(text: str, data: dict[str, Any]) -> None:
    compare(text, data)


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(
    data=_root,
    text=st.sampled_from(
        ["$.a + $.b", "$.a - $.b", "$.a * $.b", "$.a / $.b", "$.a mod $.b", "$.a = $.b",
         "$.a != $.b", "$.a < $.b", "$.a > $.b", "$.a <= $.b", "$.a >= $.b", "$.a in $.b",
         "$.a and $.b", "$.a or $.b", "not $.a", "-$.a", "$.a[$.b]", "$.a.b", "$.a?.b",
         "len($.a)", "$.a.len()", "str($.a)", "int($.a)", "float($.a)", "bool($.a)",
         "$.a[$.b, $.c]", "$", "$.a", "[$.a, $.b]", "{a => $.a}", "task($.a).result",
         "global($.a)", "json_dump($.a)", "yaml_dump($.a)", "json_parse($.a)", "$.a.get($.b)",
         "$.a.get($.b, $.c)", "$.a.contains($.b)", "$.a.first()", "$.a.first($.b)",
         "isString($.a)", "isInteger($.a)", "isNumber($.a)", "isBoolean($.a)", "isList($.a)",
         "isDict($.a)", "$.a?.get(b)",
         # Stock yaql sees data lists as tuples but function results as lists.
         "task(a).result = $.a", "task(a).result != $.a", "$.a = [1, 2]", "$.a = [$.b]",
         "task(b).result = [$.c]", "$.a in [$.a]", "task(a).result in [$.a]",
         "$.a in task(b).result", "env() = $.a", "{a => $.a} = $", "$.a + task(b).result",
         "task(a).result.len()", "task(a).result[0]", "task(a).result.first()",
         # where/select give lazy iterators in yaql: always true, not indexable.
         "$.a.where($ > 0)", "$.a.select($.b)", "$.a.where($.b).len()", "$.a.where($)[0]",
         "not $.a.where($ = 1)", "bool($.a.where(false))", "$.a.where(false) and 1",
         "$.a.where(false) or 1", "$.a.select($) = $.a", "1 in $.a.where($ > 0)",
         "$.a.where($.where($)).len()", "$.a.select($.select($)).first()",
         "$.a.select($.where($)) = [[]]", "json_dump($.a.where(true))",
         "{k => $.a.where(true)}", "[$.a.select($)]", "$.a.where(true).first($.b)",
         "$.a.where(true) < null", "$.a?.where(true)", "$.a.where(true).contains(1)",
         "$.a.select(task($).result)", "$.a.where(isString($))"]
    ),
)  # fmt: skip
def test_operators_agree_with_yaql_on_any_data(text: str, data: dict[str, Any]) -> None:
    compare(text, data)


class LayeredView(Mapping[str, Any]):
    """Like the engine's context views: read-only layers, the first holding a key wins."""

    __slots__ = ("_layers",)

    def __init__(self, *layers: dict[str, Any]) -> None:
        self._layers = layers

    def __getitem__(self, key: str) -> Any:
        for layer in self._layers:
            if key in layer:
                return layer[key]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(key for layer in self._layers for key in layer))

    def __len__(self) -> int:
        return sum(1 for _ in self)


@settings(max_examples=EXAMPLES // 4, deadline=None)
@given(
    first=_root,
    second=_root,
    text=st.sampled_from(
        ["$", "$.a", "$.b.c", "$.a + $.b", "$.a = $.c", "$__env", "$__env.a", "$.get(a)",
         "len($)", "isDict($)", "$.a in $.b", "$.b.where($ > 0)", "{x => $}", "env()",
         "task().result", "$[a]", "$.get(c, 1)", "json_dump($)"]
    ),
)  # fmt: skip
def test_mapping_roots_agree_with_yaql(
    first: dict[str, Any], second: dict[str, Any], text: str
) -> None:
    second["__env"] = {"a": 1}
    compare(text, LayeredView(first, second))


def test_the_fast_path_covers_the_common_shapes() -> None:
    data = {"a": {"b": [1, 2, {"c": "x"}]}, "n": 5, "s": "str", "l": [1, 2, 3]}
    for text in [
        "$",
        "$.a.b[2].c",
        "$.n + 1",
        "$.n / 2 * 3 - 1 mod 2",
        "$.s + '-' + str($.n)",
        "$.n >= 5 and $.s != 'x' or not $.l",
        "2 in $.l",
        "'t' in $.s",
        "len($.l) + $.l.len()",
        "$.a?.b[0]",
        "{k => $.n, v => [$.s, null, true]}",
        "task(t1).result",
        "env().b",
        "$.a[b][1]",
        "$.a[missing, 0]",
        "$.get(n)",
        "$.get(missing, 'default')",
        "$.l.contains(2)",
        "$.l.first()",
        "isString($.s) and isList($.l) and isDict($.a)",
        "$.l.where($ > 1).select($ * 2)",
        "$.l.where($ > 1).len()",
        "$.a.b.where(isDict($)).select($.c).first()",
    ]:
        assert compare(text, data) == "fast", text
