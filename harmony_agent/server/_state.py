"""What every request handler shares: :class:`ServerConfig` and :class:`ServerState`.

The app holds one :class:`ServerState` (``app.state.harmony``); handlers get it with the
:func:`state_of` dependency and the API-key check with :func:`require_key`.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass, field

from fastapi import Request

from harmony_agent.agent._backend import Backend
from harmony_agent.format._encoding import Encoding
from harmony_agent.format._messages import ReasoningEffort, SystemContent
from harmony_agent.server._errors import APIError
from harmony_agent.tools._base import Tool

__all__ = ["ServerConfig", "ServerState", "require_key", "state_of"]


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """How the server runs requests (the CLI's options; defaults suit gpt-oss).

    Attributes:
        model: the model name ``/v1/models`` lists and responses carry; requests may
            name any model (one model is served).
        api_key: when set, every ``/v1`` request must send ``Authorization: Bearer KEY``.
        max_tokens: tokens per completion when a request sets no limit.
        max_turns: the most completions one request may take (built-in tool loops).
        context_window: the model's context length (None: the engine enforces it).
        tool_timeout: seconds a built-in tool call may take.
        reasoning: the reasoning effort when a request names none.
        system: the harmony system message's base (identity, knowledge cutoff, date).
        store_size: responses kept for ``previous_response_id`` (least recently used
            dropped; 0 keeps none).
    """

    model: str = "gpt-oss"
    api_key: str | None = None
    max_tokens: int = 8192
    max_turns: int = 16
    context_window: int | None = None
    tool_timeout: float | None = 120.0
    reasoning: ReasoningEffort = ReasoningEffort.MEDIUM
    system: SystemContent = field(default_factory=SystemContent)
    store_size: int = 1024


@dataclass(frozen=True, slots=True)
class ServerState:
    """The app's shared state: backend, encoding, built-in tools and configuration.

    ``tools`` are the server-side (built-in) tools, shared by all requests: each run
    enters its own ``session()`` (a kernel per request for the python tool).
    """

    backend: Backend
    encoding: Encoding
    config: ServerConfig
    tools: tuple[Tool, ...] = ()
    created: int = field(default_factory=lambda: int(time.time()))


def state_of(request: Request) -> ServerState:
    """The dependency that hands a handler the app's :class:`ServerState`."""
    state: ServerState = request.app.state.harmony
    return state


def require_key(request: Request) -> None:
    """The dependency that enforces ``--api-key``: 401 unless the bearer token matches."""
    key = state_of(request).config.api_key
    if key is None:
        return
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise APIError(
            401,
            "missing API key: send it as 'Authorization: Bearer KEY'",
            code="missing_api_key",
        )
    if not hmac.compare_digest(token.strip().encode(), key.encode()):
        raise APIError(401, "incorrect API key provided", code="invalid_api_key")
