"""StreamParser: events, tolerance of real model output, strict mode, UTF-8, state."""

from __future__ import annotations

import pytest

import harmony_agent as ha
from harmony_agent.events import ContentDelta, MessageEnd, MessageStart, ParseIssue
from harmony_agent.format import _tokens as T
from harmony_agent.format._parser import StreamParser, parse_completion_tokens
from tests._helpers import tokens

A = ha.Role.ASSISTANT


@pytest.fixture(scope="module")
def enc(encoding: ha.Encoding) -> ha.Encoding:
    return encoding


def run(
    enc: ha.Encoding, text: str, role: ha.Role | None = A, *, per_token: bool = False
) -> tuple[StreamParser, list[ha.Event]]:
    parser = StreamParser(enc, role=role)
    events: list[ha.Event] = []
    toks = tokens(enc, text)
    if per_token:
        for t in toks:
            events += parser.feed(t)
    else:
        events += parser.feed(toks)
    events += parser.finish()
    return parser, events


def fields(m: ha.Message) -> tuple[object, ...]:
    channel = None if m.channel is None else str(m.channel)
    return (m.role.value, m.name, channel, m.recipient, m.content_type, m.text)


def issues(events: list[ha.Event]) -> list[ParseIssue]:
    return [e for e in events if isinstance(e, ParseIssue)]


# -- events -------------------------------------------------------------------------------


def test_events_of_a_reasoning_turn(enc: ha.Encoding):
    text = (
        "<|channel|>analysis<|message|>Think.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hi!<|return|>"
    )
    parser, events = run(enc, text, per_token=True)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "MessageStart" and kinds[-1] == "MessageEnd"
    starts = [e for e in events if isinstance(e, MessageStart)]
    ends = [e for e in events if isinstance(e, MessageEnd)]
    assert [(s.index, s.role, s.channel) for s in starts] == [(0, A, "analysis"), (1, A, "final")]
    assert [(e.index, e.stop, e.message.text) for e in ends] == [
        (0, "end", "Think."),
        (1, "return", "Hi!"),
    ]
    deltas = [e for e in events if isinstance(e, ContentDelta)]
    assert "".join(d.text for d in deltas if d.index == 1) == "Hi!"
    assert all(d.channel == ("analysis" if d.index == 0 else "final") for d in deltas)
    assert parser.messages == [e.message for e in ends]
    assert parser.spans == [(0, 6), (6, len(parser.tokens))]
    assert not issues(events)


def test_tool_call_event_carries_recipient(enc: ha.Encoding):
    text = '<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a": 1}<|call|>'
    _, events = run(enc, text, per_token=True)
    start = events[0]
    assert isinstance(start, MessageStart)
    assert (start.channel, start.recipient, start.content_type) == (
        "commentary",
        "functions.f",
        "<|constrain|>json",
    )
    assert all(e.recipient == "functions.f" for e in events if isinstance(e, ContentDelta))
    end = events[-1]
    assert isinstance(end, MessageEnd) and end.stop == "call"


@pytest.mark.parametrize(
    "header",
    [
        "<|channel|>commentary to=functions.get_weather <|constrain|>json",
        "<|channel|>commentary to=functions.get_weather<|constrain|>json",
        " to=functions.get_weather<|channel|>commentary <|constrain|>json",
        " to=functions.get_weather<|channel|>commentary<|constrain|>json",
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json",
        "<|start|>assistant<|channel|>commentary to=functions.get_weather<|constrain|>json",
        "<|channel|>commentary  to=functions.get_weather   <|constrain|>json ",
        "<|channel|>commentary to=functions.get_weather <|constrain|> json",
    ],
)
def test_recipient_and_content_type_in_every_position(enc: ha.Encoding, header: str):
    parser, events = run(enc, header + '<|message|>{"city": "Paris"}<|call|>')
    assert [fields(m) for m in parser.messages] == [
        (
            "assistant",
            None,
            "commentary",
            "functions.get_weather",
            "<|constrain|>json",
            '{"city": "Paris"}',
        )
    ]
    assert not issues(events)


@pytest.mark.parametrize(
    ("header", "recipient", "content_type"),
    [
        (" to=python<|channel|>analysis code", "python", "code"),
        ("<|channel|>commentary to=functions.f json", "functions.f", "json"),
        ("<|channel|>final <|constrain|>json", None, "<|constrain|>json"),  # upstream: recipient
        ("<|channel|>final json", None, "json"),  # upstream: recipient "json"
        ("<|channel|>commentary to=browser.search", "browser.search", None),
    ],
)
def test_content_types(enc: ha.Encoding, header: str, recipient: str, content_type: str):
    parser, events = run(enc, header + "<|message|>x<|end|>")
    [m] = parser.messages
    assert (m.recipient, m.content_type) == (recipient, content_type)
    assert not issues(events)


