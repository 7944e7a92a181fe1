"""Our python and browser tools as MCP servers (``harmony-agent mcp serve python|browser``).

Built on the SDK's low-level ``Server`` so the tools keep the exact JSON Schemas the
model was trained on. Every MCP session gets its own run of the tool (its own kernel,
its own page stack), opened on the session's first call and closed when the session
is dropped (the least recently used past a limit) or the server stops.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Message
from harmony_agent.mcp._sdk import require
from harmony_agent.tools._base import Tool, ToolCall

__all__ = ["SessionTools", "build_server", "serve", "session_key"]

logger = logging.getLogger(__name__)

_PYTHON_SCHEMA = {
    "type": "object",
    "properties": {"code": {"type": "string", "description": "The Python source to run."}},
    "required": ["code"],
}


class SessionTools:
    """One run of ``tool`` per MCP session, the least recently used closed past ``limit``.

    A session is named by its transport: the ``Mcp-Session-Id`` header over HTTP (the
    SDK builds a new ``ServerSession`` object for every HTTP request, so that cannot
    name it), the one connection over stdio. A request without a session (stateless
    HTTP) gets a run of its own, closed after the call.
    """

    def __init__(self, tool: Tool, *, limit: int = 64) -> None:
        self.tool = tool
        self.limit = limit
        self._runs: OrderedDict[str, tuple[AsyncExitStack, Tool]] = OrderedDict()
        self._lock = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._runs)

    async def call(self, key: str | None, call: ToolCall) -> Sequence[Message]:
        """Answer ``call`` with the run of session ``key`` (started on its first call)."""
        if key is None:
            async with self.tool.session() as run:
                return await run.call(call)
        return await (await self._get(key)).call(call)

    async def _get(self, key: str) -> Tool:
        async with self._lock:
            entry = self._runs.get(key)
            if entry is None:
                stack = AsyncExitStack()
                run = await stack.enter_async_context(self.tool.session())
                entry = self._runs[key] = (stack, run)
                while len(self._runs) > self.limit:
                    _, (old, _) = self._runs.popitem(last=False)
                    await _close(old)
            self._runs.move_to_end(key)
            return entry[1]

    async def aclose(self) -> None:
        """Close every session's run."""
        runs, self._runs = list(self._runs.values()), OrderedDict()
        for stack, _ in runs:
            await _close(stack)


def session_key(ctx: Any) -> str | None:
    """The session a request belongs to: its ``Mcp-Session-Id``, or stdio's one session."""
    request = getattr(ctx, "request", None)
    if request is None:
        return "stdio"
    headers = getattr(request, "headers", None)
    value = None if headers is None else headers.get("mcp-session-id")
    return None if value is None else str(value)


async def _close(stack: AsyncExitStack) -> None:
    try:
        await stack.aclose()
    except Exception:  # a run that fails to close must not stop the others
        logger.exception("closing an MCP session's tool failed")


def _mcp_tools(tool: Tool) -> list[tuple[str, str, dict[str, Any]]]:
    """(MCP name, description, input schema) of each function of ``tool``'s namespace."""
    ns = tool.namespace
    if not ns.tools:  # python: one tool taking the code
        return [(ns.name, ns.description or "", _PYTHON_SCHEMA)]
    return [
        (
            spec.name,
            spec.description,
            spec.parameters or {"type": "object", "properties": {}},
        )
        for spec in ns.tools
    ]


def _call_of(tool: Tool, name: str, arguments: dict[str, Any]) -> ToolCall:
    ns = tool.namespace
    if not ns.tools:
        code = arguments.get("code")
        if not isinstance(code, str):
            raise ToolError("send the Python source to run as the string argument 'code'")
        return ToolCall(ns.name, code, "code", "analysis")
    if name not in {spec.name for spec in ns.tools}:
        raise ToolError(f"unknown tool {name!r}")
    return ToolCall(f"{ns.name}.{name}", json.dumps(arguments), "json", "analysis")


def build_server(tool: Tool, *, name: str) -> tuple[Any, SessionTools]:
    """A low-level MCP ``Server`` answering with ``tool``, and its per-session runs."""
    lowlevel = require("mcp.server.lowlevel")
    types = require("mcp.types")
    listed = [types.Tool(name=n, description=d, input_schema=s) for n, d, s in _mcp_tools(tool)]
    sessions = SessionTools(tool)

    async def on_list_tools(ctx: Any, params: Any) -> Any:
        return types.ListToolsResult(tools=listed)

    async def on_call_tool(ctx: Any, params: Any) -> Any:
        try:
            call = _call_of(tool, params.name, dict(params.arguments or {}))
            replies = await sessions.call(session_key(ctx), call)
        except ToolError as exc:
            return _answer(types, str(exc), error=True)
        except Exception as exc:
            return _answer(types, f"{type(exc).__name__}: {exc}", error=True)
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=reply.text) for reply in replies]
        )

    server = lowlevel.Server(
        name,
        instructions=tool.namespace.description,
        on_list_tools=on_list_tools,
        on_call_tool=on_call_tool,
    )
    return server, sessions


def _answer(types: Any, text: str, *, error: bool) -> Any:
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=error)


def serve(tool: Tool, *, name: str, http_port: int | None = None, host: str = "127.0.0.1") -> None:
    """Serve ``tool`` over stdio (default) or streamable HTTP on ``host:http_port``."""
    server, sessions = build_server(tool, name=name)
    if http_port is None:
        asyncio.run(_stdio(server, sessions))
        return
    uvicorn = require("uvicorn")
    app = server.streamable_http_app(host=host)
    config = uvicorn.Config(app, host=host, port=http_port, log_level="warning")
    try:
        uvicorn.Server(config).run()
    finally:
        asyncio.run(sessions.aclose())


async def _stdio(server: Any, sessions: SessionTools) -> None:
    stdio = require("mcp.server.stdio")
    try:
        async with stdio.stdio_server() as (read, write):
            await server.run(read, write, server.create_initialization_options())
    finally:
        await sessions.aclose()
