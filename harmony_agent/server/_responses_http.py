"""The Responses endpoints on FastAPI: ``POST /v1/responses`` and ``GET /v1/responses/{id}``.

Errors are OpenAI's error objects (``{"error": {"message", "type", "param", "code"}}``)
with the right status: 400 for a bad request, 404 for an unknown response id, 502 for
an engine that failed before producing anything. Once a stream has started, a failure
ends it with ``response.failed`` (or, for a fault of the server itself, an ``error``
event). Problems with the model's output never fail a request: the lenient parser's
reading is returned and the problems are listed in ``metadata.harmony_parse_issues``
(and counted in the ``X-Harmony-Parse-Issues`` header of a non-streamed response).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from harmony_agent.server._responses import EngineFailure, ResponsesService, sse
from harmony_agent.server._responses_items import RequestProblem

__all__ = ["responses_router"]

logger = logging.getLogger("harmony_agent.server")

_PREAMBLE = ("response.created", "response.in_progress")


def _problem(error: RequestProblem | EngineFailure) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status)


def responses_router(service: ResponsesService) -> APIRouter:
    """The Responses API's routes over ``service``."""
    router = APIRouter()

    @router.post("/v1/responses", response_model=None)
    async def create_response(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            return _problem(RequestProblem("the request body is not valid JSON"))
        streamed = isinstance(body, dict) and body.get("stream") is True
        try:
            if not streamed:
                response = await service.create(body)
                issues = response["metadata"].get("harmony_parse_issues")
                headers = {"X-Harmony-Parse-Issues": issues} if issues else None
                return JSONResponse(response, headers=headers)
            events = service.events(body)
            head: list[dict[str, Any]] = []
            # Read up to the first model output, so that a bad request or a dead engine
            # is still an HTTP error rather than a stream that fails at once.
            async for event in events:
                head.append(event)
                if event["type"] not in _PREAMBLE:
                    break
        except (RequestProblem, EngineFailure) as error:
            return _problem(error)
        return StreamingResponse(
            _frames(head, events),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    @router.get("/v1/responses/{response_id}", response_model=None)
    async def get_response(response_id: str) -> Response:
        stored = service.store.get(response_id)
        if stored is None:
            return _problem(
                RequestProblem(
                    f"Response with id '{response_id}' not found.",
                    status=404,
                    param="response_id",
                    code="not_found",
                )
            )
        return JSONResponse(stored.body)

    return router


async def _frames(
    head: list[dict[str, Any]], events: AsyncGenerator[dict[str, Any], None]
) -> AsyncIterator[bytes]:
    sequence = head[-1]["sequence_number"] if head else 0
    async with aclosing(events) as rest:
        for event in head:
            yield sse(event)
        try:
            async for event in rest:
                sequence = event["sequence_number"]
                yield sse(event)
        except Exception as exc:  # the stream has started: report in-band
            logger.exception("a streamed response failed")
            yield sse(
                {
                    "type": "error",
                    "sequence_number": sequence + 1,
                    "code": "server_error",
                    "message": f"{type(exc).__name__}: {exc}",
                    "param": None,
                }
            )
