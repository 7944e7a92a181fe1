"""An agent using an MCP server's tools, run on a scripted model so it needs no GPU.

By default the MCP server is a small one written with the SDK in this file (started
over stdio as a subprocess), so the example runs offline. With
``HARMONY_AGENT_MCP_PUBLIC=1`` it launches the public filesystem server instead,
exactly as any MCP client would::

    python examples/mcp_tools.py
    HARMONY_AGENT_MCP_PUBLIC=1 python examples/mcp_tools.py   # needs npx and the network

Either way the server's tools become one harmony namespace (``filesystem``) declared
in the developer message, and the model's calls are forwarded to the server. Swap in
a real backend (``ha.backends.VLLM("http://localhost:8000")``) to run the model.
Needs ``pip install 'harmony_agent[mcp]'``.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import harmony_agent as ha
from harmony_agent.backends import Scripted


def local_server() -> None:
    """A stand-in for the public server: the one tool this example calls, same name."""
    from mcp.server.mcpserver import MCPServer

    app = MCPServer("local-filesystem", log_level="ERROR")

    @app.tool()
    def list_directory(path: str) -> str:
        """List the files and directories in a directory, marked [FILE] or [DIR]."""
        entries = sorted(Path(path).iterdir())
        return "\n".join(f"[{'DIR' if e.is_dir() else 'FILE'}] {e.name}" for e in entries)

    app.run()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="mcp-example-") as tmp:
        run(Path(tmp))


def run(folder: Path) -> None:
    """Ask the agent what ``folder`` holds."""
    (folder / "notes.txt").write_text("buy milk\n")
    (folder / "photos").mkdir()
    folder = folder.resolve()
    if os.environ.get("HARMONY_AGENT_MCP_PUBLIC") == "1":
        command = ["npx", "-y", "@modelcontextprotocol/server-filesystem", str(folder)]
    else:
        command = [sys.executable, __file__, "--serve"]
    arguments = json.dumps({"path": str(folder)})
    backend = Scripted(
        [
            "<|channel|>analysis<|message|>List the folder first.<|end|>"
            "<|start|>assistant<|channel|>commentary to=filesystem.list_directory "
            f"<|constrain|>json<|message|>{arguments}<|call|>",
            "<|channel|>final<|message|>The folder holds notes.txt and a photos folder.<|return|>",
        ]
    )
    server = ha.MCPServer(command, namespace="filesystem")
    agent = ha.Agent(backend, tools=[server], instructions="Answer about the user's files.")
    names = ", ".join(t.name for t in server.namespace.tools)
    print(f"== the MCP server's tools, declared as namespace 'filesystem': {names}")
    result = agent.run("What is in my folder?")
    for message in result.messages:
        if message.role is ha.Role.TOOL:
            print(f"== {message.name} answered:\n{message.text}")
    print(f"== final: {result.final_text}")


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        local_server()
    else:
        main()
