"""Errors of the expression layer.

::

    MeltemiError
    └── ExpressionError          an expression cannot be parsed or evaluated
        ├── ExpressionSyntaxError    the text is not valid YAQL or Jinja
        └── EvaluationError          evaluating it against a context failed
"""

from __future__ import annotations

from meltemi.errors import MeltemiError


class ExpressionError(MeltemiError):
    """An expression failed; the message names the expression and the reason."""

    def __init__(self, message: str, *, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(message)


class ExpressionSyntaxError(ExpressionError):
    def __init__(self, *, expression: str, reason: str, offset: int = 0) -> None:
        self.offset = offset
        super().__init__(
            f"cannot parse expression {expression!r}: {reason}",
            expression=expression,
            reason=reason,
        )


class EvaluationError(ExpressionError):
    """Evaluation failed. ``task`` names the task whose expression it was, if known."""

    def __init__(
        self,
        *,
        expression: str,
        reason: str,
        language: str,
        task: str | None = None,
    ) -> None:
        self.language = language
        self.task = task
        where = f" in task '{task}'" if task else ""
        super().__init__(
            f"cannot evaluate {language} expression {expression!r}{where}: {reason}",
            expression=expression,
            reason=reason,
        )
