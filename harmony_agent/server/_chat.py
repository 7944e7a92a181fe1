"""``POST /v1/chat/completions``: OpenAI's Chat Completions API, streaming and not.

The answer's ``content`` is the final channel (after any commentary preambles, which
are user-visible notes); the chain of thought goes to ``reasoning_content`` (and
``reasoning``, vLLM's newer name) and never into ``content``; a call to one of the
client's functions comes back in ``tool_calls`` (``finish_reason="tool_calls"``),
streamed as deltas: id and name first, then the arguments in fragments. Built-in
tools (python, browser) run here and do not show.
Repaired model output is reported in the ``x-harmony-parse-issues`` header and in a
``harmony`` field (``parse_issues``, ``stop_reason``); in a stream, in its last chunk.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from starlette.responses import Response

from harmony_agent.server._chat_request import ChatRequest, to_generation
from harmony_agent.server._errors import APIError
from harmony_agent.server._generate import (
    Finished,
    ItemDelta,
    ItemEnd,
    ItemStart,
    ServerEvent,
    collect,
    open_generation,
)
from harmony_agent.server._sse import dumps, issues_header, json_string, sse, stream_response
from harmony_agent.server._state import ServerState, require_key, state_of

__all__ = ["router"]

logger = logging.getLogger("harmony_agent.server")

router = APIRouter(dependencies=[Depends(require_key)])

#: Text shown between two content items (a preamble, then the answer).
SEPARATOR = "\n\n"


@router.post("/v1/chat/completions", response_model=None)
async def chat_completions(
    request: ChatRequest,
    state: ServerState = Depends(state_of),  # noqa: B008
) -> Response:
    """Answer a chat completion request (``stream: true`` for server-sent events)."""
    gen = to_generation(request)
    cid = "chatcmpl-" + secrets.token_hex(12)
    created = int(time.time())
    if request.stream:
        include_usage = bool(request.stream_options and request.stream_options.include_usage)
        events = await open_generation(state, gen)
        chunks = _Chunks(cid, created, state.config.model)
        return stream_response(_stream(events, chunks, include_usage))
    finished = await collect(state, gen)
    if finished.error is not None:
        raise finished.error
    body = _completion(finished, cid, created, state.config.model)
    return JSONResponse(body, headers=issues_header(finished.parse_issues))


def _usage(finished: Finished) -> dict[str, int]:
    usage = finished.usage
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def _harmony(finished: Finished) -> dict[str, Any]:
    return {"stop_reason": finished.stop_reason, "parse_issues": list(finished.parse_issues)}


def _joined(finished: Finished, *kinds: str) -> str | None:
    texts = [
        o.message.text
        for o in finished.outputs
        if isinstance(o, ItemEnd) and o.item.kind in kinds and o.message.text
    ]
    return SEPARATOR.join(texts) if texts else None


def _completion(finished: Finished, cid: str, created: int, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": _joined(finished, "preamble", "text"),
        "reasoning_content": _joined(finished, "reasoning"),
    }
    message["reasoning"] = message["reasoning_content"]  # vLLM's newer name for it
    calls = [
        {
            "id": end.item.call_id,
            "type": "function",
            "function": {"name": end.item.name, "arguments": end.message.text},
        }
        for end in finished.calls
    ]
    if calls:
        message["tool_calls"] = calls
    return {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": finished.finish_reason,
            }
        ],
        "usage": _usage(finished),
        "system_fingerprint": None,
        "harmony": _harmony(finished),
    }


class _Chunks:
    """Chunk frames with a fixed head (id, created, model): only the delta is encoded."""

    def __init__(self, cid: str, created: int, model: str) -> None:
        head = dumps(
            {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model}
        )
        self._head = head[:-1] + ',"choices":[{"index":0,"delta":'
        self._tail = ',"logprobs":null,"finish_reason":null}]}'
        self._bare = head[:-1]

    def delta(self, delta: dict[str, Any]) -> str:
        return f"data: {self._head}{dumps(delta)}{self._tail}\n\n"

    def text(self, field: str, text: str) -> str:
        """A delta with one text field (the per-token path: no dict, one string escape)."""
        return f'data: {self._head}{{"{field}":{json_string(text)}}}{self._tail}\n\n'

    def reasoning(self, text: str) -> str:
        """A reasoning delta, under both names clients read."""
        quoted = json_string(text)
        body = f'{{"reasoning_content":{quoted},"reasoning":{quoted}}}'
        return f"data: {self._head}{body}{self._tail}\n\n"

    def finish(self, reason: str, extra: dict[str, Any]) -> str:
        tail = f',"logprobs":null,"finish_reason":{dumps(reason)}}}]'
        return sse(self._head + "{}" + tail + "," + dumps(extra)[1:])

    def usage(self, usage: dict[str, int]) -> str:
        return sse(self._bare + ',"choices":[],"usage":' + dumps(usage) + "}")


async def _stream(
    events: AsyncGenerator[ServerEvent, None], chunks: _Chunks, include_usage: bool
) -> AsyncIterator[str]:
    calls: dict[int, int] = {}  # item index -> tool_calls index
    # the item that last sent content / reasoning text: a new one is set off by SEPARATOR
    last: dict[str, int] = {}
    yield chunks.delta({"role": "assistant", "content": ""})
    try:
        async for event in events:
            if isinstance(event, ItemDelta):  # the per-token path first
                if not event.text:
                    continue
                item = event.item
                if item.kind in ("text", "preamble", "reasoning"):
                    field = "reasoning" if item.kind == "reasoning" else "content"
                    before = last.get(field)
                    last[field] = item.index
                    text = event.text
                    if before is not None and before != item.index:
                        text = SEPARATOR + text
                    if field == "content":
                        yield chunks.text("content", text)
                    else:  # reasoning_content, and reasoning (vLLM's newer name for it)
                        yield chunks.reasoning(text)
                elif item.kind == "function_call":
                    fragment = {"index": calls[item.index], "function": {"arguments": event.text}}
                    yield chunks.delta({"tool_calls": [fragment]})
            elif isinstance(event, ItemStart):
                item = event.item
                if item.kind == "function_call":
                    calls[item.index] = len(calls)
                    call = {
                        "index": calls[item.index],
                        "id": item.call_id,
                        "type": "function",
                        "function": {"name": item.name, "arguments": ""},
                    }
                    yield chunks.delta({"tool_calls": [call]})
            elif isinstance(event, Finished):
                if event.error is not None:
                    yield sse(dumps(event.error.body()))
                    return
                extra: dict[str, Any] = {"harmony": _harmony(event)}
                yield chunks.finish(event.finish_reason, extra)
                if include_usage:
                    yield chunks.usage(_usage(event))
                yield sse("[DONE]")
                return
    except APIError as exc:
        yield sse(dumps(exc.body()))
    except Exception as exc:  # a bug of ours: the client still gets an error event
        logger.exception("chat completion stream failed")
        yield sse(dumps(APIError(500, f"internal server error ({type(exc).__name__})").body()))
    finally:
        await events.aclose()
