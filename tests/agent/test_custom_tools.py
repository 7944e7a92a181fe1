"""The tool interface: user-written tools, namespaces, placement, per-run sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted
from harmony_agent.tools import ToolCall, error_text

FINAL = "<|channel|>final<|message|>Done.<|return|>"


class Shout(ha.Tool):
    """A whole tool in a few lines: a namespace and an async call."""

    namespace = ha.ToolNamespace(name="shout", description="Upper-cases what it is sent.")

    async def call(self, call: ha.ToolCall) -> list[ha.Message]:
        if not call.arguments:
            raise ha.ToolError("send some text")
        return [call.reply(call.arguments.upper())]


class Notebook(ha.Tool):
    """A built-in-style tool declared in the system message, with per-run state."""

    placement = "system"
    namespace = ha.ToolNamespace.python(timeout=30)

    def __init__(self) -> None:
        self.opened = 0
        self.closed = 0

    def session(self):  # type: ignore[no-untyped-def]
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[ha.Tool]:
        self.opened += 1
        run = _NotebookRun()
        try:
            yield run
        finally:
            self.closed += 1

    async def call(self, call: ha.ToolCall) -> list[ha.Message]:
        raise AssertionError("the agent calls the session's tool, never this one")


class _NotebookRun(ha.Tool):
    placement = "system"
    namespace = ha.ToolNamespace.python(timeout=30)

    def __init__(self) -> None:
        self.cells: list[str] = []

    async def call(self, call: ha.ToolCall) -> list[ha.Message]:
        self.cells.append(call.arguments)
        return [call.reply(f"cell {len(self.cells)}")]


def test_tool_call_parts() -> None:
    message = ha.Message.assistant(
        '{"q": 1}', channel="commentary", recipient="browser.search", content_type="json"
    )
    call = ToolCall.from_message(message)
    assert call == ToolCall("browser.search", '{"q": 1}', "json", "commentary")
    assert (call.namespace, call.name) == ("browser", "search")
    assert ToolCall("python", "1").name == ""
    reply = call.reply("results")
    assert reply == ha.Message.tool("browser.search", "results", "commentary")
    assert call.error("bad").text == "Error: bad"
    assert error_text("Error: already") == "Error: already"
    with pytest.raises(ha.ToolError, match="not a call"):
        ToolCall.from_message(ha.Message.assistant("hi"))


async def test_a_user_tool_is_declared_and_called(encoding: ha.Encoding) -> None:
    backend = Scripted(
        [
            "<|channel|>commentary to=shout<|message|>hello<|call|>",
            "<|channel|>commentary to=shout<|message|><|call|>",
            FINAL,
        ]
    )
    agent = ha.Agent(backend, tools=[Shout()])
    assert repr(Shout()) == "Shout(shout)"
    result = await agent.arun("go")
    answers = [m.text for m in result.messages if m.role is ha.Role.TOOL]
    assert answers == ["HELLO", "Error: send some text"]
    assert "## shout" in encoding.decode(backend.prompts[0])
    assert agent.developer_message is not None


async def test_system_placement_and_a_fresh_session_per_run(encoding: ha.Encoding) -> None:
    code = "<|channel|>analysis to=python code<|message|>1+1<|call|>"
    backend = Scripted([code, code, FINAL, code, FINAL])
    notebook = Notebook()
    agent = ha.Agent(backend, tools=[notebook])
    system = agent.system_message.content
    assert isinstance(system, ha.SystemContent)
    assert [ns.name for ns in system.tools] == ["python"]
    assert agent.developer_message is None
    first = await agent.arun("go")
    second = await agent.arun("go")
    assert [m.text for m in first.messages if m.role is ha.Role.TOOL] == ["cell 1", "cell 2"]
    assert [m.text for m in second.messages if m.role is ha.Role.TOOL] == ["cell 1"]
    assert (notebook.opened, notebook.closed) == (2, 2)
    # the answer goes to the channel the call came from
    assert first.messages[1].channel == "analysis"
    assert "## python" in encoding.decode(backend.prompts[0])


def test_function_tools_share_the_functions_namespace() -> None:
    def a() -> int:
        """First."""
        return 1

    @ha.tool(namespace="math")
    def b() -> int:
        """Second."""
        return 2

    def c() -> int:
        return 3

    agent = ha.Agent(Scripted([]), tools=[a, b, c], instructions="Use them.")
    assert agent.developer_message is not None
    developer = agent.developer_message.content
    assert isinstance(developer, ha.DeveloperContent)
    assert [(ns.name, [t.name for t in ns.tools]) for ns in developer.tools] == [
        ("functions", ["a", "c"]),
        ("math", ["b"]),
    ]


def test_two_tools_answering_one_name_are_refused() -> None:
    def a() -> None: ...

    with pytest.raises(ha.ToolError, match=r"two tools answer 'functions\.a'"):
        ha.Agent(Scripted([]), tools=[a, a])


def test_one_namespace_in_two_messages_is_refused() -> None:
    class SystemShout(Shout):
        placement = "system"
        namespace = ha.ToolNamespace(name="shout", tools=(ha.ToolSpec(name="loud"),))

    with pytest.raises(ha.ToolError, match="namespace 'shout' is declared in the developer"):
        ha.Agent(Scripted([]), tools=[Shout(), SystemShout()])


async def test_a_tool_may_answer_with_a_string() -> None:
    class Lazy(ha.Tool):
        namespace = ha.ToolNamespace(name="lazy")

        async def call(self, call: ha.ToolCall) -> str:  # type: ignore[override]
            return "fine"

    backend = Scripted(["<|channel|>commentary to=lazy<|message|>x<|call|>", FINAL])
    result = await ha.Agent(backend, tools=[Lazy()]).arun("go")
    assert result.messages[1] == ha.Message.tool("lazy", "fine")


class _Tally(ha.Tool):
    """A stateful tool: each run's session counts its own calls."""

    namespace = ha.ToolNamespace(name="tally", description="Counts the calls of a run.")

    async def call(self, call: ha.ToolCall) -> list[ha.Message]:
        raise AssertionError("only sessions are called")

    def session(self) -> Any:
        @asynccontextmanager
        async def fresh() -> AsyncIterator[ha.Tool]:
            yield _TallyRun()

        return fresh()


class _TallyRun(ha.Tool):
    namespace = _Tally.namespace

    def __init__(self) -> None:
        self.count = 0

    async def call(self, call: ha.ToolCall) -> list[ha.Message]:
        self.count += 1
        return [call.reply(str(self.count))]


async def test_with_tools_pins_one_session_across_runs() -> None:
    script = [
        "<|channel|>commentary to=tally<|message|>+1<|call|>",
        "<|channel|>final<|message|>ok<|return|>",
    ]
    tally = _Tally()
    agent = ha.Agent(Scripted(script * 4), tools=[tally])
    fresh = [(await agent.arun("q")).messages[1].text for _ in range(2)]
    assert fresh == ["1", "1"]  # a new session per run
    async with tally.session() as session:
        pinned = agent.with_tools([session])
        assert pinned.system_message == agent.system_message and pinned.tools == (session,)
        kept = [(await pinned.arun("q")).messages[1].text for _ in range(2)]
    assert kept == ["1", "2"]  # the pinned session's state outlived the first run
