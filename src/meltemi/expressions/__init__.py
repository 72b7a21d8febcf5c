"""YAQL and Jinja expressions: finding them, checking them, evaluating them."""

from meltemi.expressions._evaluate import evaluate, evaluate_string
from meltemi.expressions._host import ExpressionHost, JsonValue
from meltemi.expressions._syntax import (
    Language,
    SyntaxProblem,
    check_syntax,
    is_expression,
    is_whole_expression,
    language_of,
)
from meltemi.expressions.errors import EvaluationError, ExpressionError, ExpressionSyntaxError

__all__ = [
    "EvaluationError",
    "ExpressionError",
    "ExpressionHost",
    "ExpressionSyntaxError",
    "JsonValue",
    "Language",
    "SyntaxProblem",
    "check_syntax",
    "evaluate",
    "evaluate_string",
    "is_expression",
    "is_whole_expression",
    "language_of",
]
