"""evaluate and evaluate_string: languages, whole and embedded expressions, recursion."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from meltemi import expressions
from meltemi.expressions import EvaluationError, _evaluate, _yaql, evaluate, evaluate_string

DATA: dict[str, Any] = {
    "x": 41,
    "name": "web",
    "flag": True,
    "nothing": None,
    "items": [1, 2, 3],
    "obj": {"a": {"b": [10, 20]}},
}


def test_exported_names_are_the_public_api() -> None:
    public = {name for name in dir(expressions) if not name.startswith("_")}
    assert set(expressions.__all__) <= public
    for name in ("evaluate", "evaluate_string", "ExpressionHost", "EvaluationError"):
        assert name in expressions.__all__


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<% $.x + 1 %>", 42),
        ("<% $.items %>", [1, 2, 3]),
        ("<% $.obj %>", {"a": {"b": [10, 20]}}),
        ("<% $.flag %>", True),
        ("<% $.nothing %>", None),
        ("<%$.x%>", 41),
        ("{{ _.x + 1 }}", 42),
        ("{{ _['items'] }}", [1, 2, 3]),
        ("{{ _.obj }}", {"a": {"b": [10, 20]}}),
        ("{{ _.nothing }}", None),
        ("{{ _.flag }}", True),
    ],
)
def test_a_whole_expression_gives_its_native_value(text: str, expected: Any) -> None:
    assert evaluate_string(text, DATA) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Each YAQL result is spliced in as Python's str() of it, as Mistral does.
        ("id-<% $.x %>", "id-41"),
        ("<% $.flag %> and <% $.nothing %>", "True and None"),
        ("<% $.items %>!", "[1, 2, 3]!"),
        ("<% $.obj.a %> ", "{'b': [10, 20]} "),
        ("<% $.name %>-<% $.x %>", "web-41"),
        # Jinja renders the template.
        ("id-{{ _.x }}", "id-41"),
        ("{{ _.flag }} {{ _.nothing }}", "True None"),
        ("{{ _.x }}{{ _.x }}", "4141"),
        ("{{ _.x }} ", "41 "),
        ("{% if _.flag %}yes {{ _.name }}{% endif %}", "yes web"),
    ],
)
def test_embedded_expressions_give_a_string(text: str, expected: str) -> None:
    assert evaluate_string(text, DATA) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{% for i in _['items'] %}{{ i }},{% endfor %}", "1,2,3,"),
        ("{% set y = _.x + 1 %}{{ y }}", "42"),
        ("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}"
         "{% endfor %}{{ ns.n }}", "3"),
        ("{% macro twice(v) %}{{ v }}{{ v }}{% endmacro %}{{ twice(_.name) }}", "webweb"),
        ("{{ range(3) | list }}", [0, 1, 2]),
        ("{{ dict(a=1) }}", {"a": 1}),
        ("{{ _.obj.a.b | sum }}", 30),
        ("{{ _.name | upper }}", "WEB"),
        ("{{ _['items'] | map('string') | join('-') }}", "1-2-3"),
    ],
)  # fmt: skip
def test_jinja_statements_globals_and_filters(text: str, expected: Any) -> None:
    assert evaluate_string(text, DATA) == expected


def test_jinja_set_does_not_leak_between_strings() -> None:
    value = ["{% set leak = 1 %}{{ _.x }}", "{{ leak }}"]
    with pytest.raises(EvaluationError):
        evaluate(value, DATA)


def test_strings_without_expressions_pass_through() -> None:
    for text in ("plain", "50%", "<% not closed", "{ a }", "{{ a }", "% > <"):
        assert evaluate_string(text, DATA) == text


def test_jinja_wins_over_yaql_in_one_string() -> None:
    assert evaluate_string("{{ _.x }} <% $.x %>", DATA) == "41 <% $.x %>"


def test_yaql_delimiters_stay_on_one_line() -> None:
    text = "<% $.x\n %>"
    assert evaluate_string(text, DATA) == text


def test_jinja_attributes_win_over_keys_as_in_mistral() -> None:
    # `_.items` is the dict's method; Jinja tries attributes before keys.
    assert evaluate_string("{{ _.items is callable }}", DATA) is True
    assert evaluate_string("{{ _['items'] }}", DATA) == [1, 2, 3]


def test_a_jinja_template_drops_one_trailing_newline() -> None:
    assert evaluate_string("{{ _.x }}\n", DATA) == "41"
    assert evaluate_string("{{ _.x }}\n\n", DATA) == "41\n"


def test_whole_jinja_expression_keeps_trailing_space_as_template() -> None:
    assert evaluate_string("{{ _.x }} ", DATA) == "41 "


def test_the_same_yaql_expression_twice_in_a_string() -> None:
    assert evaluate_string("<% $.x %>/<% $.x %>", DATA) == "41/41"


def test_evaluate_walks_dict_values_and_list_items() -> None:
    value = {
        "a": "<% $.x %>",
        "b": ["{{ _.name }}", {"c": "<% $.items[0] %>", "d": 5}],
        "<% $.x %>": "keys are not evaluated",
        "e": None,
    }
    assert evaluate(value, DATA) == {
        "a": 41,
        "b": ["web", {"c": 1, "d": 5}],
        "<% $.x %>": "keys are not evaluated",
        "e": None,
    }


def test_evaluate_of_scalars_and_strings() -> None:
    assert evaluate("<% $.x %>", DATA) == 41
    assert evaluate(7, DATA) == 7
    assert evaluate(None, DATA) is None
    assert evaluate("plain", DATA) == "plain"


def test_evaluate_never_modifies_value_or_data() -> None:
    value = {"a": ["<% $.obj %>", {"b": "<% $.items %>"}]}
    data = copy.deepcopy(DATA)
    before_value, before_data = copy.deepcopy(value), copy.deepcopy(data)
    result = evaluate(value, data)
    result["a"][0]["a"]["b"].append(99)
    result["a"][1]["b"].append(99)
    assert value == before_value
    assert data == before_data


def test_evaluate_returns_new_containers() -> None:
    value = {"a": [1, {"b": 2}]}
    result = evaluate(value, DATA)
    assert result == value
    assert result is not value
    assert result["a"] is not value["a"]


def test_with_empty_data_nothing_is_evaluated_as_in_mistral() -> None:
    assert evaluate({"a": "<% 1 + 1 %>"}, {}) == {"a": "<% 1 + 1 %>"}
    assert evaluate_string("<% 1 + 1 %>", {}) == 2


def test_data_may_be_any_mapping() -> None:
    class View(dict[str, Any]):
        pass

    from types import MappingProxyType

    assert evaluate("<% $.x %>", MappingProxyType(DATA)) == 41
    assert evaluate("{{ _.x }}", MappingProxyType(DATA)) == 41
    assert evaluate("<% $ %>", View(x=1)) == {"x": 1}


def test_yaql_results_are_plain_python_data() -> None:
    result = evaluate_string("<% {a => [1, 2], b => {c => 3}} %>", DATA)
    assert result == {"a": [1, 2], "b": {"c": 3}}
    assert type(result) is dict
    assert type(result["a"]) is list
    assert evaluate_string("<% $.items.where($ > 1) %>", DATA) == [2, 3]
    assert evaluate_string("<% $.items.select($ * 2) %>", DATA) == [2, 4, 6]


def test_jinja_lazy_results_become_lists() -> None:
    assert evaluate_string("{{ _['items'] | select('odd') }}", DATA) == [1, 3]
    assert evaluate_string("{{ (1, 2) }}", DATA) == [1, 2]


def test_yaql_integer_division_and_mod() -> None:
    assert evaluate_string("<% 7 / 2 %>", DATA) == 3
    assert evaluate_string("<% -7 / 2 %>", DATA) == -4
    assert evaluate_string("<% 7.0 / 2 %>", DATA) == 3.5
    assert evaluate_string("<% 7 mod 3 %>", DATA) == 1


def test_plans_are_cached_by_text(monkeypatch: pytest.MonkeyPatch) -> None:
    _evaluate._PLANS.clear()
    parses: list[str] = []
    real_parse = _yaql.parse

    def counting_parse(text: str) -> Any:
        parses.append(text)
        return real_parse(text)

    monkeypatch.setattr(_yaql, "parse", counting_parse)
    for x in range(3):
        assert evaluate_string("<% $.x * 2 %>", {"x": x}) == x * 2
        assert evaluate({"v": "{{ _.x * 3 }}"}, {"x": x}) == {"v": x * 3}
    assert parses == ["$.x * 2"]
    assert "<% $.x * 2 %>" in _evaluate._PLANS
    assert "{{ _.x * 3 }}" in _evaluate._PLANS


def test_the_plan_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_evaluate, "_MAX_PLANS", 10)
    _evaluate._PLANS.clear()
    for i in range(25):
        assert evaluate_string(f"<% {i} %>", DATA) == i
    assert len(_evaluate._PLANS) <= 10


def test_invalid_expressions_fail_when_evaluated() -> None:
    with pytest.raises(EvaluationError):
        evaluate_string("<% $.x + %>", DATA)
    with pytest.raises(EvaluationError):
        evaluate_string("{{ _.x + }}", DATA)
    with pytest.raises(EvaluationError):
        evaluate_string("<%  %>", DATA)
