"""An OpenAI-compatible server in front of any backend: ``harmony-agent serve`` as an ASGI app.

::

    import uvicorn
    from harmony_agent.backends import VLLM
    from harmony_agent.server import create_app

    app = create_app(VLLM("http://127.0.0.1:8000"), model="gpt-oss-20b", api_key="secret")
    uvicorn.run(app, host="127.0.0.1", port=8080)

Endpoints: ``GET /health``, ``GET /v1/models``, ``POST /v1/chat/completions``. The
harmony work is ours: the renderer, the lenient parser, the chain-of-thought policy
(never in ``content``), client-side function calls handed back to the client, built-in
tools (python, browser) run sandboxed on the server. Errors are OpenAI error objects.
"""

from __future__ import annotations

from harmony_agent.server._app import create_app
from harmony_agent.server._errors import APIError
from harmony_agent.server._generate import (
    Finished,
    Generation,
    Item,
    ItemDelta,
    ItemEnd,
    ItemStart,
    ServerEvent,
    ToolAnswer,
    collect,
    generate,
    open_generation,
)
from harmony_agent.server._serve import running, serve
from harmony_agent.server._sse import PARSE_ISSUES_HEADER
from harmony_agent.server._state import ServerConfig, ServerState

__all__ = [
    "PARSE_ISSUES_HEADER",
    "APIError",
    "Finished",
    "Generation",
    "Item",
    "ItemDelta",
    "ItemEnd",
    "ItemStart",
    "ServerConfig",
    "ServerEvent",
    "ServerState",
    "ToolAnswer",
    "collect",
    "create_app",
    "generate",
    "open_generation",
    "running",
    "serve",
]
