"""Specs to JSON and back, so that a parsed definition can be stored and reloaded fast.

The JSON form mirrors the dataclasses: field names as keys, tuples as lists, enums
as their values. Loading rebuilds the dataclasses from their type hints; the hints
are turned into one small decoding function per type, once, so that reloading a
spec costs about as much as building its objects.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Final, TypeVar, get_args, get_origin, get_type_hints

from meltemi.lang import specs
from meltemi.lang._collector import collector_paused

T = TypeVar("T")
FORMAT_VERSION: Final = 1

_PLAIN: Final = frozenset({str, int, float, bool, type(None)})
_fields_of: dict[type, tuple[str, ...] | None] = {}


def _field_names(cls: type) -> tuple[str, ...] | None:
    """The public field names of a dataclass (None for other types), cached."""
    try:
        return _fields_of[cls]
    except KeyError:
        names = None
        if dataclasses.is_dataclass(cls):
            names = tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))
        _fields_of[cls] = names
        return names


def to_json(spec: object) -> Any:
    """A JSON-ready value (dicts, lists, strings, numbers) for a spec."""
    with collector_paused():
        return _to_json(spec)


def _to_json(spec: object) -> Any:
    kind = type(spec)
    if kind in _PLAIN:
        return spec
    names = _field_names(kind)
    if names is not None:
        return {name: _to_json(getattr(spec, name)) for name in names}
    if isinstance(spec, enum.Enum):
        return spec.value
    if isinstance(spec, tuple | list):
        return [_to_json(v) for v in spec]
    if isinstance(spec, Mapping):
        return {str(k): _to_json(v) for k, v in spec.items()}
    return spec


def from_json(cls: type[T], data: Any) -> T:
    """Rebuilds a spec of type ``cls`` from :func:`to_json`'s output."""
    with collector_paused():
        return typing.cast(T, _decoder(cls)(data))


_Decoder = Callable[[Any], Any]
_decoders: dict[Any, _Decoder] = {}


def _identity(data: Any) -> Any:
    return data


def _decoder(tp: Any) -> _Decoder:
    found = _decoders.get(tp)
    if found is None:
        found = _decoders[tp] = _build(tp)
    return found


def _build(tp: Any) -> _Decoder:
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass_decoder(tp)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        enum_type = tp
        return lambda data: None if data is None else enum_type(data)
    origin = get_origin(tp)
    if origin is tuple:
        item = _decoder(get_args(tp)[0])
        if item is _identity:
            return lambda data: None if data is None else tuple(data)
        return lambda data: None if data is None else tuple(item(v) for v in data)
    if origin in (Mapping, dict, typing.Mapping):
        value = _decoder(get_args(tp)[1])
        if value is _identity:
            return lambda data: None if data is None else dict(data)
        return lambda data: None if data is None else {k: value(v) for k, v in data.items()}
    if origin in (typing.Union, types.UnionType):
        return _union_decoder(get_args(tp))
    return _identity  # str, int, Expr, Literal, JSON values: as they are


def _dataclass_decoder(cls: type) -> _Decoder:
    hints = get_type_hints(cls, vars(specs))
    names = _field_names(cls) or ()
    # Decoders of the fields are looked up when first used: specs refer to each other.
    fields: list[tuple[str, _Decoder]] = []

    def decode(data: Any) -> Any:
        if data is None:
            return None
        if not fields:
            fields.extend((name, _decoder(hints[name])) for name in names)
        return cls(**{name: field(data[name]) for name, field in fields if name in data})

    return decode


def _union_decoder(options: tuple[Any, ...]) -> _Decoder:
    """A JSON object becomes the first option that is a dataclass or a mapping; a JSON
    list the first that is a tuple; anything else stays as it is."""
    for_dict: Any = None
    for_list: Any = None
    for option in options:
        origin = get_origin(option)
        is_dataclass = isinstance(option, type) and dataclasses.is_dataclass(option)
        if for_dict is None and (is_dataclass or origin in (Mapping, dict, typing.Mapping)):
            for_dict = option
        if for_list is None and origin is tuple:
            for_list = option
    if for_dict is None and for_list is None:
        return _identity

    # Resolved when first used: specs refer to each other.
    resolved: list[_Decoder] = []

    def decode(data: Any) -> Any:
        if not resolved:
            resolved.append(_decoder(for_dict) if for_dict is not None else _identity)
            resolved.append(_decoder(for_list) if for_list is not None else _identity)
        if isinstance(data, dict):
            return resolved[0](data)
        if isinstance(data, list):
            return resolved[1](data)
        return data

    return decode
