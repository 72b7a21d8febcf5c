"""Reading request bodies: YAML definitions as text, JSON objects, with size limits."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from meltemi.services.errors import InvalidInput, ServiceError


class TooLarge(ServiceError):
    status = 413


async def read_text(request: Request, limit: int) -> str:
    """The body as UTF-8 text (definitions are sent as text/plain)."""
    data = await request.body()
    if len(data) > limit:
        raise TooLarge(f"the request body has {len(data)} bytes; the limit is {limit}")
    if not data.strip():
        raise InvalidInput("the request body is empty; send the definition as text (YAML)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput(
            f"the definition is not UTF-8 text (byte {e.start}); send it as UTF-8"
        ) from e


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object."""
    data = await request.body()
    if len(data) > limit:
        raise TooLarge(f"the request body has {len(data)} bytes; the limit is {limit}")
    if not data.strip():
        raise InvalidInput("the request body is empty; send a JSON object")
    try:
        value = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        where = (
            f" at line {e.lineno}, column {e.colno}" if isinstance(e, json.JSONDecodeError) else ""
        )
        raise InvalidInput(f"the request body is not valid JSON{where}") from e
    if not isinstance(value, dict):
        raise InvalidInput(f"the request body must be a JSON object, not {type(value).__name__}")
    return value


def check_scope(scope: str | None) -> str:
    if scope in (None, ""):
        return "private"
    if scope not in ("private", "public"):
        raise InvalidInput(f"scope must be 'private' or 'public', not '{scope}'")
    return scope
