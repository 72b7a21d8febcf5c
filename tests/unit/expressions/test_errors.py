"""Evaluation errors name the expression, the reason and the task, never the data."""

from __future__ import annotations

from typing import Any

import pytest

from meltemi.errors import MeltemiError
from meltemi.expressions import EvaluationError, ExpressionError, evaluate, evaluate_string

SECRET = "s3cr3t-token-value"
DATA: dict[str, Any] = {"x": 1, "token": SECRET, "nested": {"password": SECRET}, "s": "text"}


def failure(text: str, task: str | None = "build") -> EvaluationError:
    with pytest.raises(EvaluationError) as caught:
        evaluate({"key": [text]}, DATA, task=task)
    return caught.value


@pytest.mark.parametrize(
    ("text", "expression", "language"),
    [
        ("<% $.missing %>", "$.missing", "YAQL"),
        ("before <% $.x + 'a' %> after", "$.x + 'a'", "YAQL"),
        ("<% $.x / 0 %>", "$.x / 0", "YAQL"),
        ("<% $.x + %>", "$.x +", "YAQL"),
        ("{{ _.missing }}", "{{ _.missing }}", "Jinja"),
        ("a {{ undefined_name }} b", "a {{ undefined_name }} b", "Jinja"),
        ("{{ _.x / 0 }}", "{{ _.x / 0 }}", "Jinja"),
        ("{{ _.x + }}", "{{ _.x + }}", "Jinja"),
    ],
)
def test_the_error_names_expression_language_and_task(
    text: str, expression: str, language: str
) -> None:
    error = failure(text)
    assert error.expression == expression
    assert error.language == language
    assert error.task == "build"
    assert error.reason
    message = str(error)
    assert repr(expression) in message
    assert language in message
    assert "'build'" in message
    assert error.reason in message


def test_errors_belong_to_the_error_tree() -> None:
    error = failure("<% $.missing %>")
    assert isinstance(error, ExpressionError)
    assert isinstance(error, MeltemiError)
    assert isinstance(error.__cause__, KeyError)


def test_without_a_task_the_message_says_nothing_of_tasks() -> None:
    assert "task" not in str(failure("<% $.missing %>", task=None))


def test_reasons_say_what_went_wrong() -> None:
    assert "KeyError: 'missing'" in failure("<% $.missing %>").reason
    assert "ZeroDivisionError" in failure("<% 1 / 0 %>").reason
    assert "has no attribute 'missing'" in failure("{{ _.missing }}").reason
    assert "'undefined_name' is undefined" in failure("{{ undefined_name }}").reason


@pytest.mark.parametrize(
    "text",
    [
        "<% $.missing %>",
        "<% $.token.foo() %>",
        "<% $.nested.bar() %>",
        "<% $.token + 1 %>",
        "<% $.nested.password.nope %>",
        "<% int($.token) %>",
        "{{ _.nested.nope }}",
        "{{ _.token + 1 }}",
        "{{ _.token.nope() }}",
        "<% $ %> <% $.x.y %>",
        "{{ _ }} {{ _.zzz }}",
    ],
)
def test_messages_never_include_the_data_context(text: str) -> None:
    error = failure(text)
    assert SECRET not in str(error)
    assert SECRET not in error.reason


def test_memory_errors_become_evaluation_errors() -> None:
    assert "MemoryError" in failure("<% [0] * 1000000000000000 %>").reason
    assert "MemoryError" in failure("{{ [0] * 1000000000000000 }}").reason


def test_recursion_errors_become_evaluation_errors() -> None:
    deep: dict[str, Any] = {}
    for _ in range(5000):
        deep = {"a": deep}
    with pytest.raises(EvaluationError, match="RecursionError"):
        evaluate_string("<% $ %>", {"deep": deep})


def test_a_jinja_string_of_blocks_only_fails_as_in_mistral() -> None:
    error = failure("{% if true %}yes{% endif %}")
    assert "no {{ }} expression" in error.reason


def test_reasons_are_kept_short() -> None:
    long_key = "k" * 5000
    error = failure("<% $.get(" + repr(long_key) + ").x %>")
    assert len(error.reason) <= 510
