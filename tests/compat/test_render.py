"""Rendering through the compat layer: upstream's exact tokens, chain-of-thought rule,
schema text and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harmony_agent.compat.openai_harmony import (
    Author,
    Content,
    Conversation,
    DeveloperContent,
    HarmonyEncoding,
    HarmonyError,
    Message,
    RenderConversationConfig,
    RenderOptions,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
)
from tests.compat.conftest import FIXTURES, fixture_text

CASES = json.loads((FIXTURES / "cases.json").read_text())
RENDER_CASES = [c for c in CASES if c["kind"] == "render"]


def _user(text: str) -> Message:
    return Message.from_role_and_content(Role.USER, text)


def _assistant(text: str, channel: str) -> Message:
    return Message.from_role_and_content(Role.ASSISTANT, text).with_channel(channel)


@pytest.mark.parametrize("case", RENDER_CASES, ids=lambda c: c["fixture"])
def test_reference_fixtures(enc: HarmonyEncoding, case: dict[str, Any]):
    messages = [Message.from_dict(m) for m in case["messages"]]
    flags = case["flags"]
    config = RenderConversationConfig(auto_drop_analysis=flags.get("auto_drop_analysis", True))
    if case["function"] == "render_conversation_for_completion":
        role = Role(flags["next_turn_role"])
        tokens = enc.render_conversation_for_completion(
            Conversation.from_messages(messages), role, config
        )
    elif case["function"] == "render_conversation":
        tokens = enc.render_conversation(Conversation.from_messages(messages), config)
    else:
        options = RenderOptions(
            conversation_has_function_tools=flags.get("conversation_has_function_tools", False)
        )
        tokens = enc.render(messages[0], options)
        if flags.get("drop_last_token"):
            tokens = tokens[:-1]
    expected = fixture_text(case["fixture"])
    assert enc.decode_utf8(tokens) == expected
    assert tokens == enc.encode(expected, allowed_special="all")


def test_analysis_before_the_first_final_is_dropped_once_the_turn_is_final(enc):
    convo = Conversation.from_messages(
        [
            _user("2+2?"),
            _assistant("thinking", "analysis"),
            _assistant("4", "final"),
            _user("3+5?"),
            _assistant("thinking again", "analysis"),
            _assistant("8", "final"),
        ]
    )
    text = enc.decode_utf8(enc.render_conversation(convo))
    assert "thinking again" in text  # upstream keeps analysis after the first final
    assert "thinking<|end|>" not in text
    kept = enc.render_conversation(convo, RenderConversationConfig(auto_drop_analysis=False))
    assert "thinking<|end|>" in enc.decode_utf8(kept)


def test_analysis_is_kept_while_the_last_assistant_message_is_not_final(enc):
    convo = Conversation.from_messages(
        [
            _user("2+2?"),
            _assistant("thinking", "analysis"),
            _assistant("4", "final"),
            _user("weather?"),
            _assistant("need a tool", "analysis"),
            _assistant("{}", "commentary").with_recipient("functions.w"),
        ]
    )
    text = enc.decode_utf8(enc.render_conversation_for_completion(convo, Role.ASSISTANT))
    assert "thinking" in text and "need a tool" in text


def test_each_text_item_is_encoded_on_its_own(enc):
    one = enc.render(_user("hello"))
    two = enc.render(
        Message.from_role_and_contents(Role.USER, [TextContent(text="hel"), TextContent(text="lo")])
    )
    assert enc.decode_utf8(one) == enc.decode_utf8(two)
    assert one != two  # BPE merges do not cross item boundaries, as upstream


def test_schemas_use_upstreams_typescript(enc):
    tool = ToolDescription.new(
        "pick",
        "Pick one.",
        parameters={
            "type": "object",
            "properties": {"x": {"anyOf": [{"type": "string"}, {"type": "integer"}]}},
        },
    )
    dev = DeveloperContent.new().with_function_tools([tool])
    text = enc.decode_utf8(enc.render(Message.from_role_and_content(Role.DEVELOPER, dev)))
    assert "type pick = (_: {\nx?: any,\n}) => any;" in text


def test_function_tools_add_the_commentary_line_to_the_system_message(enc):
    system = Message.from_role_and_content(Role.SYSTEM, SystemContent.new())
    line = "Calls to these tools must go to the commentary channel: 'functions'."
    assert line not in enc.decode_utf8(enc.render(system))
    with_fn = enc.render(system, RenderOptions(conversation_has_function_tools=True))
    assert line in enc.decode_utf8(with_fn)
    dev = DeveloperContent.new().with_function_tools([ToolDescription.new("f", "F.")])
    convo = Conversation.from_messages([system, Message.from_role_and_content(Role.DEVELOPER, dev)])
    assert line in enc.decode_utf8(enc.render_conversation(convo))


def test_training_ends_a_final_answer_with_return(enc):
    convo = Conversation.from_messages([_user("hi"), _assistant("hello", "final")])
    training = enc.render_conversation_for_training(convo)
    regular = enc.render_conversation(convo)
    assert training[:-1] == regular[:-1]
    assert (regular[-1], training[-1]) == (200007, 200002)
    only_user = Conversation.from_messages([_user("hi")])
    assert enc.render_conversation_for_training(only_user) == enc.render_conversation(only_user)


def test_headers_as_upstream_writes_them(enc):
    call = _assistant("{}", "commentary").with_recipient("functions.f").with_content_type("json")
    assert enc.decode_utf8(enc.render(call)) == (
        "<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{}<|call|>"
    )
    named = Message.from_author_and_content(Author.new(Role.USER, "alice"), "hi")
    assert enc.decode_utf8(enc.render(named)) == "<|start|>user:alice<|message|>hi<|end|>"
    to_all = _assistant("x", "final").with_recipient("all")
    assert (
        enc.decode_utf8(enc.render(to_all))
        == "<|start|>assistant<|channel|>final<|message|>x<|call|>"
    )


@pytest.mark.parametrize(
    ("message", "error"),
    [
        (Message.from_role_and_content(Role.TOOL, "x"), "Tools should have a name!"),
        (
            Message.from_role_and_content(Role.USER, SystemContent.new()),
            "SystemContent may only appear in system messages, found in User",
        ),
        (
            Message.from_role_and_content(Role.SYSTEM, DeveloperContent.new()),
            "DeveloperContent may only appear in developer messages, found in System",
        ),
    ],
)
def test_render_errors(enc, message: Message, error: str):
    with pytest.raises(HarmonyError, match=error):
        enc.render(message)
    with pytest.raises(HarmonyError, match=error):
        enc.render_conversation_for_completion(
            Conversation.from_messages([message]), Role.ASSISTANT
        )


class _Quoted(Content):
    """A content kind of the caller's own, rendered through its ``to_dict()`` form."""

    inner: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": f"«{self.inner}»"}


def test_own_content_kinds_render_through_their_dict_form(enc):
    own = Message.from_role_and_contents(Role.USER, [_Quoted(inner="hi")])
    assert enc.render(own) == enc.render(_user("«hi»"))
    with pytest.raises(NotImplementedError):
        enc.render(Message.from_role_and_contents(Role.USER, [Content()]))
