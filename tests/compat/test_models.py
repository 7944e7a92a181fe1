"""The message model: upstream's constructors, mutating builders, JSON forms and errors."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from harmony_agent.compat.openai_harmony import (
    Author,
    ChannelConfig,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolNamespaceConfig,
)


def test_enum_values_are_upstreams():
    assert [r.value for r in Role] == ["user", "assistant", "system", "developer", "tool"]
    assert [e.value for e in ReasoningEffort] == ["Low", "Medium", "High"]
    with pytest.raises(ValueError, match="Unknown role: 'robot'"):
        Role("robot")


def test_system_content_defaults():
    s = SystemContent.new()
    assert s.model_identity == "You are ChatGPT, a large language model trained by OpenAI."
    assert s.reasoning_effort is ReasoningEffort.MEDIUM
    assert s.knowledge_cutoff == "2024-06"
    assert s.conversation_start_date is None
    assert s.channel_config == ChannelConfig(
        valid_channels=["analysis", "commentary", "final"], channel_required=True
    )
    assert s.tools is None
    # each instance gets its own channel config
    assert SystemContent.new().channel_config is not s.channel_config


def test_builders_change_the_object_and_return_it():
    s = SystemContent.new()
    assert s.with_reasoning_effort(ReasoningEffort.HIGH) is s
    assert s.with_knowledge_cutoff("2021-01").with_conversation_start_date("2025-01-02") is s
    assert (s.reasoning_effort, s.knowledge_cutoff, s.conversation_start_date) == (
        ReasoningEffort.HIGH,
        "2021-01",
        "2025-01-02",
    )
    assert s.with_required_channels(["analysis", "final"]).channel_config == (
        ChannelConfig.require_channels(["analysis", "final"])
    )
    m = Message.from_role_and_content(Role.ASSISTANT, "x")
    assert m.with_channel("commentary").with_recipient("python").with_content_type("code") is m
    assert (m.channel, m.recipient, m.content_type) == ("commentary", "python", "code")
    assert m.adding_content("y") is m
    assert m.content == [TextContent(text="x"), TextContent(text="y")]


def test_tools_are_keyed_by_namespace_name():
    s = SystemContent.new().with_browser_tool().with_python_tool()
    assert s.tools is not None and sorted(s.tools) == ["browser", "python"]
    assert [t.name for t in s.tools["browser"].tools] == ["search", "open", "find"]
    assert s.tools["python"].tools == []
    assert "120.0 seconds" in (s.tools["python"].description or "")
    d = DeveloperContent.new().with_function_tools([ToolDescription.new("f", "Does f.")])
    assert d.tools == {
        "functions": ToolNamespaceConfig(
            name="functions", tools=[ToolDescription(name="f", description="Does f.")]
        )
    }
    # the built-in namespaces are fresh objects each time
    assert ToolNamespaceConfig.browser() is not ToolNamespaceConfig.browser()


def test_message_constructors():
    author = Author.new(Role.TOOL, "functions.get_weather")
    m = Message.from_author_and_content(author, "sunny")
    assert m.author == Author(role=Role.TOOL, name="functions.get_weather")
    assert m.content == [TextContent(text="sunny")]
    assert Message.from_role_and_content(Role.USER, "hi").author == Author(role=Role.USER)
    both = Message.from_role_and_contents(Role.USER, [TextContent(text="a"), TextContent(text="b")])
    assert [c.text for c in both.content] == ["a", "b"]  # type: ignore[attr-defined]


def test_message_dict_and_json_forms():
    m = (
        Message.from_role_and_content(Role.ASSISTANT, '{"x": 1}')
        .with_channel("commentary")
        .with_recipient("functions.f")
        .with_content_type("<|constrain|>json")
    )
    assert m.to_dict() == {
        "role": Role.ASSISTANT,
        "name": None,
        "content": [{"type": "text", "text": '{"x": 1}'}],
        "channel": "commentary",
        "recipient": "functions.f",
        "content_type": "<|constrain|>json",
    }
    assert json.loads(m.to_json())["role"] == "assistant"
    assert Message.from_dict(m.to_dict()) == m
    assert Message.from_json(m.to_json()) == m
    # the Rust side's shortcut: a single text item as a plain string
    short = Message.from_dict({"role": "user", "content": "hi"})
    assert short == Message.from_role_and_content(Role.USER, "hi")
    with pytest.raises(ValueError, match="Unknown content variant"):
        Message.from_dict({"role": "user", "content": [{"type": "image"}]})


def test_system_and_developer_dict_forms():
    s = SystemContent.new().with_reasoning_effort(ReasoningEffort.LOW).with_browser_tool()
    data = s.to_dict()
    assert data["type"] == "system_content"
    assert "conversation_start_date" not in data  # None fields are left out
    assert SystemContent.from_dict(data) == s
    d = DeveloperContent.new().with_instructions("Be brief.")
    assert d.to_dict() == {"instructions": "Be brief.", "type": "developer_content"}
    assert DeveloperContent.from_dict(d.to_dict()) == d


def test_conversation_round_trip_and_iteration():
    convo = Conversation.from_messages(
        [
            Message.from_role_and_content(Role.SYSTEM, SystemContent.new()),
            Message.from_role_and_content(Role.DEVELOPER, DeveloperContent.new()),
            Message.from_role_and_content(Role.USER, "hi"),
        ]
    )
    assert [m.author.role for m in convo] == [Role.SYSTEM, Role.DEVELOPER, Role.USER]
    assert Conversation.from_json(convo.to_json()) == convo
    assert Conversation.from_dict(convo.to_dict()) == convo


def test_conversation_rejects_non_messages_like_upstream():
    with pytest.raises(ValidationError, match="Input should be a valid dictionary or instance"):
        Conversation.from_messages([SystemContent.new()])  # type: ignore[list-item]


def test_conversation_checks_no_hierarchy_rules():
    """Upstream accepts any order; so does the compat model (harmony_agent's does not)."""
    convo = Conversation.from_messages(
        [
            Message.from_role_and_content(Role.USER, "hi"),
            Message.from_role_and_content(Role.SYSTEM, SystemContent.new()),
            Message.from_author_and_content(Author.new(Role.TOOL, "nobody.called"), "x"),
        ]
    )
    assert len(convo.messages) == 3
