"""Moving between the compat objects and harmony_agent's own, and mixing the two APIs."""

from __future__ import annotations

import pytest

import harmony_agent as ha
from harmony_agent.compat import openai_harmony as co

UPSTREAM = ha.RenderConfig(cot_policy="upstream", schema_flavor="upstream")
WEATHER = {
    "type": "object",
    "properties": {"location": {"type": "string"}},
    "required": ["location"],
}


def _conversation() -> co.Conversation:
    system = (
        co.SystemContent.new()
        .with_reasoning_effort(co.ReasoningEffort.HIGH)
        .with_conversation_start_date("2025-06-28")
        .with_browser_tool()
    )
    developer = (
        co.DeveloperContent.new()
        .with_instructions("Be brief.")
        .with_function_tools([co.ToolDescription.new("get_weather", "Weather.", WEATHER)])
    )
    return co.Conversation.from_messages(
        [
            co.Message.from_role_and_content(co.Role.SYSTEM, system),
            co.Message.from_role_and_content(co.Role.DEVELOPER, developer),
            co.Message.from_role_and_content(co.Role.USER, "Weather in Paris?"),
            co.Message.from_role_and_content(co.Role.ASSISTANT, "Need the tool.").with_channel(
                "analysis"
            ),
            co.Message.from_role_and_content(co.Role.ASSISTANT, '{"location": "Paris"}')
            .with_channel("commentary")
            .with_recipient("functions.get_weather")
            .with_content_type("<|constrain|>json"),
            co.Message.from_author_and_content(
                co.Author.new(co.Role.TOOL, "functions.get_weather"), '{"temp": 20}'
            )
            .with_channel("commentary")
            .with_recipient("assistant"),
            co.Message.from_role_and_content(co.Role.ASSISTANT, "20 °C.").with_channel("final"),
        ]
    )


def test_round_trip_through_harmony_agent():
    convo = _conversation()
    native = co.to_ha(convo)
    assert isinstance(native, ha.Conversation)
    assert co.from_ha(native) == convo
    assert co.Conversation.from_ha(native.messages) == convo
    assert native.messages[4].recipient == "functions.get_weather"
    assert native.system is not None and native.system.content.reasoning_effort == "high"  # type: ignore[union-attr]


def test_single_objects_convert_both_ways():
    assert co.to_ha(co.Role.TOOL) is ha.Role.TOOL
    assert co.from_ha(ha.ReasoningEffort.LOW) is co.ReasoningEffort.LOW
    assert co.to_ha(co.ReasoningEffort.HIGH) is ha.ReasoningEffort.HIGH
    tool = co.ToolDescription.new("f", "F.", WEATHER)
    assert co.from_ha(co.to_ha(tool)) == tool
    browser = co.ToolNamespaceConfig.browser()
    assert co.to_ha(browser) == ha.ToolNamespace.browser()
    assert co.from_ha(ha.ToolNamespace.browser()) == browser
    system = co.SystemContent.new().with_python_tool()
    assert co.SystemContent.from_ha(system.to_ha()) == system
    developer = co.DeveloperContent.new().with_instructions("x")
    assert co.DeveloperContent.from_ha(developer.to_ha()) == developer
    with pytest.raises(TypeError):
        co.to_ha("text")  # type: ignore[call-overload]


def test_harmony_agents_openai_harmony_interop_accepts_compat_objects():
    convo = _conversation()
    assert ha.Conversation.from_openai_harmony(convo) == co.to_ha(convo)  # type: ignore[arg-type]
    for m in convo.messages:
        assert ha.Message.from_openai_harmony(m) == m.to_ha()  # type: ignore[arg-type]


def test_rendering_matches_harmony_agents_upstream_mode(enc):
    convo = _conversation()
    native = co.to_ha(convo)
    codec = enc.ha_encoding
    assert codec is ha.load_encoding()
    assert enc.render_conversation(convo) == codec.render_conversation(native, UPSTREAM)
    assert enc.render_conversation_for_completion(
        convo, co.Role.ASSISTANT
    ) == codec.render_conversation_for_completion(native, ha.Role.ASSISTANT, UPSTREAM)


def test_several_text_items_join_and_mixed_content_is_refused():
    m = co.Message.from_role_and_content(co.Role.USER, "a").adding_content("b")
    assert m.to_ha() == ha.Message.user("ab")
    mixed = co.Message.from_role_and_content(co.Role.SYSTEM, co.SystemContent.new())
    mixed.adding_content("extra")
    with pytest.raises(ValueError, match="either text or one system/developer body"):
        mixed.to_ha()


def test_hierarchy_is_checked_only_on_request():
    stray_tool = co.Conversation.from_messages(
        [co.Message.from_author_and_content(co.Author.new(co.Role.TOOL, "functions.f"), "x")]
    )
    with pytest.raises(ha.ConversationError):
        stray_tool.to_ha()
    assert len(stray_tool.to_ha(check=False)) == 1


def test_parsed_messages_agree_with_harmony_agents_parser(enc):
    convo = _conversation()
    keep = co.RenderConversationConfig(auto_drop_analysis=False)
    prompt = co.Conversation.from_messages(convo.messages[:3])
    tokens = enc.render_conversation(convo, keep)[len(enc.render_conversation(prompt)) :]
    ours = enc.parse_messages_from_completion_tokens(tokens, None)
    assert ours == convo.messages[3:]
    native = enc.ha_encoding.parse_messages_from_completion_tokens(tokens, None)
    assert [m.to_ha() for m in ours] == native
