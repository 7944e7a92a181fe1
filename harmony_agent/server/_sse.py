"""Server-sent events: compact JSON, ``data:`` (and ``event:``) frames, the streaming response."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

from starlette.responses import StreamingResponse

__all__ = [
    "PARSE_ISSUES_HEADER",
    "dumps",
    "issues_header",
    "json_string",
    "sse",
    "stream_response",
]

logger = logging.getLogger("harmony_agent.server")

#: The response header that reports repaired model output on non-streaming replies.
PARSE_ISSUES_HEADER = "x-harmony-parse-issues"

_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
#: A JSON string literal for ``text`` (C-accelerated; non-ASCII kept as it is).
json_string: Callable[[str], str] = json.encoder.encode_basestring


def dumps(obj: Any) -> str:
    """Compact JSON, non-ASCII kept as it is."""
    return _ENCODER.encode(obj)


def sse(data: str, event: str | None = None) -> str:
    """One SSE frame carrying ``data`` (JSON text or ``[DONE]``), optionally named."""
    if event is None:
        return f"data: {data}\n\n"
    return f"event: {event}\ndata: {data}\n\n"


def issues_header(issues: tuple[str, ...]) -> dict[str, str]:
    """``{x-harmony-parse-issues: "N: first problem"}`` when there were any (ASCII only)."""
    if not issues:
        return {}
    first = issues[0].encode("ascii", "replace").decode("ascii")
    first = " ".join(first.split())[:200]
    return {PARSE_ISSUES_HEADER: f"{len(issues)}: {first}"}


def stream_response(
    frames: AsyncIterator[str], headers: Mapping[str, str] | None = None
) -> StreamingResponse:
    """A ``text/event-stream`` response sending ``frames`` as they come."""
    return StreamingResponse(
        frames, media_type="text/event-stream", headers={**_HEADERS, **(headers or {})}
    )
