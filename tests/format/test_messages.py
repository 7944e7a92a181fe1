"""The message model: constructors, the role hierarchy, JSON round trips, interop."""

from __future__ import annotations

from typing import Any

import pytest

import harmony_agent as ha

SYSTEM = ha.Message.system(reasoning="high", current_date="2025-06-28")
DEV = ha.Message.developer(
    "Be brief.",
    tools=[
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
)
USER = ha.Message.user("Weather in Paris?")
CALL = ha.Message.assistant(
    '{"city": "Paris"}', "commentary", "functions.get_weather", "<|constrain|>json"
)
ANSWER = ha.Message.tool("functions.get_weather", '{"temp": 20}')
FINAL = ha.Message.assistant("20 degrees.")


def test_constructors():
    assert SYSTEM.content.reasoning_effort is ha.ReasoningEffort.HIGH  # type: ignore[union-attr]
    assert SYSTEM.content.conversation_start_date == "2025-06-28"  # type: ignore[union-attr]
    assert "Reasoning: high" in SYSTEM.text and "Current date: 2025-06-28" in SYSTEM.text
    assert DEV.content.has_function_tools  # type: ignore[union-attr]
    assert "type get_weather = (_: {" in DEV.text
    assert FINAL.channel is ha.Channel.FINAL and FINAL.role is ha.Role.ASSISTANT
    assert ANSWER.role is ha.Role.TOOL and ANSWER.name == "functions.get_weather"
    assert ANSWER.author == "functions.get_weather"
    assert ha.Message.assistant("x", "analysis").channel == ha.Channel.ANALYSIS == "analysis"
    assert ha.Message.assistant("x", "thinking").channel == "thinking"  # unknown kept verbatim


def test_builders_return_copies():
    content = ha.SystemContent()
    with_tools = content.with_browser_tool().with_python_tool(timeout=30)
    assert content.tools == ()
    assert [ns.name for ns in with_tools.tools] == ["browser", "python"]
    assert "time out after 30.0 seconds" in ha.Message.system(with_tools).text
    assert FINAL.with_channel("analysis").channel == "analysis" and FINAL.channel == "final"
    with pytest.raises(Exception, match="frozen"):
        FINAL.channel = "analysis"  # type: ignore[misc]


def test_valid_conversation_and_append():
    conv = ha.Conversation([SYSTEM, DEV, USER, CALL, ANSWER])
    longer = conv.append(FINAL)
    assert len(conv) == 5 and len(longer) == 6 and longer[-1] == FINAL
    assert longer.system == SYSTEM and longer.developer == DEV
    assert list(longer) == [SYSTEM, DEV, USER, CALL, ANSWER, FINAL]


@pytest.mark.parametrize(
    ("messages", "index", "rule"),
    [
        ([USER, SYSTEM], 1, "system-first"),
        ([SYSTEM, SYSTEM], 1, "system-first"),
        ([SYSTEM, USER, DEV], 2, "developer-second"),
        ([DEV, DEV], 1, "developer-second"),
        ([USER, ha.Message.assistant("x", channel=None)], 1, "assistant-channel"),
        ([USER, ha.Message.assistant("x", channel="thinking")], 1, "assistant-channel"),
        (
            [USER, ha.Message.assistant("x", "final", recipient="functions.f")],
            1,
            "final-no-recipient",
        ),
        ([USER, ANSWER], 1, "tool-answers-call"),
        ([USER, CALL, ha.Message.tool("functions.other", "{}")], 2, "tool-answers-call"),
        ([ha.Message(role=ha.Role.USER, content=ha.SystemContent())], 0, "system-content"),
    ],
)
def test_hierarchy_violations(messages: list[ha.Message], index: int, rule: str):
    with pytest.raises(ha.ConversationError) as info:
        ha.Conversation(messages)
    assert info.value.index == index and info.value.rule == rule
    assert f"message {index}" in str(info.value)
    # append checks the same rules incrementally
    with pytest.raises(ha.ConversationError) as info:
        ha.Conversation(messages[:-1]).append(messages[-1])
    assert info.value.index == index


def test_valid_channels_come_from_the_system_message():
    system = ha.Message.system(valid_channels=("analysis", "final"))
    with pytest.raises(ha.ConversationError, match="analysis, final"):
        ha.Conversation([system, USER, ha.Message.assistant("x", "commentary")])


def test_namespace_tool_answers():
    call = ha.Message.assistant('{"query": "x"}', "commentary", "browser.search")
    ha.Conversation([USER, call, ha.Message.tool("browser", "results")])  # namespace answers
    ha.Conversation([USER, call, ha.Message.tool("browser.search", "results")])


def test_json_round_trip_is_lossless():
    conv = ha.Conversation(
        [
            SYSTEM.model_copy(update={"content": SYSTEM.content.with_browser_tool()}),  # type: ignore[union-attr]
            DEV,
            USER,
            CALL,
            ANSWER,
            FINAL,
        ]
    )
    again = ha.Conversation.model_validate_json(conv.model_dump_json())
    assert again == conv
    for m in conv:
        assert ha.Message.model_validate_json(m.model_dump_json()) == m


def test_openai_harmony_interop(oh: Any):
    conv = ha.Conversation([SYSTEM, DEV, USER, CALL, ANSWER, FINAL])
    theirs = conv.to_openai_harmony()
    assert isinstance(theirs, oh.Conversation)
    assert ha.Conversation.from_openai_harmony(theirs) == conv
    msg = oh.Message.from_role_and_content(oh.Role.USER, "hi").with_channel("final")
    assert ha.Message.from_openai_harmony(msg) == ha.Message(
        role=ha.Role.USER, content="hi", channel="final"
    )
    # several text items are joined
    multi = oh.Message.from_role_and_contents(
        oh.Role.USER, [oh.TextContent(text="a"), oh.TextContent(text="b")]
    )
    assert ha.Message.from_openai_harmony(multi).content == "ab"


def test_tool_spec_coercion():
    spec = ha.ToolSpec.coerce({"name": "f", "description": "d", "parameters": None, "strict": True})
    assert spec == ha.ToolSpec(name="f", description="d")
    with pytest.raises(TypeError):
        ha.ToolSpec.coerce(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unique"):
        ha.DeveloperContent(tools=(ha.ToolNamespace(name="a"), ha.ToolNamespace(name="a")))
