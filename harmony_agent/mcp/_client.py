"""``ha.MCPServer``: the tools of any MCP server as one harmony namespace.

The server is reached over stdio (a subprocess started for each run and stopped when
it ends) or streamable HTTP. Its tools are listed once when the agent is built (the
prompt declares them), then again at the start of every run and whenever the server
says its list changed. Calls are forwarded through the official SDK's
``ClientSession``; whatever goes wrong on the way (the server dies, hangs, sends
garbage, answers with an error) comes back to the model as an error answer.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any, TextIO

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Message, ToolNamespace
from harmony_agent.mcp._convert import namespace_name, result_text, tool_specs
from harmony_agent.mcp._loop import BackgroundLoop
from harmony_agent.mcp._sdk import require
from harmony_agent.tools._base import Tool, ToolCall

__all__ = ["MCPServer"]

logger = logging.getLogger(__name__)
_BACKGROUND = BackgroundLoop("harmony-agent-mcp")


class MCPServer(Tool):
    """Every tool of an MCP server, declared as one namespace in the developer message.

    Args:
        command: the server's launch command for stdio (``["npx", "-y", "pkg", ...]``);
            the process is started for each run and stopped when the run ends.
        url: the server's streamable HTTP endpoint instead (``http://host:port/mcp``).
        namespace: the namespace the model calls (default: the server's name, made a
            valid identifier, e.g. ``"demo_server"``).
        description: the namespace's description (default: the server's instructions).
        env: extra environment variables for the subprocess.
        cwd: the subprocess's working directory.
        shared: keep one connection for every run (for a stateless server, or state
            you want shared); it is closed by :meth:`close`. Default: one per run.
        timeout: seconds one call may take before it is answered with an error.
        connect_timeout: seconds to start the server, connect and list its tools.
        stderr: where the subprocess's stderr goes (default: this process's stderr).

    Raises:
        ToolError: neither or both of ``command`` and ``url``; the ``mcp`` package is
            missing (install ``harmony_agent[mcp]``); when the agent is built, the
            server cannot be reached to list its tools.
    """

    def __init__(
        self,
        command: Sequence[str] | None = None,
        url: str | None = None,
        namespace: str | None = None,
        *,
        description: str | None = None,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        shared: bool = False,
        timeout: float = 60.0,
        connect_timeout: float = 30.0,
        stderr: TextIO | None = None,
    ) -> None:
        if (command is None) == (url is None):
            raise ToolError("MCPServer needs exactly one of command=[...] (stdio) or url=...")
        if command is not None:
            if isinstance(command, str) or not command or not all(command):
                raise ToolError(f"command must be a non-empty list of strings, got {command!r}")
            command = [str(part) for part in command]
        require()
        self.command = None if command is None else tuple(command)
        self.url = url
        self.env = dict(env or {})
        self.cwd = None if cwd is None else os.fspath(cwd)
        self.shared = shared
        self.call_timeout = float(timeout)
        self.connect_timeout = float(connect_timeout)
        self.timeout = self.call_timeout + 5.0  # the agent's limit: just above ours
        self.stderr = stderr
        self._name = namespace
        self._description = description
        self._namespace: ToolNamespace | None = None
        self._shared: _Shared | None = None
        self._closed = False

    # -- Tool -----------------------------------------------------------------------------
    @property
    def namespace(self) -> ToolNamespace:
        """The server's tools as a namespace (listed from the server on first use)."""
        if self._namespace is None:
            job = self._shared_link() if self.shared else self._discover()
            try:
                _BACKGROUND.run(job, self.connect_timeout + 5)
            except Exception as exc:
                raise ToolError(
                    f"cannot list the tools of the MCP server {self!r}: {_describe(exc)}"
                ) from None
        assert self._namespace is not None
        return self._namespace

    def session(self) -> AbstractAsyncContextManager[Tool]:
        """A connection for one run (or the shared one), closed when the run ends."""
        return self._session()

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Outside a run: one connection for this call alone (``shared``: the shared one)."""
        async with self._session() as run:
            return await run.call(call)

    def __repr__(self) -> str:
        where = " ".join(self.command) if self.command else self.url
        return f"MCPServer({where!r}, namespace={self._name or '?'})"

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the shared connection (and stop its subprocess), if there is one."""
        self._closed = True
        shared, self._shared = self._shared, None
        if shared is not None:
            _BACKGROUND.run(shared.close(), 30)

    async def aclose(self) -> None:
        """:meth:`close` from async code."""
        self._closed = True
        shared, self._shared = self._shared, None
        if shared is not None:
            await _BACKGROUND.arun(shared.close())

    def __enter__(self) -> MCPServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> MCPServer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- connections ----------------------------------------------------------------------
    @asynccontextmanager
    async def _session(self) -> AsyncIterator[Tool]:
        if self.shared:
            link = await _BACKGROUND.arun(self._shared_link())
            yield _Run(self, link, background=True)
            return
        async with AsyncExitStack() as stack:
            try:
                # Entered in this task (anyio's scopes must be left by the task that
                # entered them); initialize and list are bounded by connect_timeout.
                link = await stack.enter_async_context(self.connect())
                await asyncio.wait_for(link.refresh(), self.connect_timeout)
            except Exception as exc:
                logger.warning("MCP server %r could not be reached: %s", self, exc)
                yield _Broken(self, f"the MCP server could not be reached ({_describe(exc)})")
                return
            yield _Run(self, link, background=False)

    async def _discover(self) -> None:
        async with self.connect() as link:
            await asyncio.wait_for(link.refresh(), self.connect_timeout)

    async def _shared_link(self) -> _Link:
        if self._closed:
            raise ToolError(f"{self!r} is closed")
        if self._shared is None or self._shared.broken:
            shared = _Shared(self)
            await asyncio.wait_for(shared.ready.wait(), self.connect_timeout)
            if shared.error is not None:
                raise ToolError(f"cannot reach the MCP server {self!r}: {shared.error}")
            self._shared = shared
        assert self._shared.link is not None
        return self._shared.link

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[_Link]:
        """An initialized connection to the server (raises what the SDK raises)."""
        mcp = require()
        link = _Link(self)
        async with AsyncExitStack() as stack:
            if self.command is not None:
                stdio = require("mcp.client.stdio")
                params = stdio.StdioServerParameters(
                    command=self.command[0],
                    args=list(self.command[1:]),
                    env=self.env or None,
                    cwd=self.cwd,
                )
                errlog = self.stderr if self.stderr is not None else sys.stderr
                streams = await stack.enter_async_context(stdio.stdio_client(params, errlog))
            else:
                http = require("mcp.client.streamable_http")
                streams = await stack.enter_async_context(http.streamable_http_client(self.url))
            session = await stack.enter_async_context(
                mcp.ClientSession(streams[0], streams[1], message_handler=link.on_message)
            )
            init = await asyncio.wait_for(session.initialize(), self.connect_timeout)
            link.session, link.server_name = session, init.server_info.name
            link.instructions = init.instructions
            yield link

    def _declare(self, link: _Link, tools: Sequence[Any]) -> dict[str, str]:
        specs, routes = tool_specs(tools)
        if self._name is None:
            self._name = namespace_name(link.server_name)
        description = self._description or link.instructions
        if not description:
            description = f"Tools of the MCP server {link.server_name!r}."
        self._namespace = ToolNamespace(name=self._name, description=description, tools=specs)
        return routes


