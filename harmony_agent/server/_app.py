"""The ASGI app: :func:`create_app` wires the state, the error handlers and the routers.

Routers: :data:`core` here (``/health``, ``/v1/models``), ``/v1/chat/completions`` in
``_chat.py``. A new endpoint is a module with an ``APIRouter`` whose routes depend on
:func:`~harmony_agent.server._state.require_key`, added to :data:`ROUTERS`.
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from harmony_agent.agent._backend import Backend, as_backend
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._messages import ReasoningEffort, SystemContent
from harmony_agent.format._parser import StreamParser
from harmony_agent.server._errors import install_error_handlers
from harmony_agent.server._state import ServerConfig, ServerState, require_key, state_of
from harmony_agent.tools import Tool

__all__ = ["ROUTERS", "core", "create_app"]

#: Modules (in harmony_agent.server) whose ``router`` the app includes, in order.
ROUTERS: tuple[str, ...] = ("_chat", "_responses")

core = APIRouter()


@core.get("/health")
async def health() -> dict[str, str]:
    """Liveness: the server is up (no API key needed; the engine is not asked)."""
    return {"status": "ok"}


@core.get("/v1/models", dependencies=[Depends(require_key)])
async def models(state: ServerState = Depends(state_of)) -> dict[str, Any]:  # noqa: B008
    """The one model this server serves, as OpenAI's model list."""
    card = {
        "id": state.config.model,
        "object": "model",
        "created": state.created,
        "owned_by": "harmony-agent",
    }
    return {"object": "list", "data": [card]}


@core.get("/v1/models/{model_id:path}", dependencies=[Depends(require_key)])
async def model(model_id: str, state: ServerState = Depends(state_of)) -> dict[str, Any]:  # noqa: B008
    """One model card (any name answers with the served model's card)."""
    return {
        "id": model_id,
        "object": "model",
        "created": state.created,
        "owned_by": "harmony-agent",
    }


def create_app(
    backend: Backend | Callable[..., Any],
    *,
    model: str = "gpt-oss",
    api_key: str | None = None,
    tools: Iterable[Tool] = (),
    max_tokens: int = 8192,
    max_turns: int = 16,
    context_window: int | None = None,
    tool_timeout: float | None = 120.0,
    reasoning: ReasoningEffort | str = ReasoningEffort.MEDIUM,
    system: SystemContent | None = None,
    encoding: Encoding | None = None,
    owns_tools: bool = False,
    store_size: int = 1024,
) -> FastAPI:
    """An OpenAI-compatible ASGI app in front of ``backend`` (run it with uvicorn).

    Args:
        backend: any backend (``ha.backends.VLLM(url)``, ...) or plain callable.
        model: the model name the API reports.
        api_key: require ``Authorization: Bearer KEY`` on ``/v1`` routes (None: open).
        tools: built-in tools run server-side (``ha.PythonTool()``,
            ``ha.BrowserTool()``); the caller keeps ownership and closes them.
        max_tokens: tokens per completion when a request sets no limit.
        max_turns: completions per request (built-in tool loops).
        context_window: the model's context length (None: left to the engine).
        tool_timeout: seconds per built-in tool call.
        reasoning: the default reasoning effort.
        system: the harmony system message's base content.
        encoding: the harmony encoding (default: :func:`~harmony_agent.load_encoding`).
        owns_tools: close ``tools`` when the app shuts down (a worker process that
            built them for itself).
        store_size: responses kept for ``/v1/responses``' ``previous_response_id``.
    """
    config = ServerConfig(
        model=model,
        api_key=api_key or None,
        max_tokens=max_tokens,
        max_turns=max_turns,
        context_window=context_window,
        tool_timeout=tool_timeout,
        reasoning=ReasoningEffort(str(reasoning).lower()),
        system=system or SystemContent(),
        store_size=store_size,
    )
    state = ServerState(
        backend=as_backend(backend),
        encoding=encoding or load_encoding(),
        config=config,
        tools=tuple(tools),
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        # an HTTP backend's connections belong to this event loop: close them with it
        release = getattr(state.backend, "release_loop", None)
        if release is not None:
            await release()
        if owns_tools:
            for tool in state.tools:
                close = getattr(tool, "aclose", None) or getattr(tool, "close", None)
                if close is not None:
                    done = close()
                    if inspect.isawaitable(done):
                        await done

    # Build the BPE and parser tables now rather than in the first request (1-2 s).
    StreamParser(state.encoding).feed(state.encoding.encode("warm"))
    app = FastAPI(
        title="harmony-agent", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan
    )
    app.state.harmony = state
    install_error_handlers(app)
    app.include_router(core)
    for name in ROUTERS:
        module = importlib.import_module(f"harmony_agent.server.{name}")
        app.include_router(module.router)
    return app
