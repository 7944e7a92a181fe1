"""The MCP server side in process: one run of a tool per MCP session, closed at the end."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

import harmony_agent as ha
from harmony_agent.mcp._serve import SessionTools, build_server
from tests.mcp.conftest import serve_in_thread
from tests.mcp.test_serve import http_session, text

pytest.importorskip("mcp")


class Counter(ha.Tool):
    """Counts calls per run; remembers how many runs were opened and closed."""

    namespace = ha.ToolNamespace(
        name="counter",
        description="Counts.",
        tools=(ha.ToolSpec(name="bump", description="Add one."), ha.ToolSpec(name="fail")),
    )

    def __init__(self) -> None:
        self.opened = self.closed = 0

    def session(self) -> AbstractAsyncContextManager[ha.Tool]:
        return self._run()

    @asynccontextmanager
    async def _run(self) -> AsyncIterator[ha.Tool]:
        self.opened += 1
        try:
            yield _CounterRun()
        finally:
            self.closed += 1

    async def call(self, call: ha.ToolCall) -> Sequence[ha.Message]:
        raise AssertionError("calls go to a session's run")


class _CounterRun(ha.Tool):
    namespace = Counter.namespace

    def __init__(self) -> None:
        self.n = 0

    async def call(self, call: ha.ToolCall) -> Sequence[ha.Message]:
        if call.name == "fail":
            raise RuntimeError("broken on purpose")
        self.n += 1
        return [call.reply(str(self.n))]


async def test_each_http_session_has_its_own_run() -> None:
    tool = Counter()
    server, sessions = build_server(tool, name="counter")
    for port in serve_in_thread(server.streamable_http_app()):
        url = f"http://127.0.0.1:{port}/mcp"
        async with http_session(url) as first, http_session(url) as second:
            listed = (await first.list_tools()).tools
            assert [(t.name, t.description) for t in listed] == [("bump", "Add one."), ("fail", "")]
            assert [text(await first.call_tool("bump", {})) for _ in range(2)] == ["1", "2"]
            assert text(await second.call_tool("bump", {})) == "1"
            failed = await first.call_tool("fail", {})
            assert failed.is_error and text(failed) == "RuntimeError: broken on purpose"
            unknown = await first.call_tool("nope", {})
            assert unknown.is_error
        assert (tool.opened, len(sessions)) == (2, 2)
    await sessions.aclose()
    assert tool.closed == 2 and len(sessions) == 0


async def test_the_least_recently_used_session_is_closed_past_the_limit() -> None:
    tool = Counter()
    sessions = SessionTools(tool, limit=2)
    bump = ha.ToolCall("counter.bump", "{}")
    for key in ("a", "b", "a", "c"):  # c pushes out b, the least recently used
        await sessions.call(key, bump)
    assert (tool.opened, tool.closed, len(sessions)) == (3, 1, 2)
    assert [m.text for m in await sessions.call("a", bump)] == ["3"]
    assert [m.text for m in await sessions.call(None, bump)] == ["1"]  # no session: one call
    await sessions.aclose()
    assert tool.closed == tool.opened == 4
