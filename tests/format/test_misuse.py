"""What a new user gets wrong gets one clear error naming the argument and the type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import harmony_agent as ha


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [
        (lambda: ha.Message.user(123), TypeError, "Message.user: text must be a str, got int 123"),
        (
            lambda: ha.Message.tool("functions.f", {"t": 1}),
            TypeError,
            "Message.tool: text must be a str, got dict {'t': 1} (send structured answers as "
            "json.dumps(...))",
        ),
        (lambda: ha.Message.tool(None, "x"), TypeError, "Message.tool: name must be a str"),
        (
            lambda: ha.Message.developer("x", tools="name"),
            TypeError,
            "Message.developer: tools must be a list of ToolSpec, ToolNamespace or JSON-schema "
            "dicts, got one str 'name'; wrap it in a list",
        ),
        (
            lambda: ha.Message.developer("x", tools={"name": "f"}),
            TypeError,
            "got one dict",
        ),
        (lambda: ha.Message.developer(42), TypeError, "instructions must be a str, got int 42"),
        (
            lambda: ha.Conversation("hi"),
            TypeError,
            "Conversation(messages): messages must be a list of ha.Message, got str 'hi'",
        ),
        (
            lambda: ha.Conversation(ha.Message.user("hi")),
            TypeError,
            "messages must be a list of ha.Message, got Message",
        ),
        (
            lambda: ha.Conversation(["hi"]),
            TypeError,
            "Conversation(messages): message 0 must be a ha.Message, got str 'hi'",
        ),
        (
            lambda: ha.StreamParser().feed("hello"),
            TypeError,
            "StreamParser.feed takes token ids (an int or a list of ints), got str 'hello'; "
            "encode text first",
        ),
        (lambda: ha.StreamParser().feed(b"hi"), TypeError, "got bytes"),
        (
            lambda: ha.StreamParser().feed([200005, "final"]),
            TypeError,
            "StreamParser.feed takes token ids (ints), got str 'final' among them",
        ),
        (
            lambda: ha.Message.assistant("hi", channel="finale"),
            ValueError,
            "channel 'finale' is not a harmony channel; did you mean 'final'? The channels are "
            "analysis, commentary, final",
        ),
        (lambda: ha.Message.assistant("hi", channel="Analysis"), ValueError, "'analysis'"),
        (lambda: ha.Message.assistant("hi", channel=3), TypeError, "channel must be a str"),
        (lambda: ha.Message.assistant(None), TypeError, "Message.assistant: text must be a str"),
        (
            lambda: ha.Message.system("You are helpful"),
            TypeError,
            "instructions belong in the developer message, Message.developer('You are helpful')",
        ),
        (
            lambda: ha.Message.system({"reasoning": "high"}),
            TypeError,
            "Message.system: content must be a SystemContent or None, got dict",
        ),
    ],
)
def test_misuse_gets_one_clear_error(build: Callable[[], Any], error: type, message: str):
    with pytest.raises(error) as info:
        build()
    assert message in str(info.value)
    assert "validation error" not in str(info.value)  # not pydantic's union dump
    assert "\n" not in str(info.value)


def test_what_still_works():
    assert ha.Message.assistant("x", "thinking").channel == "thinking"  # a declared channel
    assert ha.Message.assistant("x", ha.Channel.ANALYSIS).channel is ha.Channel.ANALYSIS
    assert ha.Message.developer("x", tools=()).text.startswith("# Instructions")
    assert len(ha.Conversation(m for m in [ha.Message.user("hi")])) == 1  # any iterable
    assert ha.Conversation([ha.Message.user("hi").model_dump()])[0].text == "hi"  # dicts
    assert ha.StreamParser().feed(iter([200005])) == []


def test_completion_tokens_without_role_explain_the_role(encoding: ha.Encoding):
    tokens = encoding.encode("<|channel|>final<|message|>Hi<|return|>", allowed_special="all")
    with pytest.raises(ha.ParseError) as info:
        encoding.parse_messages_from_completion_tokens(tokens)
    text = str(info.value)
    assert text.startswith("Unexpected token 200005 while expecting start token 200006")
    assert "needs role=ha.Role.ASSISTANT" in text and "(at token 0)" in text
    messages = encoding.parse_messages_from_completion_tokens(tokens, role=ha.Role.ASSISTANT)
    assert messages == [ha.Message.assistant("Hi")]
    # later in the stream the hint would mislead: the upstream words alone
    two = encoding.encode(
        "<|start|>assistant<|channel|>final<|message|>a<|end|>b", allowed_special="all"
    )
    with pytest.raises(ha.ParseError) as info:
        encoding.parse_messages_from_completion_tokens(two)
    assert "while expecting start token" in str(info.value)
    assert "needs role" not in str(info.value)