def _describe(exc: BaseException) -> str:
    inner = getattr(exc, "exceptions", None)  # an exception group (anyio task groups)
    if isinstance(inner, tuple) and inner:
        return _describe(inner[0])
    if isinstance(exc, TimeoutError):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class _Link:
    """One live ClientSession and what we know of it (routes, a pending refresh, garbage)."""

    def __init__(self, owner: MCPServer) -> None:
        self.owner = owner
        self.session: Any = None
        self.server_name = ""
        self.instructions: str | None = None
        self.routes: dict[str, str] = {}
        self.stale = True
        self.garbage: list[str] = []

    async def on_message(self, message: Any) -> None:
        if isinstance(message, Exception):
            self.garbage.append(str(message)[:200])
            logger.warning("MCP server %r sent an unreadable message: %s", self.owner, message)
            return
        if getattr(message, "method", None) == "notifications/tools/list_changed":
            self.stale = True

    async def refresh(self) -> None:
        tools: list[Any] = []
        cursor = None
        while True:
            params = None
            if cursor is not None:
                params = require("mcp.types").PaginatedRequestParams(cursor=cursor)
            page = await self.session.list_tools(params=params)
            tools.extend(page.tools)
            cursor = page.next_cursor
            if not cursor:
                break
        self.stale = False
        self.routes = self.owner._declare(self, tools)

    async def call(self, name: str, arguments: dict[str, Any], timeout: float) -> Any:
        return await self.session.call_tool(name, arguments, read_timeout_seconds=timeout)


