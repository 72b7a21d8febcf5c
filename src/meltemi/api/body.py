"""Reading request bodies: YAML definitions as text, JSON objects, with size limits;
and how the OpenAPI document describes them (the routers read bodies themselves, so
FastAPI cannot see them).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from pydantic import BaseModel, ValidationError

from meltemi.api.encoding import utf8_safe
from meltemi.services.errors import InvalidInput, ServiceError

M = TypeVar("M", bound=BaseModel)


class TooLarge(ServiceError):
    status = 413


#: ``openapi_extra`` of an operation whose body is a definition (YAML as text/plain).
TEXT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The definition, as YAML text (UTF-8).",
        "content": {"text/plain": {"schema": {"type": "string", "minLength": 1}}},
    }
}


#: ``openapi_extra`` of a validate operation: any text, even none (an empty or absent
#: definition is answered as not valid, as Mistral does, rather than refused).
VALIDATE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "description": "The definition to check, as YAML text (UTF-8).",
        "content": {"text/plain": {"schema": {"type": "string"}}},
    }
}

#: The error a validate operation gives for an empty definition.
EMPTY_DEFINITION = "the definition is empty; send it as text (YAML)"


def validation(error: str | None) -> dict[str, Any]:
    """A validate operation's answer: ``{"valid": true}`` or ``{"valid": false, "error"}``.

    The error may quote the definition, and YAML escapes can make text that is no
    Unicode (lone surrogates); those are written as escapes, so that the answer is
    still UTF-8 JSON.
    """
    if error is None:
        return {"valid": True}
    return {"valid": False, "error": utf8_safe(error)}


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` of an operation whose body is a JSON object shaped as ``model``."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


async def read_body(request: Request, limit: int) -> bytes:
    """The body's bytes; a 413 as soon as it is known to pass ``limit`` (from its
    Content-Length, or while it arrives), without holding more than that in memory."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise TooLarge(f"the request body has {declared} bytes; the limit is {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLarge(f"the request body has more than {limit} bytes, the limit")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_text(request: Request, limit: int, *, allow_empty: bool = False) -> str:
    """The body as UTF-8 text (definitions are sent as text/plain); an empty body is a
    400 unless ``allow_empty``."""
    data = await read_body(request, limit)
    if not data.strip():
        if allow_empty:
            return ""
        raise InvalidInput("the request body is empty; send the definition as text (YAML)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise InvalidInput(
            f"the definition is not UTF-8 text (byte {e.start}); send it as UTF-8"
        ) from e


async def read_json(request: Request, limit: int) -> dict[str, Any]:
    """The body as a JSON object."""
    data = await read_body(request, limit)
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


async def read_model(request: Request, model: type[M], limit: int) -> dict[str, Any]:
    """The body as a JSON object checked against ``model``: the fields it has, as sent
    (unknown fields and wrong types are 400s that name the field)."""
    body = await read_json(request, limit)
    try:
        model.model_validate(body)
    except ValidationError as e:
        raise InvalidInput(describe(e, model.__name__)) from e
    return body


def _limit(request: Request) -> int:
    limit: int = request.app.state.services.settings.max_body_bytes
    return limit


async def _text(request: Request) -> str:
    return await read_text(request, _limit(request))


async def _text_or_empty(request: Request) -> str:
    return await read_text(request, _limit(request), allow_empty=True)


#: A definition body, read before the endpoint runs. Endpoints that take their body
#: this way can be plain functions, which FastAPI runs in its thread pool: the services
#: block (a database transaction, a wait for the engine), and must not block the event
#: loop that serves every other request.
TextBody = Annotated[str, Depends(_text)]
#: A definition body to validate: as TextBody, but empty ('' then) is no error.
TextToValidate = Annotated[str, Depends(_text_or_empty)]


def model_body(model: type[BaseModel]) -> Any:
    """A dependency giving the JSON body checked against ``model`` (see TextBody)."""

    async def read(request: Request) -> dict[str, Any]:
        return await read_model(request, model, _limit(request))

    return Depends(read)


def describe(error: ValidationError, what: str) -> str:
    """One phrase per field: ``'state': Input should be 'RUNNING' or 'PAUSED'``."""
    unknown: list[str] = []
    wrong: dict[str, list[str]] = {}
    for problem in error.errors(include_url=False):
        field = str(problem["loc"][0]) if problem["loc"] else "body"
        if problem["type"] == "extra_forbidden":
            unknown.append(field)
        elif problem["msg"] not in wrong.setdefault(field, []):
            wrong[field].append(problem["msg"])  # a union's members say one each
    phrases = [f"unknown field '{f}'" for f in unknown]
    phrases += [f"'{f}': {' or '.join(m)}" for f, m in wrong.items()]
    return f"Invalid {what}: " + "; ".join(phrases)


def check_scope(scope: str | None) -> str:
    if scope in (None, ""):
        return "private"
    if scope not in ("private", "public"):
        raise InvalidInput(f"scope must be 'private' or 'public', not '{scope}'")
    return scope
