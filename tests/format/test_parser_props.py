"""Properties of the parser, checked on random token streams (hypothesis).

- Lenient mode never raises; every token is in a message span or an issue.
- Messages, issues and message texts do not depend on chunking (one by one, random
  chunks, all at once, or ``process``), and deltas add up to each message's text.
- Strict mode raises exactly where lenient mode reports its first issue.
- On well-formed streams, messages and the per-token polled state equal openai-harmony's.

``PARSER_EXAMPLES=5000`` runs more examples per property (default 150).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harmony_agent as ha
from harmony_agent.events import ContentDelta, MessageEnd, MessageStart, ParseIssue
from harmony_agent.format import _tokens as T
from harmony_agent.format._parser import StreamParser

ENC = ha.load_encoding()
A = ha.Role.ASSISTANT
SETTINGS = settings(
    max_examples=int(os.environ.get("PARSER_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

# -- token soups --------------------------------------------------------------------------

_SNIPPETS = [
    "<|start|>assistant",
    "<|start|>",
    "<|channel|>analysis<|message|>",
    "<|channel|>final",
    "<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>",
    " to=functions.f",
    "<|start|>functions.f to=assistant<|channel|>commentary<|message|>",
    "<|constrain|>json",
    "<|message|>",
    "<|end|>",
    "<|call|>",
    "<|return|>",
    "commentary",
    "assistant",
    " json",
    " code",
    "user:alice",
    '{"a": 1}',
    "Hello world",
    " naïve 😊 你好",
    "\n",
    "  ",
    "<|channel|>",
    " to=",
    " to=functions.g code extra",
    "final<x",
    " lorem ipsum" * 40,  # longer than any header: plain text is streamed, not held
]
_PIECES = [ENC.encode(s, allowed_special="all") for s in _SNIPPETS]
_ODD = [
    T.STARTOFTEXT,
    T.ENDOFTEXT,
    200018,
    200100,
    T.LAST_SPECIAL,
    9552,  # b" \xf0\x9f": half a character
    *[t for t in ENC.encode_ordinary("👨‍👩‍👧 Привет") if len(ENC.token_byte_table[t]) == 1][:3],
    -1,
    10**9,
]
_piece = st.one_of(st.sampled_from(_PIECES), st.sampled_from(_ODD).map(lambda t: [t]))
soups = st.lists(_piece, max_size=40).map(lambda ps: [t for p in ps for t in p])
roles = st.sampled_from([A, None])


def _chunks(tokens: list[int], sizes: list[int]) -> list[list[int]]:
    out, i, k = [], 0, 0
    while i < len(tokens):
        size = sizes[k % len(sizes)] if sizes else len(tokens)
        out.append(tokens[i : i + size])
        i, k = i + size, k + 1
    return out


def parse(tokens: list[int], role: ha.Role | None, chunks: list[list[int]] | None = None):
    """Feed ``tokens`` (one by one when ``chunks`` is None); return parser and events."""
    parser = StreamParser(ENC, role=role)
    events: list[ha.Event] = []
    for chunk in chunks if chunks is not None else tokens:
        events += parser.feed(chunk)
    events += parser.finish()
    return parser, events


def _structure(parser: StreamParser, events: list[ha.Event]) -> Any:
    """Everything but delta boundaries."""
    return (
        parser.messages,
        parser.spans,
        parser.issue_spans,
        [e for e in events if not isinstance(e, ContentDelta)],
    )


def check_accounting(tokens: list[int], parser: StreamParser) -> None:
    covered = [False] * len(tokens)
    last = 0
    for start, stop in parser.spans:
        assert last <= start <= stop <= len(tokens)
        last = stop
        covered[start:stop] = [True] * (stop - start)
    for (start, stop), issue in zip(parser.issue_spans, parser.issues, strict=True):
        assert issue.tokens == tuple(tokens[start:stop])
        covered[start:stop] = [True] * (stop - start)
    assert all(covered), [i for i, c in enumerate(covered) if not c]
    assert parser.tokens == tokens


def check_deltas(parser: StreamParser, events: list[ha.Event]) -> None:
    texts: dict[int, str] = {}
    open_index = None
    for e in events:
        if isinstance(e, MessageStart):
            assert open_index is None and e.index == len(texts)
            open_index, texts[e.index] = e.index, ""
        elif isinstance(e, ContentDelta):
            assert e.index == open_index and e.text
            texts[e.index] += e.text
        elif isinstance(e, MessageEnd):
            assert e.index == open_index
            assert texts[e.index] == e.message.text
            open_index = None
    assert [texts[i] for i in range(len(parser.messages))] == [m.text for m in parser.messages]


@SETTINGS
@given(tokens=soups, role=roles, sizes=st.lists(st.integers(1, 9), max_size=6))
def test_any_token_soup(tokens: list[int], role: ha.Role | None, sizes: list[int]):
    one_by_one = parse(tokens, role)
    chunked = parse(tokens, role, _chunks(tokens, sizes))
    at_once = parse(tokens, role, [tokens])
    for parser, events in (one_by_one, chunked, at_once):
        check_accounting(tokens, parser)
        check_deltas(parser, events)
    assert _structure(*one_by_one) == _structure(*chunked) == _structure(*at_once)

    polled = StreamParser(ENC, role=role)
    for t in tokens:
        polled.process(t)
    polled.finish()
    assert polled.messages == one_by_one[0].messages

    parser = one_by_one[0]
    strict = StreamParser(ENC, role=role, strict=True)
    try:
        strict.feed(tokens)
        strict.finish()
    except ha.ParseError as e:
        assert parser.issues, "strict mode raised where lenient mode saw nothing wrong"
        assert e.position == parser.issue_spans[0][0]
        if not e.args[0].startswith("Unexpected token"):  # text where <|start|> belongs
            assert e.args[0].startswith(parser.issues[0].detail)
    else:
        assert not parser.issues
        assert strict.messages == parser.messages


@SETTINGS
@given(tokens=soups, role=roles, cut=st.integers(0, 200))
def test_truncation_keeps_what_was_received(tokens: list[int], role: ha.Role | None, cut: int):
    """A prefix of a stream parses to a prefix of its messages, plus the one cut short."""
    full, _ = parse(tokens, role, [tokens])
    part, events = parse(tokens[:cut], role, [tokens[:cut]])
    check_accounting(tokens[:cut], part)
    done = [m for m, (_, stop) in zip(full.messages, full.spans, strict=True) if stop <= cut]
    ends = [e for e in events if isinstance(e, MessageEnd)]
    assert part.messages[: len(done)] == done or any(e.stop == "incomplete" for e in ends)


# -- well-formed streams against openai-harmony ---------------------------------------------

_RECIPIENTS = ["functions.get_weather", "browser.search", "python", "lookup"]
_TYPES = [None, "<|constrain|>json", "json", "code"]


@st.composite
def wellformed(draw: st.DrawFn, role_none: bool) -> tuple[list[int], bool]:
    """Tokens of 1-5 messages as models and renderers write them; and whether the stream
    was cut inside the last message's text."""
    tokens: list[int] = []
    count = draw(st.integers(1, 5))
    for k in range(count):
        last = k == count - 1
        if draw(st.booleans()) and (role_none or k > 0):
            author = draw(st.sampled_from(_RECIPIENTS))
            header, stop = f"<|start|>{author} to=assistant<|channel|>commentary", T.END
        else:
            channel = draw(st.sampled_from(["analysis", "commentary", "final"]))
            recipient = draw(st.none() | st.sampled_from(_RECIPIENTS))
            header = "" if k == 0 and not role_none else "<|start|>assistant"
            stop = T.END
            if recipient is None:
                header += f"<|channel|>{channel}"
            else:
                where = draw(st.sampled_from(["role", "channel"]))
                if where == "role":
                    header += f" to={recipient}<|channel|>{channel}"
                else:
                    header += f"<|channel|>{channel} to={recipient}"
                content_type = draw(st.sampled_from(_TYPES))
                if content_type == "<|constrain|>json":
                    header += draw(st.sampled_from(["", " "])) + content_type
                elif content_type:
                    header += " " + content_type
                stop = draw(st.sampled_from([T.CALL, T.CALL, T.END]))
            if last and recipient is None and draw(st.booleans()):
                stop = T.RETURN
        text = draw(st.text(max_size=40))
        tokens += [*ENC.encode(header, allowed_special="all"), T.MESSAGE]
        tokens += [*ENC.encode_ordinary(text), stop]
    cut = draw(st.integers(0, 3))
    if cut:  # cut the stream inside the last message's text (or just its end token)
        body = tokens[::-1].index(T.MESSAGE)
        tokens = tokens[: len(tokens) - min(cut, body)]
    return tokens, bool(cut)


