"""MCP benchmark: per-call overhead through ``ha.MCPServer`` (stdio and streamable HTTP)
against calling the same function as an in-process function tool.

    .venv/bin/python tools/bench_mcp.py

The server is written with the SDK in this file and runs as a subprocess (stdio, or
uvicorn on 127.0.0.1 for HTTP), so the figures include the SDK's JSON-RPC, the pipe
or the HTTP round trip, and our conversion of the result to a tool message.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _benchutil import amedian_seconds, us  # noqa: E402

import harmony_agent as ha  # noqa: E402
from harmony_agent.tools import ToolCall  # noqa: E402

CALLS = 300


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def serve(http_port: int | None) -> None:
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("bench", log_level="ERROR")
    app.tool()(add)
    if http_port is None:
        app.run()
    else:
        app.run("streamable-http", host="127.0.0.1", port=http_port)


async def per_call(tool: ha.Tool, recipient: str) -> float:
    """Median seconds of one call through the tool's run session (after a warm-up)."""
    call = ToolCall(recipient, '{"a": 2, "b": 3}', "json")
    async with tool.session() as run:
        (reply,) = await run.call(call)
        assert reply.text == "5", reply.text
        return await amedian_seconds(lambda: run.call(call), calls=CALLS)


async def bare_sdk_per_call() -> float:
    """The SDK's own ClientSession.call_tool over stdio: the floor under MCPServer."""
    import mcp
    from mcp.client.stdio import StdioServerParameters, stdio_client

    params = StdioServerParameters(command=sys.executable, args=[__file__, "--serve"])
    async with stdio_client(params) as (read, write), mcp.ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        return await amedian_seconds(
            lambda: session.call_tool("add", {"a": 2, "b": 3}), calls=CALLS
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the benchmark's MCP server did not start") from None
            time.sleep(0.1)


async def measure(port: int) -> dict[str, float]:
    """Seconds per call of each way to reach ``add``."""
    out = {"local": await per_call(ha.FunctionTool(add), "functions.add")}
    out["bare"] = await bare_sdk_per_call()
    stdio = ha.MCPServer([sys.executable, __file__, "--serve"], namespace="bench")
    out["stdio"] = await per_call(stdio, "bench.add")
    url = f"http://127.0.0.1:{port}/mcp"
    out["http"] = await per_call(ha.MCPServer(url=url, namespace="bench"), "bench.add")
    async with ha.MCPServer(url=url, namespace="bench", shared=True) as shared:
        out["shared"] = await per_call(shared, "bench.add")
    return out


def main() -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, __file__, "--serve-http", str(port)])
    try:
        wait_port(port, proc)
        got = asyncio.run(measure(port))
    finally:
        proc.terminate()
        proc.wait(10)
    local = got["local"]
    print(f"  function tool, in process          {us(local)} per call")
    print(f"  the SDK's ClientSession, stdio     {us(got['bare'])} per call  (the floor for MCP)")
    for name, key in (
        ("MCPServer over stdio", "stdio"),
        ("MCPServer over HTTP", "http"),
        ("MCPServer over HTTP, shared", "shared"),
    ):
        value = got[key]
        print(f"  {name:<34} {us(value)} per call  (+{us(value - local).strip()} overhead)")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve(None)
    elif sys.argv[1:2] == ["--serve-http"]:
        serve(int(sys.argv[2]))
    else:
        main()
