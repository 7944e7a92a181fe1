"""ha.MCPServer against real MCP servers (stdio subprocesses and HTTP), through ha.Agent."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted
from harmony_agent.mcp._sdk import require
from harmony_agent.tools import ToolCall

FINAL = "<|channel|>final<|message|>Done.<|return|>"


def call(recipient: str, arguments: object = None) -> str:
    body = "" if arguments is None else json.dumps(arguments)
    return f"<|channel|>commentary to={recipient} <|constrain|>json<|message|>{body}<|call|>"


def answers(result: ha.RunResult) -> list[str]:
    return [m.text for m in result.messages if m.role is ha.Role.TOOL]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


async def test_stdio_server_through_the_agent(
    server_command: list[str], encoding: ha.Encoding
) -> None:
    server = ha.MCPServer(server_command)
    backend = Scripted(
        [
            call("demo_server.add", {"a": 2, "b": 40}),
            call("demo_server.text_reverse_v1", {"text": "abc"}),
            call("demo_server.boom"),
            call("demo_server.add", {"a": "x"}),
            call("demo_server.nope"),
            "<|channel|>commentary to=demo_server.add <|constrain|>json<|message|>{oops<|call|>",
            call("demo_server.count"),
            call("demo_server.count"),
            call("demo_server.pid"),
            FINAL,
            call("demo_server.count"),  # the second run
            FINAL,
        ]
    )
    agent = ha.Agent(backend, tools=[server])
    developer = agent.developer_message
    assert developer is not None and isinstance(developer.content, ha.DeveloperContent)
    (ns,) = developer.content.tools
    assert ns.name == "demo_server"
    assert ns.description == "Arithmetic and odd behaviour, for tests."
    names = [t.name for t in ns.tools]
    assert names[:3] == ["add", "text_reverse_v1", "boom"]
    result = await agent.arun("go")
    prompt = encoding.decode(backend.prompts[0])
    assert "## demo_server" in prompt
    assert "type add = (_: {\na: number,\nb: number,\n}) => any;" in prompt
    assert "(MCP name: text.reverse/v1)" in prompt
    got = answers(result)
    assert got[0] == "42"
    assert got[1] == "cba"
    assert got[2] == "Error: Error executing tool boom"
    assert got[3].startswith("Error: Error executing tool add:") and "valid integer" in got[3]
    assert "no tool is called 'demo_server.nope'" in got[4]  # the agent's own answer
    assert "not valid JSON" in got[5]
    assert got[6:8] == ["1", "2"]  # state kept within the run's connection
    assert result.final_text == "Done."
    pid = int(got[8])
    assert not alive(pid), "the server process outlived the run"
    again = await agent.arun("go")  # a fresh server process: its state starts over
    assert answers(again) == ["1"]


async def test_dead_hung_and_garbage_servers_become_error_answers(
    server_command: list[str],
) -> None:
    server = ha.MCPServer(server_command, namespace="demo", timeout=1.5)
    backend = Scripted(
        [
            call("demo.hang"),
            call("demo.garbage"),
            call("demo.add", {"a": 1, "b": 1}),  # still served after a hang
            call("demo.die"),
            call("demo.add", {"a": 1, "b": 1}),
            FINAL,
        ]
    )
    result = await ha.Agent(backend, tools=[server]).arun("go")
    got = answers(result)
    assert got[0].startswith("Error: demo.hang: the MCP server failed")
    assert "unreadable output" in got[1]
    assert got[2] == "2"
    assert got[3].startswith("Error: demo.die: the MCP server failed")
    assert got[4].startswith("Error: demo.add: the MCP server failed")
    assert result.final_text == "Done."
    # listed earlier, but the server cannot be started for this run: errors, run goes on
    server.command = ("/nonexistent/mcp-server",)
    agent = ha.Agent(Scripted([call("demo.add", {"a": 1, "b": 1}), FINAL]), tools=[server])
    result = await agent.arun("go")
    (answer,) = answers(result)
    assert answer.startswith("Error: demo.add: the MCP server could not be reached")
    assert result.final_text == "Done."


def test_a_server_that_cannot_start_is_a_clear_error() -> None:
    with pytest.raises(ha.ToolError, match="cannot list the tools of the MCP server"):
        ha.MCPServer(["/nonexistent/mcp-server"], namespace="x").namespace  # noqa: B018


async def test_tool_list_changes_are_picked_up(server_command: list[str]) -> None:
    server = ha.MCPServer(server_command, namespace="demo")
    async with server.session() as run:
        assert "extra" not in [t.name for t in server.namespace.tools]
        (reply,) = await run.call(ToolCall("demo.grow", "{}"))
        assert reply.text == "grown"
        (reply,) = await run.call(ToolCall("demo.extra", "{}"))
        assert reply.text == "extra!"
    assert "extra" in [t.name for t in server.namespace.tools]


async def test_http_server_through_the_agent(http_url: str) -> None:
    server = ha.MCPServer(url=http_url)
    backend = Scripted([call("demo_server.add", {"a": 1, "b": 2}), call("demo_server.boom"), FINAL])
    result = await ha.Agent(backend, tools=[server]).arun("go")
    assert answers(result) == ["3", "Error: Error executing tool boom"]


async def test_shared_connection_keeps_state_across_runs(http_url: str) -> None:
    async with ha.MCPServer(url=http_url, namespace="demo", shared=True) as server:
        agent = ha.Agent(Scripted([call("demo.count"), FINAL] * 2), tools=[server])
        first, second = await agent.arun("go"), await agent.arun("go")
        assert int(answers(second)[0]) == int(answers(first)[0]) + 1


async def test_a_shared_stdio_server_lives_until_closed(server_command: list[str]) -> None:
    server = ha.MCPServer(server_command, namespace="demo", shared=True)
    script = [call("demo.pid"), FINAL, call("demo.count"), FINAL, call("demo.count"), FINAL]
    agent = ha.Agent(Scripted(script), tools=[server])  # lists through the shared connection
    pid = int(answers(await agent.arun("go"))[0])
    assert answers(await agent.arun("go")) == ["1"]
    assert answers(await agent.arun("go")) == ["2"]  # one server process for every run
    assert alive(pid)
    await server.aclose()
    assert not alive(pid)
    with pytest.raises(ha.ToolError, match="is closed"):
        await server.call(ToolCall("demo.count", "{}"))


def test_bad_configuration_is_refused() -> None:
    with pytest.raises(ha.ToolError, match="exactly one of"):
        ha.MCPServer()
    with pytest.raises(ha.ToolError, match="exactly one of"):
        ha.MCPServer(["x"], url="http://127.0.0.1:1/mcp")
    with pytest.raises(ha.ToolError, match="non-empty list"):
        ha.MCPServer("python server.py")  # type: ignore[arg-type]


def test_a_missing_sdk_names_the_extra() -> None:
    with pytest.raises(ha.ToolError, match=r"harmony_agent\[mcp\]"):
        require("mcp.no_such_module_here")


def test_unreachable_http_server_is_a_clear_error() -> None:
    from tests.mcp.conftest import free_port

    server = ha.MCPServer(url=f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=5)
    with pytest.raises(ha.ToolError, match="cannot list the tools of the MCP server"):
        server.namespace  # noqa: B018
