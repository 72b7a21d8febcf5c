"""Run-time operations of the YAQL fast path, each exact or raising ``Fallback``.

Each operation checks the exact types of its operands and computes what yaql's
chosen overload computes for those types; for any other types (where yaql might
pick another overload, convert, or fail) it raises ``Fallback``. The names mirror
yaql's standard library: ``#operator_+`` and friends, methods and functions.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any, Final


class Fallback(Exception):  # a signal, not an error
    """The fast path cannot give stock yaql's answer for these values."""


NUMBERS: Final = frozenset({int, float})
SCALARS: Final = frozenset({str, int, float, bool, type(None)})
MISSING: Final = object()


class Lazy(list[Any]):
    """What ``where`` and ``select`` give. yaql gives lazy iterators there, which
    cannot be indexed or compared and are always true; this type marks the value so
    that only what behaves the same on a list is done with it."""

    __slots__ = ()


def truthy(value: Any) -> bool:
    # yaql's iterators are true even when they will yield nothing.
    return True if type(value) is Lazy else bool(value)


def _iterable(value: Any) -> bool:
    """yaql's Iterable parameters (strings and mappings excluded), as here."""
    kind = type(value)
    return kind is list or kind is tuple or kind is Lazy


def output(value: Any) -> Any:
    """What yaql's output conversion makes of a value: plain, new dicts and lists."""
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind is list or kind is tuple or kind is Lazy:
        return [output(item) for item in value]
    if isinstance(value, Mapping):
        return {output(key): output(item) for key, item in value.items()}
    raise Fallback


def item(container: Any, key: Any) -> Any:
    kind = type(container)
    if kind is list or kind is tuple:
        if type(key) is int or type(key) is bool:
            return container[key]  # IndexError: Fallback, and yaql raises it
        raise Fallback
    if isinstance(container, Mapping) and type(key) in SCALARS:
        value = container.get(key, MISSING)
        if value is MISSING:
            raise Fallback  # yaql raises KeyError
        return value
    raise Fallback


# -- operators


