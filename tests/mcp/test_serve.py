"""``harmony-agent mcp serve``: our tools as MCP servers, driven by the SDK's own client."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from harmony_agent.testing.fake_web import Route, WebServer
from tests.mcp.conftest import free_port
from tests.tools.conftest import requires_sandbox

mcp = pytest.importorskip("mcp")
from mcp.client.stdio import StdioServerParameters, stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

SERVE = [sys.executable, "-m", "harmony_agent.cli", "mcp", "serve"]
PAGE = (
    b"<html><head><title>Moons</title></head><body><p>Io orbits Jupiter.</p>"
    + (b"<p>Filler text about other things.</p>" * 20)
    + b"<p>Europa has an ocean.</p></body></html>"
)


@asynccontextmanager
async def stdio_session(*args: str) -> AsyncIterator[Any]:
    params = StdioServerParameters(command=SERVE[0], args=[*SERVE[1:], *args])
    async with stdio_client(params) as (read, write), mcp.ClientSession(read, write) as session:
        await session.initialize()
        yield session


@asynccontextmanager
async def http_session(url: str) -> AsyncIterator[Any]:
    async with (
        streamable_http_client(url) as (read, write),
        mcp.ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def exists(path: str) -> bool:
    return os.path.exists(path)


def text(result: Any) -> str:
    return "\n".join(block.text for block in result.content)


@pytest.fixture(scope="module")
def web() -> Iterator[WebServer]:
    with WebServer({"/moons.html": Route(PAGE, "text/html")}) as server:
        yield server


@pytest.fixture(scope="module")
def browser_url() -> Iterator[str]:
    """``mcp serve browser --http PORT`` in a subprocess, loopback pages allowed."""
    port = free_port()
    proc = subprocess.Popen(
        [*SERVE, "browser", "--http", str(port), "--allow-host", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                import socket

                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("mcp serve browser did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(15)


@requires_sandbox
async def test_python_over_stdio_keeps_state_and_the_sandbox_holds() -> None:
    async with stdio_session("python", "--timeout", "20") as session:
        (tool,) = (await session.list_tools()).tools
        assert tool.name == "python" and tool.input_schema["required"] == ["code"]
        assert "stateful Jupyter" in (tool.description or "")
        assert "no output" in text(await session.call_tool("python", {"code": "x = 41"}))
        assert text(await session.call_tool("python", {"code": "print(x + 1)"})) == "42"
        probe = (
            "import os\n"
            "try:\n"
            "    open('/etc/mcp_probe', 'w').write('x')\n"
            "    print('wrote')\n"
            "except OSError as e:\n"
            "    print('refused', e.errno)\n"
            "print(open('/mnt/data/f.txt', 'w').write('ok'))"
        )
        assert text(await session.call_tool("python", {"code": probe})) == "refused 30\n2"
        assert not exists("/etc/mcp_probe")
        bad = await session.call_tool("python", {"source": "1"})
        assert bad.is_error and "'code'" in text(bad)
    async with stdio_session("python", "--timeout", "20") as session:  # a new kernel
        result = await session.call_tool("python", {"code": "print(x)"})
        assert "NameError" in text(result)


async def test_browser_over_http_one_page_stack_per_session(
    browser_url: str, web: WebServer
) -> None:
    async with http_session(browser_url) as first, http_session(browser_url) as second:
        names = [t.name for t in (await first.list_tools()).tools]
        assert names == ["search", "open", "find"]
        opened = text(await first.call_tool("open", {"id": web.url("/moons.html")}))
        assert "Io orbits Jupiter." in opened and opened.startswith("[0]")
        found = text(await first.call_tool("find", {"pattern": "Europa"}))
        assert "Europa has an ocean." in found
        # the second session has no page open: its stack is its own
        other = await second.call_tool("find", {"pattern": "Europa"})
        assert "Europa has an ocean." not in text(other)
        refused = text(await second.call_tool("open", {"id": "http://10.0.0.1/"}))
        assert "10.0.0.1" in refused


def test_mcp_serve_rejects_a_bad_port() -> None:
    out = subprocess.run(
        [*SERVE, "browser", "--http", "0"], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 2 and "--http takes a port number" in out.stderr