def _theirs(oh: Any, oe: Any, tokens: list[int], role: ha.Role | None) -> tuple[Any, list[Any]]:
    parser = oh.StreamableParser(oe, None if role is None else oh.Role(role.value))
    polled = []
    for t in tokens:
        parser.process(t)
        role_now = parser.current_role
        polled.append(
            (
                parser.last_content_delta,
                parser.current_channel,
                parser.current_recipient,
                parser.current_content_type,
                None if role_now is None else role_now.value,
                parser.state.value,
            )
        )
    parser.process_eos()
    return parser, polled


_STATES = {"expect_start": "ExpectStart", "header": "Header", "content": "Content"}


@pytest.mark.parametrize("role", [A, None], ids=["assistant", "none"])
def test_well_formed_streams_equal_openai_harmony(oh: Any, oh_encoding: Any, role: Any):
    @SETTINGS
    @given(case=wellformed(role is None))
    def check(case: tuple[list[int], bool]) -> None:
        tokens, _ = case
        theirs, their_polls = _theirs(oh, oh_encoding, tokens, role)
        ours = StreamParser(ENC, role=role)
        our_polls = []
        for t in tokens:
            ours.process(t)
            our_polls.append(
                (
                    ours.last_delta,
                    ours.current_channel,
                    ours.current_recipient,
                    ours.current_content_type,
                    None if ours.current_role is None else ours.current_role.value,
                    _STATES[ours.state],
                )
            )
        ours.finish()
        assert ours.messages == [ha.Message.from_openai_harmony(m) for m in theirs.messages]
        assert our_polls == their_polls
        assert not ours.issues
        strict = ENC.parse_messages_from_completion_tokens(tokens, role, strict=True)
        assert strict == ours.messages

    check()


def test_truncated_header_fails_in_both(oh: Any, oh_encoding: Any):
    tokens = ENC.encode("<|channel|>final<|message|>a<|end|><|start|>assist", allowed_special="all")
    with pytest.raises(oh.HarmonyError, match="Unexpected EOS"):
        oh_encoding.parse_messages_from_completion_tokens(tokens, oh.Role.ASSISTANT)
    with pytest.raises(ha.ParseError, match="Unexpected EOS"):
        ENC.parse_messages_from_completion_tokens(tokens, A)
    parser = StreamParser(ENC)
    parser.feed(tokens)
    assert isinstance(parser.finish()[-1], ParseIssue)
