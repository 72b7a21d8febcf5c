"""Evaluating values that hold expressions: ``evaluate`` and ``evaluate_string``.

Each distinct string is planned once (which language, whole or embedded, parsed and
compiled expressions) and the plan is cached by its text, so evaluating the same
string again costs no parsing. The walk over dicts and lists, and the way embedded
results are spliced into strings, follow Mistral's ``evaluate_recursively``.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from yaql.language import exceptions as yaql_exceptions

from meltemi.expressions import _fast, _jinja, _yaql
from meltemi.expressions._functions import Functions
from meltemi.expressions._host import ExpressionHost, JsonValue
from meltemi.expressions._syntax import YAQL_PATTERN, Language, language_of
from meltemi.expressions.errors import EvaluationError

_MAX_REASON: Final = 500


class Session:
    """One call of ``evaluate``: the data, the functions, and yaql's view of the data.

    Stock yaql needs the data converted (tuples, frozen dicts); that costs time in
    proportion to the data, so it is done at most once per call, and only when an
    expression actually needs stock yaql.
    """

    __slots__ = ("_converted", "_jinja_context", "data", "functions", "task")

    def __init__(self, data: object, host: ExpressionHost | None, task: str | None) -> None:
        self.data = data
        self.functions = Functions(host, data)
        self.task = task
        self._converted: object = _NOT_YET
        self._jinja_context: dict[str, Any] | None = None

    def converted(self) -> object:
        if self._converted is _NOT_YET:
            self._converted = _yaql.convert_input(self.data)
        return self._converted

    def jinja_context(self) -> dict[str, Any]:
        if self._jinja_context is None:
            self._jinja_context = _jinja.render_context(self.data, self.functions)
        return self._jinja_context


_NOT_YET: Final = object()


_METHOD_ERROR: Final = re.compile(r'^(Unknown method|No method|Ambiguous method) "([^"]*)"')
_QUOTED: Final = re.compile(r"'[^']*'|\"[^\"]*\"")
# Quoted words in Python's and Jinja's messages that name types, not data.
_TYPE_NAMES: Final = frozenset(
    name for name, value in vars(builtins).items() if isinstance(value, type)
) | {"NoneType", "FrozenDict", "Undefined", "StrictUndefined", "Markup", "function", "method"}


def _describe(error: BaseException, expression: str) -> str:
    if isinstance(error, yaql_exceptions.MethodResolutionError):
        # yaql puts the receiver's value in these messages; it is workflow data.
        match = _METHOD_ERROR.match(str(error))
        if match is not None:
            kind, name = match.groups()
            if kind == "No method":
                return f'No method "{name}" matches the receiver and arguments'
            return f'{kind} "{name}" for this receiver'
    if isinstance(error, yaql_exceptions.YaqlException) or type(error).__module__.startswith(
        "meltemi."
    ):
        return str(error)
    text = _redact(str(error), expression)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _redact(message: str, expression: str) -> str:
    """Hides quoted values that come from the data (Python's messages quote them,
    as in ``invalid literal for int(): 'the value'``); keeps what the expression
    itself says and type names."""

    def keep_or_hide(match: re.Match[str]) -> str:
        quoted = match.group(0)
        inner = quoted[1:-1]
        if inner in expression or inner.removesuffix(" object") in _TYPE_NAMES:
            return quoted
        return "<value>"

    return _QUOTED.sub(keep_or_hide, message)


def _reason(error: BaseException, expression: str) -> str:
    reason = _describe(error, expression)
    if len(reason) > _MAX_REASON:
        reason = reason[:_MAX_REASON] + "..."
    return reason


class YaqlExpression:
    """One YAQL expression (the text between ``<%`` and ``%>``), parsed and compiled."""

    __slots__ = ("fast", "problem", "statement", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.statement: Any = None
        self.problem: Exception | None = None
        self.fast: _fast.Compiled | None = None
        try:
            self.statement = _yaql.parse(text)
        except Exception as e:  # noqa: BLE001  # reported when evaluated, as Mistral does
            self.problem = e
            return
        self.fast = _fast.compile_statement(self.statement)

    def run(self, session: Session) -> JsonValue:
        try:
            if self.problem is not None:
                raise self.problem
            if self.fast is not None:
                try:
                    return self.fast(session.data, session.functions)
                except _fast.Fallback:
                    pass
            return _yaql.evaluate(
                self.statement, session.data, session.converted(), session.functions
            )
        except Exception as e:  # every failure is the expression's
            raise EvaluationError(
                expression=self.text,
                reason=_reason(e, self.text),
                language="YAQL",
                task=session.task,
            ) from e


Plan = Callable[[Session], JsonValue]


def _yaql_plan(text: str) -> Plan:
    found = YAQL_PATTERN.findall(text)
    # Mistral strips delimiter characters, then whitespace, from each occurrence.
    expressions = [(raw, YaqlExpression(raw.strip("<%>").strip())) for raw in found]
    if len(found) == 1 and len(found[0]) == len(text):
        whole = expressions[0][1]
        return whole.run

    def embedded(session: Session) -> JsonValue:
        result = text
        for raw, expression in expressions:
            result = result.replace(raw, str(expression.run(session)))
        return result

    return embedded


def _jinja_plan(text: str) -> Plan:
    try:
        compiled = _jinja.compile_template(text)
    except Exception as e:  # noqa: BLE001  # reported when evaluated, as Mistral does
        problem = e

        def invalid(session: Session) -> JsonValue:
            raise EvaluationError(
                expression=text, reason=_reason(problem, text), language="Jinja", task=session.task
            ) from problem

        return invalid

    def run(session: Session) -> JsonValue:
        try:
            return compiled(session.jinja_context())
        except Exception as e:  # every failure is the expression's
            raise EvaluationError(
                expression=text, reason=_reason(e, text), language="Jinja", task=session.task
            ) from e

    return run


def _literal(text: str) -> Plan:
    return lambda session: text


def _plan(text: str) -> Plan:
    language = language_of(text)
    if language is Language.JINJA:
        return _jinja_plan(text)
    if language is Language.YAQL:
        return _yaql_plan(text)
    return _literal(text)


# Plans by text. Bounded by dropping everything when full: the strings a deployment
# evaluates come from its definitions, so the cache refills with what is in use.
_PLANS: dict[str, Plan] = {}
_MAX_PLANS: Final = 20_000


def plan_of(text: str) -> Plan:
    plan = _PLANS.get(text)
    if plan is None:
        if len(_PLANS) >= _MAX_PLANS:
            _PLANS.clear()
        plan = _PLANS[text] = _plan(text)
    return plan


def _string(text: str, session: Session) -> JsonValue:
    # Most strings hold no expression; skip the cache for those that cannot.
    if "<%" not in text and "{" not in text:
        return text
    return plan_of(text)(session)


def _walk(value: JsonValue, session: Session) -> JsonValue:
    if isinstance(value, str):
        return _string(value, session)
    if isinstance(value, dict):
        return {key: _walk(item, session) for key, item in value.items()}
    if isinstance(value, list):
        return [_walk(item, session) for item in value]
    return value


def _copy(value: JsonValue) -> JsonValue:
    if isinstance(value, dict):
        return {key: _copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy(item) for item in value]
    return value


def _is_empty(data: object) -> bool:
    if isinstance(data, Mapping):
        # Iterating is O(1) even for layered views whose len() counts every key.
        return next(iter(data), _NOT_YET) is _NOT_YET
    return not data


def evaluate(
    value: JsonValue,
    data: Mapping[str, Any],
    host: ExpressionHost | None = None,
    *,
    task: str | None = None,
    even_if_empty: bool = False,
) -> JsonValue:
    """Evaluates every expression in ``value`` against ``data``.

    Dict values and list items are evaluated recursively (dict keys are not);
    strings holding expressions are evaluated; other values pass through. Dicts and
    lists are copied, so the result never shares a container with ``value``. Neither
    ``value`` nor ``data`` is modified. As in Mistral, with empty ``data`` nothing is
    evaluated and a copy of ``value`` is returned, unless ``even_if_empty`` (for where
    Mistral's data is never empty, e.g. an ad-hoc action's base-input).

    Args:
        value: what to evaluate (typically part of a spec: input, publish, output).
        data: the data root: ``$`` in YAQL, ``_`` in Jinja.
        host: the running engine, for ``task()``, ``execution()`` and the like.
        task: the task whose expression this is; only used in error messages.
        even_if_empty: evaluate also when ``data`` is empty.

    Raises:
        EvaluationError: an expression could not be evaluated.
    """
    if not even_if_empty and _is_empty(data):
        return _copy(value)
    return _walk(value, Session(data, host, task))


def evaluate_string(
    text: str,
    data: Mapping[str, Any],
    host: ExpressionHost | None = None,
    *,
    task: str | None = None,
) -> JsonValue:
    """Evaluates one string: its native value when it is one whole expression, the
    string with each expression replaced by its value otherwise, or the string itself
    when it holds no expression.

    Raises:
        EvaluationError: an expression could not be evaluated.
    """
    return _string(text, Session(data, host, task))
