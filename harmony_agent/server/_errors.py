"""OpenAI-style errors: ``{"error": {"message", "type", "param", "code"}}`` with the right status.

Every failure a client can see goes through :class:`APIError`: bad requests (400), a
missing or wrong API key (401), unknown paths (404), and engine failures mapped by
:func:`engine_error` (502 bad reply, 503 unreachable, 504 timed out). Malformed model
output is never an error: the lenient parser's reading is returned, the problems
reported alongside (see ``harmony_agent.server``).
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from harmony_agent.errors import BackendError, StreamInterrupted

__all__ = ["APIError", "bad_request", "engine_error", "install_error_handlers"]

logger = logging.getLogger("harmony_agent.server")

_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    404: "not_found_error",
    405: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


class APIError(Exception):
    """An error answered to the client as an OpenAI error object.

    Args:
        status: the HTTP status.
        message: what went wrong, for a person to read.
        type: the error's ``type`` (default: from the status, e.g. ``invalid_request_error``).
        param: the request field at fault, if one is.
        code: a short machine-readable code (``invalid_api_key``, ``engine_unavailable``).
    """

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type or _TYPES.get(status, "server_error")
        self.param = param
        self.code = code

    def body(self) -> dict[str, Any]:
        """The JSON body: ``{"error": {...}}``."""
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }

    def response(self) -> JSONResponse:
        """This error as a response (401 adds ``WWW-Authenticate``)."""
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def bad_request(message: str, param: str | None = None, code: str | None = None) -> APIError:
    """A 400 ``invalid_request_error``."""
    return APIError(400, message, param=param, code=code)


def engine_error(exc: BackendError) -> APIError:
    """The error a client gets when the engine behind the server failed.

    503 when it cannot be reached, 504 when it timed out, 400 when it refused the
    request as too large or invalid (usually a prompt past its context), 502 otherwise
    (an HTTP error, a malformed reply, a stream that broke and could not be resumed).
    """
    text = f"the inference engine failed: {exc}"
    cause = exc.__cause__
    if isinstance(cause, httpx.TimeoutException) and not isinstance(cause, httpx.ConnectTimeout):
        return APIError(504, text, code="engine_timeout")
    if "could not connect" in str(exc) or isinstance(
        cause, httpx.ConnectError | httpx.ConnectTimeout
    ):
        return APIError(503, text, code="engine_unavailable")
    if "timeout" in str(exc).lower() and isinstance(exc, StreamInterrupted):
        return APIError(504, text, code="engine_timeout")
    if exc.status in (400, 413, 422):
        return APIError(400, text, code="engine_rejected_request")
    if exc.status == 429:
        return APIError(429, text, code="engine_overloaded")
    return APIError(502, text, code="engine_error")


def _param(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p != "body"]
    if not parts:
        return None
    text = parts[0]
    for part in parts[1:]:
        text += f"[{part}]" if part.isdigit() else f".{part}"
    return text


def install_error_handlers(app: FastAPI) -> None:
    """Answer every error, FastAPI's own included, as an OpenAI error object."""

    async def api_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, APIError)
        return exc.response()

    async def invalid(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = exc.errors()
        first = errors[0] if errors else {}
        param = _param(tuple(first.get("loc", ())))
        message = str(first.get("msg", "invalid request"))
        if param is not None:
            message = f"{param}: {message}"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem(s))"
        return bad_request(message, param=param).response()

    async def http_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return APIError(exc.status_code, str(exc.detail)).response()

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("internal error", exc_info=exc)
        detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return APIError(500, f"internal server error ({detail})").response()

    app.add_exception_handler(APIError, api_error)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
