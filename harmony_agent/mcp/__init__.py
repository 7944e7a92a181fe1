"""MCP both ways: any MCP server's tools for gpt-oss (:class:`MCPServer`), and our
python and browser tools as MCP servers (``harmony-agent mcp serve``).

Needs the ``mcp`` SDK: ``pip install 'harmony_agent[mcp]'``.
"""

from __future__ import annotations

from harmony_agent.mcp._client import MCPServer

__all__ = ["MCPServer"]
