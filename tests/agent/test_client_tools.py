"""Client-side tools: declared to the model, a call to one ends the run for the caller."""

from __future__ import annotations

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted
from harmony_agent.tools import ClientTool

WEATHER = {
    "name": "get_weather",
    "description": "Current weather.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = (
    "<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "Oslo"}<|call|>'
)


def test_a_call_to_a_client_tool_stops_the_run() -> None:
    agent = ha.Agent(Scripted([CALL]), [ClientTool([WEATHER])])
    result = agent.run("Weather?")
    assert result.stop_reason == "tool_call"
    assert result.turns == 1 and result.final_text is None
    (call,) = result.pending_calls
    assert call.recipient == "functions.get_weather" and call.text == '{"city": "Oslo"}'
    assert result.messages[-1] == call  # no tool answer was made up


def test_the_caller_answers_and_the_run_goes_on() -> None:
    agent = ha.Agent(
        Scripted([CALL, "<|channel|>final<|message|>Sunny.<|return|>"]),
        [ClientTool([{"type": "function", "function": WEATHER}])],
    )
    first = agent.run("Weather?")
    answered = [
        *first.conversation.messages,
        ha.Message.tool("functions.get_weather", '{"sky": "sunny"}'),
    ]
    second = agent.run(ha.Conversation(answered))
    assert second.stop_reason == "final" and second.final_text == "Sunny."
    assert second.pending_calls == ()


def test_client_tools_are_declared_like_functions() -> None:
    agent = ha.Agent(Scripted([CALL]), [ClientTool([WEATHER])])
    assert agent.developer_message is not None
    text = agent.encoding.decode(agent.encoding.render(agent.developer_message))
    assert "type get_weather = (_: {\ncity?: string,\n}) => any;" in text


def test_a_server_side_tool_next_to_client_tools_still_runs() -> None:
    @ha.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    call_add = (
        "<|channel|>commentary to=functions.add <|constrain|>json"
        '<|message|>{"a": 1, "b": 2}<|call|>'
    )
    agent = ha.Agent(Scripted([call_add, CALL]), [add, ClientTool([WEATHER])])
    result = agent.run("go")
    assert result.stop_reason == "tool_call" and result.turns == 2
    assert [m.text for m in result.messages if m.role == "tool"] == ["3"]


@pytest.mark.parametrize("specs", [[WEATHER, WEATHER], [{"name": ""}]])
def test_bad_declarations_are_refused(specs: list[dict[str, object]]) -> None:
    with pytest.raises(ha.ToolError):
        ClientTool(specs)


async def test_calling_it_directly_refuses() -> None:
    tool = ClientTool([WEATHER])
    with pytest.raises(ha.ToolError, match="runs on the client"):
        await tool.call(ha.ToolCall("functions.get_weather", "{}"))
