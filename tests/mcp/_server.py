"""A small MCP server written with the SDK's own server API, for the MCP tests.

Run as a script it serves stdio; ``app`` is also served over HTTP by the tests.
"""

from __future__ import annotations

import asyncio
import os

from mcp.server.mcpserver import Context, MCPServer

app = MCPServer(
    "Demo Server", instructions="Arithmetic and odd behaviour, for tests.", log_level="CRITICAL"
)
counter = {"n": 0}
#: The pipe the client reads (the SDK moves it off fd 1 while it serves, so a stray
#: print cannot corrupt it; the garbage tool writes to it on purpose).
wire = {"inode": -1}


@app.tool()
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@app.tool(name="text.reverse/v1")
def reverse(text: str) -> str:
    """Reverse a string."""
    return text[::-1]


@app.tool()
def boom() -> str:
    """Always fails."""
    raise ValueError("a secret the model never sees")


@app.tool()
def count() -> int:
    """Count calls within this server process."""
    counter["n"] += 1
    return counter["n"]


@app.tool()
def pid() -> int:
    """The server's process id."""
    return os.getpid()


@app.tool()
async def grow(ctx: Context) -> str:  # type: ignore[type-arg]
    """Add a tool named extra and tell the client."""

    def extra() -> str:
        """Appears later."""
        return "extra!"

    app.add_tool(extra)
    await ctx.session.send_tool_list_changed()
    return "grown"


@app.tool()
async def hang() -> str:
    """Never answers."""
    await asyncio.sleep(3600)
    return "late"


@app.tool()
async def garbage() -> str:
    """Write a line that is not JSON-RPC to stdout, then never answer."""
    for fd in range(3, 256):
        try:
            if os.fstat(fd).st_ino == wire["inode"]:
                os.write(fd, b"this is not json\n")
        except OSError:
            pass
    await asyncio.sleep(3600)
    return "late"


@app.tool()
def die() -> str:
    """Exit the server process at once."""
    os._exit(3)


if __name__ == "__main__":
    wire["inode"] = os.fstat(1).st_ino
    app.run()