def test_tool_answer_and_named_user_with_role_none(enc: ha.Encoding):
    history = [
        ha.Message(role=ha.Role.USER, name="alice", content="hi"),
        ha.Message.assistant('{"q": 1}', "commentary", recipient="browser.search"),
        ha.Message.tool("browser.search", "results"),
        ha.Message.assistant("done"),
    ]
    toks = enc.render_conversation(history)
    assert parse_completion_tokens(enc, toks, None) == history


def test_a_stream_that_starts_with_its_own_start_is_fine_with_a_role(enc: ha.Encoding):
    parser, events = run(enc, "<|start|>assistant<|channel|>final<|message|>42<|return|>")
    assert [fields(m) for m in parser.messages] == [("assistant", None, "final", None, None, "42")]
    assert not issues(events)


def test_unknown_channel_is_kept_verbatim_without_an_issue(enc: ha.Encoding):
    parser, events = run(enc, "<|channel|>thinking<|message|>hmm<|end|>")
    assert parser.messages[0].channel == "thinking"
    assert not issues(events)


def test_empty_stream(enc: ha.Encoding):
    for role in (A, None):
        for strict in (False, True):
            parser = StreamParser(enc, role=role, strict=strict)
            assert parser.feed([]) == [] and parser.finish() == []
            assert parser.messages == []


# -- tolerance ------------------------------------------------------------------------------