class _Shared:
    """A connection held open by a task of the background loop until closed."""

    def __init__(self, owner: MCPServer) -> None:
        self.owner = owner
        self.link: _Link | None = None
        self.error: str | None = None
        self.broken = False
        self.ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._hold())

    async def _hold(self) -> None:
        try:
            async with self.owner.connect() as link:
                await link.refresh()
                self.link = link
                self.ready.set()
                await self._stop.wait()
        except Exception as exc:
            self.error = _describe(exc)
            logger.warning("shared MCP connection %r ended: %s", self.owner, self.error)
        finally:
            self.broken = True
            self.ready.set()

    async def close(self) -> None:
        self._stop.set()
        await self._task


class _Run(Tool):
    """The server as one run sees it: a connection, its routes, calls forwarded."""

    def __init__(self, owner: MCPServer, link: _Link, *, background: bool) -> None:
        self.owner, self.link, self.background = owner, link, background
        self.timeout = owner.timeout

    @property
    def namespace(self) -> ToolNamespace:
        return self.owner.namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        arguments = _arguments(call)
        if self.background:
            result = await _BACKGROUND.arun(self._forward(call, arguments))
        else:
            result = await self._forward(call, arguments)
        text = result_text(result)
        if result.is_error:
            raise ToolError(text or f"{call.recipient} failed (the server gave no detail)")
        return [call.reply(text)]

    async def _forward(self, call: ToolCall, arguments: dict[str, Any]) -> Any:
        link, seen = self.link, len(self.link.garbage)
        try:
            if link.stale:
                await asyncio.wait_for(link.refresh(), self.owner.call_timeout)
            name = link.routes.get(call.name) or link.routes.get(call.recipient)
            if name is None:
                offered = ", ".join(f"{self.namespace.name}.{n}" for n in link.routes) or "none"
                raise ToolError(
                    f"the MCP server has no tool {call.recipient!r}; it offers: {offered}"
                )
            return await link.call(name, arguments, self.owner.call_timeout)
        except ToolError:
            raise
        except Exception as exc:
            detail = _describe(exc)
            if len(link.garbage) > seen:
                detail += f"; the server sent unreadable output: {link.garbage[-1]!r}"
            raise ToolError(f"{call.recipient}: the MCP server failed ({detail})") from None


class _Broken(Tool):
    """A run whose server could not be reached: every call is answered with the reason."""

    def __init__(self, owner: MCPServer, reason: str) -> None:
        self.owner, self.reason = owner, reason

    @property
    def namespace(self) -> ToolNamespace:
        return self.owner.namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        raise ToolError(f"{call.recipient}: {self.reason}")


def _arguments(call: ToolCall) -> dict[str, Any]:
    text = call.arguments.strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ToolError(
            f"arguments for {call.recipient} are not valid JSON ({exc}). "
            "Send a single JSON object with the parameters and call again."
        ) from None
    if not isinstance(value, dict):
        raise ToolError(
            f"arguments for {call.recipient} must be a JSON object of named parameters, "
            f"got {type(value).__name__}. Fix the arguments and call again."
        )
    return value
