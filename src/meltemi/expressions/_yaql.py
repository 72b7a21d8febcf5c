"""The YAQL engine and root context, configured as Mistral configures them.

This is the stock (slow) evaluation; ``_fast`` compiles common shapes and falls back
to it.
"""

from __future__ import annotations

import collections.abc  # noqa: F401  # yaql needs it imported first on Python 3.11
import functools
from collections.abc import Iterator, Mapping
from typing import Any, Final

import yaql
from yaql.language import exceptions as yaql_exceptions
from yaql.language import factory
from yaql.language import utils as yaql_utils

from meltemi.expressions._functions import FUNCTIONS_KEY, YAQL_FUNCTIONS, Functions

# Mistral's [yaql] defaults: no iterator or memory limits, conversions on.
ENGINE_OPTIONS: Final = {
    "yaql.limitIterators": -1,
    "yaql.memoryQuota": -1,
    "yaql.convertTuplesToLists": True,
    "yaql.convertSetsToLists": False,
    "yaql.iterableDicts": False,
    "yaql.convertOutputData": True,
}


@functools.cache
def engine() -> Any:
    """The shared YAQL engine (``=>`` keyword operator, no delegates)."""
    return factory.YaqlFactory(keyword_operator="=>", allow_delegates=False).create(
        options=ENGINE_OPTIONS
    )


@functools.lru_cache(maxsize=16384)
def parse(text: str) -> Any:
    """The parsed form of a YAQL expression; raises yaql's own errors when it is invalid."""
    return engine()(text)


def syntax_problem(text: str) -> tuple[int, str] | None:
    """(offset, reason) of the first syntax problem of a YAQL expression, or None."""
    try:
        parse(text)
    except yaql_exceptions.YaqlLexicalException as e:
        position = e.position if isinstance(e.position, int) else len(text)
        return position, f"illegal character {text[position : position + 1]!r}"
    except yaql_exceptions.YaqlGrammarException as e:
        position = e.position if isinstance(e.position, int) else len(text)
        if e.position is None:
            return position, "the expression ends too early"
        return position, f"unexpected {str(e.value)!r}"
    except (yaql_exceptions.YaqlException, KeyError, ValueError, TypeError) as e:
        return 0, str(getattr(e, "message", e))
    return None


@functools.cache
def root_context() -> Any:
    """The shared root context: yaql's standard library plus the built-in functions."""
    context = yaql.create_context()
    for name, function in YAQL_FUNCTIONS.items():
        context.register_function(function, name=name)
    return context


def convert_input(data: object) -> Any:
    """The data root as stock yaql sees it: tuples for lists, frozen dicts for mappings."""
    return yaql_utils.convert_input_data(data)


def evaluate(statement: Any, data: object, converted: object, functions: Functions) -> Any:
    """Evaluates a parsed expression the way Mistral does, against ``converted`` data.

    ``data`` is the unconverted root: Mistral also exposes its ``__env``,
    ``__execution`` and ``__task_execution`` entries as context variables
    (``$__env``), unconverted, and functions read them from there.
    """
    context = root_context().create_child_context()
    context["$"] = converted
    if isinstance(data, Mapping):
        for key in ("__env", "__execution", "__task_execution"):
            context[key] = data.get(key)
    context[FUNCTIONS_KEY] = functions
    return sanitize(statement.evaluate(context=context))


def sanitize(result: Any) -> Any:
    """Unboxes what yaql's output conversion may leave, as Mistral does."""
    if isinstance(result, yaql_utils.FrozenDict):
        return dict(result.items())
    if isinstance(result, Iterator):
        return list(result)
    return result
