"""Specs to JSON and back, so that a parsed definition can be stored and reloaded fast.

The JSON form mirrors the dataclasses: field names as keys, tuples as lists, enums
as their values. Loading rebuilds the dataclasses from their type hints.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, Final, TypeVar, get_args, get_origin, get_type_hints

from meltemi.lang import specs

T = TypeVar("T")
FORMAT_VERSION: Final = 1


def to_json(spec: object) -> Any:
    """A JSON-ready value (dicts, lists, strings, numbers) for a spec."""
    if dataclasses.is_dataclass(spec) and not isinstance(spec, type):
        return {
            f.name: to_json(getattr(spec, f.name))
            for f in dataclasses.fields(spec)
            if not f.name.startswith("_")
        }
    if isinstance(spec, enum.Enum):
        return spec.value
    if isinstance(spec, tuple | list):
        return [to_json(v) for v in spec]
    if isinstance(spec, Mapping):
        return {str(k): to_json(v) for k, v in spec.items()}
    return spec


def from_json(cls: type[T], data: Any) -> T:
    """Rebuilds a spec of type ``cls`` from :func:`to_json`'s output."""
    return typing.cast(T, _decode(cls, data))


_hints_cache: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _hints_cache.get(cls)
    if hints is None:
        hints = get_type_hints(cls, vars(specs))
        _hints_cache[cls] = hints
    return hints


def _decode(tp: Any, data: Any) -> Any:
    if data is None:
        return None
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = _hints(tp)
        kwargs = {
            f.name: _decode(hints[f.name], data[f.name])
            for f in dataclasses.fields(tp)
            if not f.name.startswith("_") and f.name in data
        }
        return tp(**kwargs)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(data)
    origin = get_origin(tp)
    if origin is tuple:
        (item,) = get_args(tp)[:1]
        return tuple(_decode(item, v) for v in data)
    if origin in (Mapping, dict, typing.Mapping):
        value_type = get_args(tp)[1]
        return {k: _decode(value_type, v) for k, v in data.items()}
    if origin in (typing.Union, types.UnionType):
        return _decode_union(get_args(tp), data)
    return data


def _decode_union(options: tuple[Any, ...], data: Any) -> Any:
    for option in options:
        if option is type(None):
            continue
        if isinstance(option, type) and dataclasses.is_dataclass(option):
            if isinstance(data, dict):
                return _decode(option, data)
            continue
        origin = get_origin(option)
        if origin in (Mapping, dict, typing.Mapping) and isinstance(data, dict):
            return _decode(option, data)
        if origin is tuple and isinstance(data, list):
            return _decode(option, data)
    return data
