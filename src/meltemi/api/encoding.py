"""How Mistral's API writes values: timestamps, JSON-in-string fields, states."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from meltemi.services.errors import InvalidInput


def timestamp(value: datetime | None) -> str | None:
    """UTC, second precision, ``YYYY-MM-DD HH:MM:SS`` (what python-mistralclient parses)."""
    if value is None:
        return None
    if value.tzinfo is not None and value.utcoffset():
        value = value.astimezone(UTC)
    # A list page writes hundreds of these: %-formatting is the fastest way here.
    return "%04d-%02d-%02d %02d:%02d:%02d" % (  # noqa: UP031
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
    )


def utf8_safe(text: str) -> str:
    """Text that can be written as UTF-8: lone surrogates (which YAML's escapes can make
    from a definition, and error messages then quote) become backslash escapes."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def json_text(value: Any) -> str | None:
    """A JSON value written as a string inside the response (Mistral's jsontype).

    Written as Mistral writes it (``{"result": "hi"}``, with its spaces): the CLI prints
    some of these strings as they come (``mistral run-action``), and scripts read them.
    """
    if value is None:
        return None
    return _ENCODER.encode(value)


def json_value_text(value: Any) -> str:
    """A JSON value as text, ``null`` included (a task's result: Mistral writes a result
    of None as ``"null"``)."""
    return _ENCODER.encode(value)


def json_field(value: Any, name: str) -> Any:
    """A request field that may be a JSON value or a JSON string (clients send both)."""
    if value is None or not isinstance(value, str):
        return value
    if value == "":
        return None
    try:
        return json.loads(value)
    except json.JSONDecodeError as e:
        raise InvalidInput(
            f"'{name}' is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
        ) from e


def json_or_text(value: Any) -> Any:
    """A result sent by a client: JSON in a string when it parses, else the text itself.

    Mistral reads an action execution's ``output`` as JSON text only; a plain word such
    as ``done`` is accepted here too, as the string it is.
    """
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


def json_object(value: Any, name: str) -> dict[str, Any]:
    parsed = json_field(value, name)
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise InvalidInput(f"'{name}' must be a JSON object, not {type(parsed).__name__}")
    return parsed
