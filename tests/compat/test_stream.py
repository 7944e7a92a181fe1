"""StreamableParser: per-token state, deltas, state data and errors, upstream's way."""

from __future__ import annotations

import pytest

from harmony_agent.compat.openai_harmony import (
    HarmonyError,
    Message,
    Role,
    StreamableParser,
    StreamState,
)


def _feed(parser: StreamableParser, tokens: list[int]) -> list[str | None]:
    deltas = []
    for t in tokens:
        assert parser.process(t) is parser
        deltas.append(parser.last_content_delta)
    return deltas


def test_state_follows_each_token(enc):
    parser = StreamableParser(enc, Role.ASSISTANT)
    assert parser.state is StreamState.HEADER
    assert parser.state_data == {"state": "Header", "header_tokens": []}
    assert parser.current_role is Role.ASSISTANT
    header = enc.encode(
        "<|channel|>commentary to=functions.f json<|message|>", allowed_special="all"
    )
    _feed(parser, header[:-1])
    assert parser.state_data == {"state": "Header", "header_tokens": header[:-1]}
    assert parser.current_channel is None  # known only once the header is complete
    _feed(parser, header[-1:])
    assert parser.state is StreamState.CONTENT
    assert (parser.current_channel, parser.current_recipient, parser.current_content_type) == (
        "commentary",
        "functions.f",
        "json",
    )
    body = enc.encode('{"a": 1}')
    assert _feed(parser, body) == [enc.decode([t]) for t in body]
    assert parser.current_content == '{"a": 1}'
    assert parser.state_data == {
        "state": "Content",
        "header": {
            "author": {"role": "assistant"},
            "recipient": "functions.f",
            "channel": "commentary",
            "content_type": "json",
        },
        "content_tokens": body,
    }
    _feed(parser, [200012])
    assert parser.state is StreamState.EXPECT_START
    assert parser.state_data == {"state": "ExpectStart"}
    assert parser.current_role is None and parser.current_content == ""
    assert parser.last_content_delta is None
    assert parser.tokens == header + body + [200012]
    (m,) = parser.messages
    assert m == (
        Message.from_role_and_content(Role.ASSISTANT, '{"a": 1}')
        .with_channel("commentary")
        .with_recipient("functions.f")
        .with_content_type("json")
    )
    assert parser.messages[0] is not m  # fresh objects each time, as upstream's


def test_tool_header_carries_the_name(enc):
    parser = StreamableParser(enc, None)
    _feed(parser, enc.encode("<|start|>functions.f to=assistant<|message|>", allowed_special="all"))
    assert parser.current_role is Role.TOOL
    assert parser.state_data["header"]["author"] == {"role": "tool", "name": "functions.f"}


def test_split_characters_wait_for_their_last_byte(enc):
    parser = StreamableParser(enc, None)
    _feed(parser, enc.encode("<|start|>assistant<|message|>", allowed_special="all"))
    text = "naïve 👋🏾👨‍👩‍👧 ok"
    tokens = enc.encode(text)
    deltas = _feed(parser, tokens)
    assert None in deltas  # some tokens end inside a character
    deltas = [d for d in deltas if d is not None]
    assert "".join(deltas) == text == parser.current_content


def test_invalid_bytes_and_what_follows(enc):
    parser = StreamableParser(enc, None)
    _feed(parser, enc.encode("<|start|>assistant<|message|>", allowed_special="all"))
    # 9552 is b" \xf0\x9f"; the next token breaks the sequence it starts. As upstream, one
    # step emits one replacement and the bytes after it wait for the next token.
    assert _feed(parser, [9552, *enc.encode(" interesting")]) == [" ", "\ufffd"]
    assert parser.current_content == " \ufffd"
    assert _feed(parser, enc.encode(" story")) == [" interesting story"]
    parser.process_eos()
    assert parser.messages[0].content[0].text == " \ufffd interesting story"  # type: ignore[attr-defined]


def test_process_eos_finishes_content_and_rejects_an_open_header(enc):
    parser = StreamableParser(enc, Role.ASSISTANT)
    _feed(parser, enc.encode("<|channel|>final<|message|>partial", allowed_special="all"))
    assert parser.process_eos() is parser
    assert parser.messages[0].channel == "final"
    parser.process_eos()  # between messages: nothing happens
    open_header = StreamableParser(enc, Role.ASSISTANT)
    _feed(open_header, enc.encode("<|channel|>fin", allowed_special="all"))
    with pytest.raises(HarmonyError, match="Unexpected EOS while waiting for message header"):
        open_header.process_eos()


@pytest.mark.parametrize("strict", [True, False])
def test_missing_message_token(enc, strict: bool):
    text = "I must refuse.<|end|><|start|>assistant<|channel|>final<|message|>No.<|return|>"
    parser = StreamableParser(enc, Role.ASSISTANT, strict=strict)
    tokens = enc.encode(text, allowed_special="all")
    if strict:
        with pytest.raises(HarmonyError, match="unexpected tokens remaining in message header"):
            _feed(parser, tokens)
        # the failed header is gone, the role hint stays, and the parser waits for a start
        assert parser.state is StreamState.EXPECT_START
        assert parser.current_role is Role.ASSISTANT
        return
    _feed(parser, tokens)
    assert [(m.channel, m.content[0].text) for m in parser.messages] == [  # type: ignore[attr-defined]
        (None, "I must refuse."),
        ("final", "No."),
    ]


def test_strict_mode_takes_a_one_word_preamble_for_a_recipient(enc):
    """Upstream's quirk, kept: the stray text and tokens become the recipient."""
    text = "Refusing.<|end|><|start|>assistant<|channel|>final<|message|>No.<|return|>"
    parser = StreamableParser(enc, Role.ASSISTANT)
    _feed(parser, enc.encode(text, allowed_special="all"))
    (m,) = parser.messages
    assert (m.channel, m.recipient) == ("final", "Refusing.<|end|><|start|>assistant")


def test_errors_between_messages_keep_the_token(enc):
    parser = StreamableParser(enc, None)
    with pytest.raises(HarmonyError, match="Unexpected token 24912 while expecting start token"):
        parser.process(24912)
    assert parser.tokens == [24912]
    assert parser.state is StreamState.EXPECT_START
    with pytest.raises(OverflowError):
        parser.process(-1)
