"""YAQL and Jinja expressions: finding them, checking them, evaluating them."""

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
    "ExpressionSyntaxError",
    "Language",
    "SyntaxProblem",
    "check_syntax",
    "is_expression",
    "is_whole_expression",
    "language_of",
]