def _number_op(apply: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    def number_op(left: Any, right: Any) -> Any:
        if type(left) in NUMBERS and type(right) in NUMBERS:
            return apply(left, right)
        raise Fallback

    return number_op


def _add(left: Any, right: Any) -> Any:
    kind = type(left)
    if kind in NUMBERS and type(right) in NUMBERS:
        return left + right
    if kind is str and type(right) is str:
        return left + right
    if isinstance(left, Mapping) and isinstance(right, Mapping):
        return {**left, **right}
    raise Fallback


def _divide(left: Any, right: Any) -> Any:
    # yaql divides integers the way Python's // does.
    if type(left) is int and type(right) is int:
        return left // right
    return left / right


def _compare(apply: Callable[[Any, Any], bool], null_table: tuple[bool, bool, bool]) -> Any:
    """A comparison. ``null_table``: (null op null, value op null, null op value); yaql
    defines those for any other value."""
    both_null, value_null, null_value = null_table

    def compare(left: Any, right: Any) -> bool:
        if left is None:
            return both_null if right is None else null_value
        if right is None:
            return value_null
        kind = type(left)
        if (kind in NUMBERS and type(right) in NUMBERS) or (kind is str and type(right) is str):
            return apply(left, right)
        raise Fallback

    return compare


def _equal(left: Any, right: Any) -> bool:
    # Containers compare differently as yaql's tuples and frozen dicts: not here.
    if type(left) in SCALARS and type(right) in SCALARS:
        return bool(left == right)
    raise Fallback


def _not_equal(left: Any, right: Any) -> bool:
    return not _equal(left, right)


def _contains(left: Any, right: Any) -> bool:
    kind = type(right)
    if kind is str:
        if type(left) is str:
            return left in right
        raise Fallback
    if _iterable(right) and type(left) in SCALARS:
        return left in right
    raise Fallback


BINARY: Final[dict[str, Callable[[Any, Any], Any]]] = {
    "#operator_+": _add,
    "#operator_-": _number_op(operator.sub),
    "#operator_*": _number_op(operator.mul),
    "#operator_/": _number_op(_divide),
    "#operator_mod": _number_op(operator.mod),
    "#operator_<": _compare(operator.lt, (False, False, True)),
    "#operator_>": _compare(operator.gt, (False, True, False)),
    "#operator_<=": _compare(operator.le, (True, False, True)),
    "#operator_>=": _compare(operator.ge, (True, True, False)),
    "*equal": _equal,
    "*not_equal": _not_equal,
    "#operator_in": _contains,
}


# -- functions


def _length(value: Any) -> int:
    kind = type(value)
    if kind is str or _iterable(value) or isinstance(value, Mapping):
        return len(value)
    raise Fallback


def _to_string(value: Any) -> str:
    kind = type(value)
    if kind not in SCALARS:
        raise Fallback  # yaql's frozen dicts and tuples print differently
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return str(value)


def _scalar(convert: Callable[[Any], Any], null: Any) -> Callable[[Any], Any]:
    def scalar(value: Any) -> Any:
        if value is None:
            return null
        if type(value) not in SCALARS:
            raise Fallback
        return convert(value)

    return scalar


def _get(container: Any, key: Any, default: Any = None) -> Any:
    if isinstance(container, Mapping) and type(key) in SCALARS:
        return container.get(key, default)
    raise Fallback


def _has(container: Any, value: Any) -> bool:
    if _iterable(container) and type(value) in SCALARS:
        return value in container
    raise Fallback


def _first(container: Any, default: Any = MISSING) -> Any:
    if _iterable(container):
        if container:
            return container[0]
        if default is not MISSING:
            return default
    raise Fallback  # yaql raises StopIteration for an empty list without a default


def _where(collection: Any, predicate: Callable[[Any], Any]) -> Lazy:
    if _iterable(collection):
        return Lazy([item for item in collection if truthy(predicate(item))])
    raise Fallback


def _select(collection: Any, selector: Callable[[Any], Any]) -> Lazy:
    if _iterable(collection):
        return Lazy([selector(item) for item in collection])
    raise Fallback


def _is(predicate: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def check(value: Any) -> bool:
        kind = type(value)
        if kind in SCALARS or kind is list or kind is tuple or isinstance(value, Mapping):
            return predicate(value)
        raise Fallback

    return check


# Methods (``x.name(args)``): name -> (fewest, most arguments, implementation).
METHODS: Final[dict[str, tuple[int, int, Callable[..., Any]]]] = {
    "len": (0, 0, _length),
    "get": (1, 2, _get),
    "contains": (1, 1, _has),
    "first": (0, 1, _first),
}
PURE: Final[dict[str, Callable[[Any], Any]]] = {
    "len": _length,
    "str": _to_string,
    "int": _scalar(int, 0),
    "float": _scalar(float, 0.0),
    "bool": truthy,
    "isString": _is(lambda value: type(value) is str),
    "isInteger": _is(lambda value: type(value) is int),
    "isNumber": _is(lambda value: type(value) in NUMBERS),
    "isBoolean": _is(lambda value: type(value) is bool),
    "isList": _is(lambda value: type(value) in (list, tuple)),
    "isDict": _is(lambda value: isinstance(value, Mapping)),
}
# Methods taking one lambda (``x.where($ > 1)``), evaluated on each item.
QUERIES: Final[dict[str, Callable[[Any, Callable[[Any], Any]], Lazy]]] = {
    "where": _where,
    "filter": _where,
    "select": _select,
}
# Built-in functions of the engine: name -> (fewest, most) positional arguments.
HOST: Final = {
    "env": (0, 0),
    "execution": (0, 0),
    "task": (0, 1),
    "global": (1, 1),
    "uuid": (0, 0),
    "json_dump": (1, 1),
    "json_parse": (1, 1),
    "yaml_dump": (1, 1),
    "yaml_parse": (1, 1),
}
STRING_ARGUMENT: Final = frozenset({"task", "global", "json_parse", "yaml_parse"})