def test_truncated_message_is_delivered_incomplete(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>final<|message|>The answer is 4")
    for cut in range(4, len(toks) + 1):
        parser = StreamParser(enc)
        parser.feed(toks[:cut])
        [end] = [e for e in parser.finish() if isinstance(e, MessageEnd)]
        assert end.stop == "incomplete"
        assert "The answer is 4".startswith(end.message.text)


def test_truncated_header_is_an_issue_with_its_tokens(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>fi")
    parser = StreamParser(enc)
    events = parser.feed(toks) + parser.finish()
    [issue] = issues(events)
    assert issue.tokens == tuple(toks[5:])
    assert "Unexpected EOS while waiting for message header" in issue.detail
    assert len(parser.messages) == 1


def test_text_before_the_first_header(enc: ha.Encoding):
    parser, events = run(
        enc, "I must refuse<|end|><|start|>assistant<|channel|>final<|message|>No."
    )
    assert [fields(m) for m in parser.messages] == [
        ("assistant", None, None, None, None, "I must refuse"),
        ("assistant", None, "final", None, None, "No."),
    ]
    assert "unexpected tokens remaining in message header" in issues(events)[0].detail


def test_text_glued_before_a_channel_is_a_message_of_its_own(enc: ha.Encoding):
    text = "Let me check.\n<|channel|>commentary to=functions.f<|message|>{}<|call|>"
    parser, _ = run(enc, text)
    assert [fields(m)[2:] for m in parser.messages] == [
        (None, None, None, "Let me check.\n"),
        ("commentary", "functions.f", None, "{}"),
    ]


def test_missing_start_between_messages_and_filler_words(enc: ha.Encoding):
    text = (
        '<|channel|>commentary to=functions.f<|message|>{"a":1}<|call|>commentary'
        '<|channel|>commentary to=functions.g<|message|>{"b":2}<|call|>'
        "<|channel|>analysis<|message|>x<|end|><|channel|>final<|message|>y<|return|>"
    )
    parser, events = run(enc, text)
    assert [(m.channel, m.recipient, m.text) for m in parser.messages] == [
        ("commentary", "functions.f", '{"a":1}'),
        ("commentary", "functions.g", '{"b":2}'),
        ("analysis", None, "x"),
        ("final", None, "y"),
    ]
    found = issues(events)
    assert any(enc.decode(list(i.tokens)) == "commentary" for i in found)
    assert sum("missing <|start|>" in i.detail for i in found) == 3


def test_stray_end_after_call_and_doubled_start(enc: ha.Encoding):
    text = (
        "<|channel|>commentary to=functions.f<|message|>{}<|call|><|end|>"
        "<|start|>assistant<|start|>assistant<|channel|>final<|message|>ok<|return|>"
    )
    parser, events = run(enc, text)
    assert [m.text for m in parser.messages] == ["{}", "ok"]
    assert [i.tokens for i in issues(events)] == [
        (T.END,),
        tuple(tokens(enc, "<|start|>assistant")),
    ]


def test_stop_token_variants(enc: ha.Encoding):
    text = (
        "<|channel|>analysis<|message|>a<|return|>"  # as openai-harmony's own fixture has it
        "<|start|>assistant to=functions.f<|channel|>commentary<|message|>{}<|end|>"
        "<|start|>assistant<|channel|>final<|message|>b<|end|>"
    )
    _, events = run(enc, text)
    assert [e.stop for e in events if isinstance(e, MessageEnd)] == ["return", "end", "end"]
    assert not issues(events)


def test_start_inside_text_ends_the_message(enc: ha.Encoding):
    text = "<|channel|>analysis<|message|>abc<|start|>assistant<|channel|>final<|message|>d"
    _parser, events = run(enc, text)
    ends = [e for e in events if isinstance(e, MessageEnd)]
    assert [(e.stop, e.message.text) for e in ends] == [("incomplete", "abc"), ("incomplete", "d")]
    assert "has no end token" in issues(events)[0].detail


def test_channel_inside_text_ends_the_message(enc: ha.Encoding):
    parser, _ = run(enc, "<|channel|>analysis<|message|>abc<|channel|>final<|message|>d<|end|>")
    assert [(m.channel, m.text) for m in parser.messages] == [("analysis", "abc"), ("final", "d")]


def test_unknown_special_tokens_are_issues_not_text(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>final<|message|>ab")
    toks += [200100, *enc.encode_ordinary("cd"), T.CONSTRAIN, -5, T.RETURN]
    parser = StreamParser(enc)
    events = parser.feed(toks) + parser.finish()
    assert parser.messages[0].text == "abcd"
    assert [i.tokens for i in issues(events)] == [(200100,), (T.CONSTRAIN,), (-5,)]


def test_abandoned_header_fragment(enc: ha.Encoding):
    text = "<|channel|>commentary to=assistant<|channel|>analysis<|message|>hm<|end|>"
    parser, events = run(enc, text)
    assert [(m.channel, m.recipient) for m in parser.messages] == [("analysis", None)]
    [issue] = issues(events)
    assert enc.decode(list(issue.tokens)) == "<|channel|>commentary to=assistant"


def test_duplicate_recipient(enc: ha.Encoding):
    text = "<|channel|>commentary to=functions.f to=functions.f<|message|>{}<|call|>"
    parser, events = run(enc, text)
    assert parser.messages[0].recipient == "functions.f"
    assert "another recipient" in issues(events)[0].detail


@pytest.mark.parametrize(
    ("header", "expected", "problem"),
    [
        ("<|channel|>", (None, None, None), "no channel value"),
        ("<|channel|>final<x", ("final", None, "<x"), None),
        ("<|channel|>commentary to=", ("commentary", None, None), "empty recipient"),
        ("<|channel|>commentary to=f <|constrain|>", ("commentary", "f", None), "without a"),
        (
            "<|channel|>commentary to=f <|constrain|>json <|constrain|>xml",
            ("commentary", "f", "<|constrain|>json"),
            "'<|constrain|>xml' (another content type)",
        ),
        ("<|channel|>commentary to=f json code", ("commentary", "f", "code"), "'json'"),
        (
            "<|channel|>commentary to=f <|constrain|>json x",
            ("commentary", "f", "<|constrain|>json"),
            "'x'",
        ),
        ("<|start|>assistant functions.f json", (None, "functions.f", "json"), None),
        ("<|start|><|channel|>final", ("final", None, None), "did not contain a role"),
        ("assistant<|channel|>final", ("final", None, None), None),  # the role, repeated
    ],
)
def test_odd_headers(enc: ha.Encoding, header: str, expected: tuple[object, ...], problem: str):
    parser, events = run(enc, header + "<|message|>x<|end|>")
    [m] = parser.messages
    assert (None if m.channel is None else str(m.channel), m.recipient, m.content_type) == expected
    found = [i.detail for i in issues(events)]
    assert found == [] if problem is None else problem in found[0]


def test_header_without_message_token(enc: ha.Encoding):
    text = (
        "<|channel|>analysis<|message|>a<|end|>"
        '<|start|>assistant<|channel|>final {"answer": 1}<|return|>'
        "<|start|>assistant<|channel|>??<|end|>"
    )
    parser, events = run(enc, text)
    assert [(m.channel, m.text) for m in parser.messages] == [
        ("analysis", "a"),
        ("final", '{"answer": 1}'),
    ]
    assert [e.stop for e in events if isinstance(e, MessageEnd)] == ["end", "return"]
    assert enc.decode(list(issues(events)[-1].tokens)) == "<|start|>assistant<|channel|>??<|end|>"


def test_plain_text_is_not_held_back(enc: ha.Encoding):
    """Output without any header streams after at most 64 tokens, not at the end."""
    words = enc.encode_ordinary(" word" * 300)
    parser = StreamParser(enc)
    seen = ""
    for k, t in enumerate(words):
        seen += "".join(e.text for e in parser.feed(t) if isinstance(e, ContentDelta))
        if k == 100:
            assert seen.startswith(" word word")
    parser.finish()
    assert parser.messages[0].text == " word" * 300 and parser.messages[0].channel is None


def test_prefilled_message_is_continued_by_feeding_the_prefill(enc: ha.Encoding):
    parser = StreamParser(enc)
    parser.feed(tokens(enc, "<|channel|>analysis<|message|>I'm"))
    parser.feed(tokens(enc, " thinking<|end|><|start|>assistant<|channel|>final<|message|>Hi"))
    parser.finish()
    assert [m.text for m in parser.messages] == ["I'm thinking", "Hi"]


# -- strict mode ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "position", "match"),
    [
        ("I must refuse<|end|>", 0, "unexpected tokens remaining in message header"),
        ("<|channel|>analysis I must refuse<|end|>", 0, "unexpected tokens remaining"),
        ("<|channel|>final<|message|>a<|end|>more", 5, "Unexpected token .* start token"),
        ("<|channel|>final<|message|>a<|call|><|end|>", 5, "Unexpected token 200007"),
        ("<|channel|>final<|message|>a<|end|><|start|>assistant", 5, "Unexpected EOS"),
        ("<|channel|>final<|message|>a<|reserved_200100|>", 4, "unexpected special token"),
    ],
)
def test_strict_errors_carry_the_position(enc: ha.Encoding, text: str, position: int, match: str):
    toks = tokens(enc, text)
    with pytest.raises(ha.ParseError, match=match) as info:
        parse_completion_tokens(enc, toks, A, strict=True)
    assert info.value.position == position
    assert f"at token {position}" in str(info.value)
    lenient = StreamParser(enc)
    lenient.feed(toks)
    lenient.finish()
    assert lenient.issue_spans[0][0] == position  # the first issue lenient mode reports


def test_strict_accepts_what_openai_harmony_accepts(enc: ha.Encoding):
    text = (
        "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|message|>no channel<|end|>"
        "<|start|>assistant<|channel|>thinking<|message|>odd channel<|end|>"
        "<|start|>assistant<|channel|>final<|message|>cut"
    )
    assert len(parse_completion_tokens(enc, tokens(enc, text), A, strict=True)) == 4


def test_encoding_parse_uses_the_parser(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>final<|message|>ok<|return|>")
    assert enc.parse_messages_from_completion_tokens(toks, A) == [ha.Message.assistant("ok")]
    with pytest.raises(ha.ParseError):
        enc.parse_messages_from_completion_tokens(toks[1:], None)


# -- UTF-8 ------------------------------------------------------------------------------------


def _deltas_per_token(enc: ha.Encoding, toks: list[int]) -> tuple[StreamParser, list[str]]:
    parser = StreamParser(enc, role=None)
    texts = []
    for t in toks:
        texts += [e.text for e in parser.feed(t) if isinstance(e, ContentDelta)]
    texts += [e.text for e in parser.finish() if isinstance(e, ContentDelta)]
    return parser, texts


def test_deltas_never_split_a_character(enc: ha.Encoding):
    text = "Müller, Γειά, שלום, नमस्ते, こんにちは, 你好 😊👋🏾👨‍👩‍👧‍👦🇺🇸"
    body = enc.encode_ordinary(text)
    assert any(enc.token_byte_table[t].decode("utf-8", "ignore") == "" for t in body)
    prefix = tokens(enc, "<|start|>assistant<|channel|>final<|message|>")
    parser, texts = _deltas_per_token(enc, prefix + body)
    assert "".join(texts) == text == parser.messages[0].text
    assert all("\ufffd" not in t for t in texts)


@pytest.mark.parametrize(
    ("middle", "expected"),
    [  # openai-harmony's own cases: 9552 is b" \xf0\x9f", the start of a 4-byte character
        ([9552, 9552], " \ufffd \ufffdworked"),
        ([9552, *range(0)], " \ufffdworked"),
    ],
)
def test_invalid_utf8_is_replaced_like_openai_harmony(
    enc: ha.Encoding, middle: list[int], expected: str
):
    toks = tokens(enc, "<|start|>assistant<|message|>") + middle + tokens(enc, "worked<|end|>")
    parser, texts = _deltas_per_token(enc, toks)
    assert parser.messages[0].text == expected == "".join(texts)


def test_character_cut_by_the_end_of_the_stream(enc: ha.Encoding):
    toks = [*tokens(enc, "<|start|>assistant<|message|>ok"), 9552]
    parser, texts = _deltas_per_token(enc, toks)
    assert parser.messages[0].text == "ok \ufffd" == "".join(texts)


# -- state and API ------------------------------------------------------------------------


def test_state_for_polling(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>commentary to=functions.f json<|message|>{}<|call|>")
    parser = StreamParser(enc)
    assert (parser.state, parser.current_role) == ("header", A)
    seen = []
    for t in toks:
        parser.process(t)
        seen.append((parser.state, parser.current_channel, parser.last_delta))
    assert seen[-3:] == [
        ("content", "commentary", None),
        ("content", "commentary", "{}"),
        ("expect_start", None, None),
    ]
    assert parser.current_text == "" and parser.tokens == toks
    assert parser.messages[0].content_type == "json"


def test_current_text_and_last_delta(enc: ha.Encoding):
    parser = StreamParser(enc)
    parser.feed(tokens(enc, "<|channel|>final<|message|>Hello"))
    parser.feed(9552)  # b" \xf0\x9f": a space, then half a character, held back
    assert parser.current_text == "Hello " and parser.last_delta == " "
    assert (parser.current_channel, parser.current_recipient) == ("final", None)
    parser.feed(enc.encode_ordinary(" world"))
    assert parser.current_text.endswith(" world") and parser.last_delta == "\ufffd world"


def test_feed_accepts_ints_iterables_and_index_types(enc: ha.Encoding):
    toks = tokens(enc, "<|channel|>final<|message|>abc<|return|>")

    class Index:
        def __init__(self, v: int) -> None:
            self.v = v

        def __index__(self) -> int:
            return self.v

    for feed in (
        lambda p: p.feed(toks),
        lambda p: p.feed(tuple(toks)),
        lambda p: p.feed(iter(toks)),
        lambda p: [p.feed(Index(t)) for t in toks],
    ):
        parser = StreamParser(enc)
        feed(parser)
        assert parser.messages == [ha.Message.assistant("abc")]


def test_reset(enc: ha.Encoding):
    parser = StreamParser(enc)
    parser.feed(tokens(enc, "<|channel|>final<|message|>one"))
    parser.reset()
    parser.feed(tokens(enc, "<|channel|>final<|message|>two<|return|>"))
    assert [m.text for m in parser.messages] == ["two"] and parser.tokens[0] == T.CHANNEL


def test_encoding_is_loaded_lazily():
    parser = ha.StreamParser()
    assert parser.encoding is None
    parser.feed(ha.load_encoding().encode("<|channel|>final<|message|>x", allowed_special="all"))
    assert parser.encoding is ha.load_encoding()
    parser.finish()
    assert [m.text for m in parser.messages] == ["x"]


def test_delta_objects_are_real_content_deltas(enc: ha.Encoding):
    parser = StreamParser(enc)
    parser.feed(tokens(enc, "<|channel|>final<|message|>"))
    [d] = parser.feed(enc.encode_ordinary("hi")[0])
    assert type(d) is ContentDelta and d == ContentDelta(0, "final", None, "hi")
    assert d.type == "content_delta" and hash(d) == hash(ContentDelta(0, "final", None, "hi"))
    with pytest.raises(AttributeError):
        d.text = "x"  # type: ignore[misc]


def test_parser_deltas_are_real_content_deltas_and_states_an_enum() -> None:
    from dataclasses import FrozenInstanceError

    from harmony_agent.format import _parse_tables, _parser

    # The per-token path builds deltas as writable drafts of the same layout.
    assert sorted(_parse_tables._Draft.__slots__) == sorted(ha.ContentDelta.__slots__)
    delta = _parse_tables.delta(1, "final", None, "x")
    assert type(delta) is ha.ContentDelta and delta == ha.ContentDelta(1, "final", None, "x")
    assert delta.type == "content_delta" and hash(delta) == hash(
        ha.ContentDelta(1, "final", None, "x")
    )
    with pytest.raises(FrozenInstanceError):
        delta.text = "y"
    parser = ha.StreamParser()
    assert parser.state is _parser.ParserState.HEADER and parser.state == "header"


def test_every_slot_is_set_in_init() -> None:
    from harmony_agent.format._parse_states import Machine

    for role in (None, ha.Role.ASSISTANT):
        parser = StreamParser(role=role)
        assert all(hasattr(parser, slot) for slot in Machine.__slots__)
    assert StreamParser.__slots__ == ()  # the state lives in Machine's slots
