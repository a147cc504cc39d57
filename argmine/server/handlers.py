"""Error handlers: every error is JSON ``{"detail": ...}`` with the status the API documents."""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from argmine.errors import describe
from argmine.server.worker import ParseFailed

logger = logging.getLogger("argmine.server")


def add_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ParseFailed, _parse_failed)
    app.add_exception_handler(Exception, _unexpected_error)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    """400 for a body that is not JSON at all, 415 for one sent as something else, else 422."""
    errors = exc.errors()
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "not valid JSON")
            position = error.get("loc", ("body", None))[-1]
            where = f" at character {position}" if isinstance(position, int) else ""
            return json_response({"detail": f"malformed JSON: {reason}{where}"}, 400)
    kind = request.headers.get("content-type", "")
    if kind and "json" not in kind.lower():
        message = f"send the body as JSON (Content-Type: application/json), not {kind}"
        return json_response({"detail": message}, 415)
    return json_response({"detail": [_field_error(e) for e in errors]}, 422)


def _field_error(error: dict[str, Any]) -> dict[str, Any]:
    """An error without the ``input`` pydantic echoes back (it can be the whole text)."""
    message = str(error.get("msg", ""))
    message = message.removeprefix("Value error, ")
    return jsonable_encoder(
        {"loc": list(error.get("loc", ())), "msg": message, "type": error.get("type")}
    )


async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
    detail = exc.detail if exc.detail is not None else "error"
    if exc.status_code == 404:
        detail = f"no such endpoint: {request.url.path} (see /docs)"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed on {request.url.path} (see /docs)"
    response = json_response({"detail": detail}, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def _parse_failed(request: Request, exc: ParseFailed) -> Response:
    return json_response({"detail": str(exc)}, exc.status_code)


async def _unexpected_error(request: Request, exc: Exception) -> Response:
    logger.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return json_response({"detail": f"internal server error: {describe(exc)}"}, 500)


def json_response(value: Any, status_code: int = 200) -> Response:
    """A JSON response (strict: NaN is an error, not invalid JSON sent to a client)."""
    body = json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")
    return Response(body, status_code=status_code, media_type="application/json")
