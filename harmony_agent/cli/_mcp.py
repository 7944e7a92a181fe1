"""``harmony-agent mcp serve python|browser``: our tools as MCP servers."""

from __future__ import annotations

import argparse

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import UsageError

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "serve the sandboxed python tool or the browser to any MCP client"
DESCRIPTION = """\
Expose harmony_agent's tools as Model Context Protocol servers, so any MCP client
(an IDE, another agent framework) can use them: `python` runs code in a sandboxed
Jupyter kernel (bubblewrap), `browser` searches, opens and finds in pages with
gpt-oss's page format. Each MCP session gets its own kernel or page stack.

stdio is the default transport (the client starts this command); --http PORT serves
streamable HTTP at http://HOST:PORT/mcp instead. Needs harmony_agent[mcp]."""
EPILOG = """\
examples:
  harmony-agent mcp serve python
  harmony-agent mcp serve browser --http 8765
  harmony-agent mcp serve python --timeout 30 --workdir ./data

a client's configuration (Claude Desktop, Cursor, ...):
  {"mcpServers": {"python": {"command": "harmony-agent", "args": ["mcp", "serve", "python"]}}}"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``mcp``'s arguments."""
    sub = parser.add_subparsers(dest="mcp_command", metavar="ACTION", required=True)
    serve = sub.add_parser(
        "serve",
        help="serve a tool over MCP",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=parser.formatter_class,
    )
    serve.add_argument("tool", choices=["python", "browser"], help="the tool to serve")
    serve.add_argument(
        "--http", type=int, metavar="PORT", help="serve streamable HTTP on PORT (default: stdio)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="address to listen on with --http (127.0.0.1)"
    )
    serve.add_argument("--timeout", type=float, help="seconds per call (python 120, browser 30)")
    serve.add_argument(
        "--sandbox",
        choices=["auto", "bwrap", "none"],
        default="auto",
        help="python: the sandbox (none runs code unsandboxed, as this user)",
    )
    serve.add_argument("--workdir", help="python: the directory seen as /mnt/data")
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="browser: a private or loopback host it may open (repeatable)",
    )


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``mcp serve``."""
    from harmony_agent.mcp._serve import serve
    from harmony_agent.tools._base import Tool

    if args.http is not None and not 0 < args.http < 65536:
        raise UsageError(f"--http takes a port number (1-65535), got {args.http}")
    tool: Tool
    if args.tool == "python":
        from harmony_agent.tools import PythonTool

        tool = PythonTool(
            timeout=args.timeout or 120.0,
            sandbox=args.sandbox,
            workdir=args.workdir,
            pool_size=0 if args.http is None else 1,
        )
    else:
        from harmony_agent.browser import BrowserTool

        tool = BrowserTool(allowed_hosts=args.allow_host or None, timeout=args.timeout or 30.0)
    try:
        serve(tool, name=f"harmony-agent-{args.tool}", http_port=args.http, host=args.host)
    finally:
        close = getattr(tool, "close", None)
        if close is not None:
            close()
    return 0
