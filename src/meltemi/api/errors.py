"""Turning errors into Mistral's error responses: a status and ``{"faultstring": ...}``.

python-mistralclient reads ``faultstring`` (or the ``Server-Error-Message`` header);
both carry what was wrong and, where we know it, how to fix it.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from meltemi.actions import ActionError
from meltemi.api.encoding import utf8_safe
from meltemi.api.models import Fault
from meltemi.engine import EngineError
from meltemi.errors import MeltemiError
from meltemi.expressions import ExpressionError
from meltemi.lang import DefinitionError
from meltemi.services.errors import ServiceError

log = logging.getLogger(__name__)


def fault(status: int, message: str) -> JSONResponse:
    message = utf8_safe(message)
    body = {
        "faultcode": "Client" if status < 500 else "Server",
        "faultstring": message,
        "debuginfo": None,
    }
    header = message.splitlines()[0] if message else ""
    # A header value may hold printable ASCII only (a NUL from a query string would
    # make the server drop the connection instead of answering), and may not begin or
    # end with a space (a line cut at a control character such as \x1e may).
    header = "".join(c if " " <= c <= "~" else "?" for c in header[:1000]).strip()
    return JSONResponse(body, status_code=status, headers={"Server-Error-Message": header})


def status_of(error: MeltemiError) -> int:
    if isinstance(error, ServiceError):
        return error.status
    if isinstance(error, DefinitionError | EngineError | ActionError | ExpressionError):
        return 400
    return 500


def _validation_message(error: RequestValidationError) -> str:
    parts = []
    for problem in error.errors():
        location = ".".join(str(p) for p in problem.get("loc", ()) if p != "body")
        parts.append(f"{location or 'request'}: {problem.get('msg', 'invalid')}")
    return "Invalid request: " + "; ".join(parts)


#: The error answers any operation may give, as the OpenAPI document lists them.
ERRORS: dict[int, str] = {
    400: "The request is wrong (bad input, parameter or definition); faultstring says why.",
    403: "Not allowed in the current state (e.g. deleting a running execution).",
    404: "No such resource.",
    409: "A resource with that name exists, or the request conflicts with its state.",
    413: "The request body is too large.",
    503: "The service is stopping; try again once it has restarted.",
}


def _document_errors(app: FastAPI) -> None:
    """Describes error answers as they are: a Fault body with 400, 403, 404, 409, 413 and
    503, and no FastAPI 422 (request validation errors are answered with 400)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = generate()
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        components["Fault"] = Fault.model_json_schema()
        fault_answer = {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Fault"}}},
            "headers": {
                "Server-Error-Message": {
                    "description": "The first line of faultstring.",
                    "schema": {"type": "string"},
                }
            },
        }
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                responses.pop("422", None)
                for status, meaning in ERRORS.items():
                    responses.setdefault(str(status), {"description": meaning, **fault_answer})
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way


def install(app: FastAPI) -> None:
    _document_errors(app)

    @app.exception_handler(MeltemiError)
    async def meltemi_error(_request: Request, error: MeltemiError) -> JSONResponse:
        status = status_of(error)
        if status >= 500:
            log.error("api.error", extra={"error": repr(error)})
        return fault(status, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> JSONResponse:
        return fault(400, _validation_message(error))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, error: StarletteHTTPException) -> JSONResponse:
        detail: Any = error.detail
        return fault(error.status_code, str(detail))

    @app.exception_handler(Exception)
    async def unexpected(_request: Request, error: Exception) -> JSONResponse:
        log.exception("api.unexpected_error")
        return fault(500, f"Internal error: {type(error).__name__}. See the server log.")
