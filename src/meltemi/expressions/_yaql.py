"""The YAQL engine, configured as Mistral configures it, and a cache of parsed expressions."""

from __future__ import annotations

import collections.abc  # noqa: F401  # yaql needs it imported first on Python 3.11
import functools
from typing import Any, Final

from yaql.language import exceptions as yaql_exceptions
from yaql.language import factory

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
