"""``POST /v1/responses`` and ``GET /v1/responses/{id}``: OpenAI's Responses API.

A request is one agent run (see ``_responses_run``); its output items and stream events
come from ``_responses_events``. Errors are OpenAI error objects: 400 for a bad request,
404 for an unknown response id, an engine error (502/503/504) when the engine fails
before the first token. Once a stream has started, an engine failure ends it with
``response.failed`` and a fault of the server with an ``error`` event. Malformed model
output is never an error: the lenient parser's reading is returned, its repairs listed
in ``metadata`` (``harmony_parse_issues``: how many, ``harmony_parse_detail``: what),
in the ``harmony`` field and, for a non-streamed response, the
``x-harmony-parse-issues`` header.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.responses import Response

from harmony_agent.server._coalesce import coalesced
from harmony_agent.server._errors import APIError
from harmony_agent.server._generate import Finished, ServerEvent, collect, open_generation
from harmony_agent.server._responses_events import OutputBuilder
from harmony_agent.server._responses_items import ConvertedInput, ResponsesRequest
from harmony_agent.server._responses_run import TERMINAL, finish, generation_for, skeleton
from harmony_agent.server._sse import issues_header, stream_response
from harmony_agent.server._state import ServerState, require_key, state_of
from harmony_agent.server._store import ResponseStore

__all__ = ["router", "store_of"]

logger = logging.getLogger("harmony_agent.server")

router = APIRouter(dependencies=[Depends(require_key)])


def store_of(request: Request) -> ResponseStore:
    """The app's response store (made on first use, ``config.store_size`` big)."""
    store: ResponseStore | None = getattr(request.app.state, "responses", None)
    if store is None:
        store = ResponseStore(state_of(request).config.store_size)
        request.app.state.responses = store
    return store


@router.post("/v1/responses", response_model=None)
async def create_response(
    request: ResponsesRequest,
    state: ServerState = Depends(state_of),  # noqa: B008
    store: ResponseStore = Depends(store_of),  # noqa: B008
) -> Response:
    """Create a response (``stream: true`` for the Responses API's server-sent events)."""
    gen, converted = generation_for(request, state, store)
    offered = tuple(t for t in state.tools if t.namespace.name in (gen.builtins or ()))
    builder = OutputBuilder(offered, encoding=state.encoding, stream=bool(request.stream))
    response = skeleton(request, state)
    if request.stream:
        events = await open_generation(state, gen)
        frames = _stream(events, builder, response, request, converted, store)
        return stream_response(coalesced(frames))
    finished = await collect(state, gen)
    if finished.error is not None:
        raise finished.error
    for output in finished.outputs:
        builder.feed(output)
    builder.feed(finished)
    body = finish(response, builder, request=request, converted=converted, store=store)
    return JSONResponse(body, headers=issues_header(finished.parse_issues))


@router.get("/v1/responses/{response_id}", response_model=None)
async def get_response(
    response_id: str,
    store: ResponseStore = Depends(store_of),  # noqa: B008
) -> Response:
    """A stored response, as it was sent."""
    stored = store.get(response_id)
    if stored is None:
        raise APIError(
            404,
            f"Response with id '{response_id}' not found.",
            param="response_id",
            code="not_found",
        )
    return JSONResponse(stored.body)


async def _stream(
    events: AsyncGenerator[ServerEvent, None],
    builder: OutputBuilder,
    response: dict[str, Any],
    request: ResponsesRequest,
    converted: ConvertedInput,
    store: ResponseStore,
) -> AsyncGenerator[str, None]:
    for frame in builder.event("response.created", response=dict(response)):
        yield frame
    for frame in builder.event("response.in_progress", response=dict(response)):
        yield frame
    error: str | None = None
    try:
        async for event in events:
            for frame in builder.feed(event):
                yield frame
            if isinstance(event, Finished):
                break
    except APIError as exc:  # the engine failed mid-run
        error = exc.message
    except Exception as exc:  # a bug of ours: the client still gets an error event
        logger.exception("a streamed response failed")
        for frame in builder.event(
            "error",
            code="server_error",
            param=None,
            message=f"internal server error ({type(exc).__name__})",
        ):
            yield frame
        return
    finally:
        await events.aclose()
    body = finish(response, builder, request=request, converted=converted, store=store, error=error)
    for frame in builder.event(TERMINAL[body["status"]], response=body):
        yield frame
