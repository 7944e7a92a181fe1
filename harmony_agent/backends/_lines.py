"""Reading streamed replies line by line: server-sent events and NDJSON.

Each reader yields the decoded JSON of every event; a reply that is not the JSON the
protocol promises raises :class:`Malformed` (a :class:`~harmony_agent.BackendError`).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from harmony_agent.errors import BackendError

if TYPE_CHECKING:
    import httpx

__all__ = [
    "DONE",
    "EXCERPT",
    "EngineEvents",
    "Malformed",
    "error_message",
    "loads",
    "ndjson_events",
    "sse_events",
]

#: How much of a server's error text goes into an error message.
EXCERPT = 1000


class Malformed(BackendError):
    """A reply that is not the JSON the engine's protocol promises."""


class _Done:
    """The end-of-stream marker ``data: [DONE]`` (see :func:`sse_events`)."""

    def __repr__(self) -> str:
        return "DONE"


#: What :func:`sse_events` yields for ``data: [DONE]``, just before it stops.
DONE = _Done()


def loads(text: str, engine: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise Malformed(f"{engine} sent a malformed reply (not JSON): {text[:200]!r}") from None


async def sse_events(response: httpx.Response, engine: str) -> AsyncIterator[Any]:
    """Decoded JSON of each server-sent event's ``data``, then :data:`DONE` at ``[DONE]``.

    An ``error:`` field (llama.cpp) raises :class:`BackendError`. An event cut off by
    the end of the body is dropped unless it is whole JSON; the adapter then sees no end
    marker and reports the stream as unfinished.
    """
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                payload = "\n".join(data)
                data.clear()
                if payload.strip() == "[DONE]":
                    yield DONE
                    return
                yield loads(payload, engine)
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "error":
            raise BackendError(f"{engine} reported an error mid-stream: {value[:EXCERPT]}")
    if data:  # no blank line after the last event: whole JSON counts, a cut-off piece not
        payload = "\n".join(data)
        if payload.strip() == "[DONE]":
            yield DONE
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            return
        yield event


async def ndjson_events(response: httpx.Response, engine: str) -> AsyncIterator[Any]:
    """Decoded JSON of each non-empty line; a last line cut off by the end is dropped."""
    pending = ""
    async for text in response.aiter_text():
        pending += text
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.strip():
                yield loads(line, engine)
    if pending.strip():
        try:
            event = json.loads(pending)
        except json.JSONDecodeError:
            return
        yield event


def error_message(event: Any) -> str | None:
    """The error an engine put in a stream event (``{"error": ...}``), if any."""
    if isinstance(event, dict) and event.get("error"):
        error = event["error"]
        if isinstance(error, dict):
            return str(error.get("message") or json.dumps(error))
        return str(error)
    return None


class EngineEvents:
    """The engine's own events of a server-sent-event reply, as JSON objects.

    Iterating stops at ``data: [DONE]`` (then ``done`` is True); an error event raises
    :class:`BackendError` naming the engine and its ``base_url``; anything that is not
    a JSON object is skipped.
    """

    def __init__(self, response: httpx.Response, engine: str, base_url: str) -> None:
        self.response = response
        self.engine = engine
        self.where = f"{engine} at {base_url}"
        self.done = False

    async def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        async for event in sse_events(self.response, self.engine):
            if event is DONE:
                self.done = True
                return
            if (message := error_message(event)) is not None:
                raise BackendError(f"{self.where} failed mid-stream: {message}")
            if isinstance(event, dict):
                yield event
