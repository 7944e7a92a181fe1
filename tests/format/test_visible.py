"""The chain-of-thought filter: visible_text, VisibleTextFilter, strip_reasoning."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harmony_agent as ha
from harmony_agent.events import ContentDelta, MessageEnd, MessageStart, ToolCallStart
from harmony_agent.format._parser import StreamParser
from harmony_agent.format._visible import VisibleTextFilter, strip_reasoning, visible_text

ENC = ha.load_encoding()

TURN = [
    ha.Message.assistant("SECRET thoughts about the user", "analysis"),
    ha.Message.assistant("Let me look that up.", "commentary"),
    ha.Message.assistant('{"city": "SECRET-ARGS"}', "commentary", recipient="functions.weather"),
    ha.Message.tool("functions.weather", "SECRET tool output"),
    ha.Message.assistant("SECRET more thinking", "analysis"),
    ha.Message.assistant("It is sunny in Paris.", "final"),
]


def stream_events(messages: list[ha.Message], chunk: int = 1) -> list[Any]:
    """Render ``messages`` as one completion and parse it back, ``chunk`` tokens at a time."""
    tokens = ENC.render_conversation(messages, ha.RenderConfig(auto_drop_analysis=False))
    parser = StreamParser(ENC, role=None)
    events: list[Any] = []
    for i in range(0, len(tokens), chunk):
        events += parser.feed(tokens[i : i + chunk])
    return events + parser.finish()


def test_only_the_answer_by_default():
    assert visible_text(TURN) == "It is sunny in Paris."
    assert visible_text(stream_events(TURN)) == "It is sunny in Paris."


def test_preambles_on_request():
    expected = "Let me look that up.\n\nIt is sunny in Paris."
    assert visible_text(TURN, include_preambles=True) == expected
    assert visible_text(stream_events(TURN), include_preambles=True) == expected
    assert visible_text(TURN, True, separator=" ") == "Let me look that up. It is sunny in Paris."


def test_events_and_messages_are_not_counted_twice():
    events = stream_events(TURN)
    ends = [e for e in events if isinstance(e, MessageEnd)]
    assert visible_text(ends) == "It is sunny in Paris."  # message ends alone
    assert visible_text([*events, ToolCallStart(TURN[2], 1)]) == "It is sunny in Paris."
    deltas = [e for e in events if isinstance(e, ContentDelta)]
    assert visible_text(deltas) == "It is sunny in Paris."  # deltas alone: role unknown
    assert visible_text(TURN[-1]) == "It is sunny in Paris."


def test_streaming_filter_yields_text_as_it_arrives():
    ui = VisibleTextFilter(include_preambles=True)
    pieces = [ui.feed(e) for e in stream_events(TURN)]
    shown = [p for p in pieces if p]
    assert len(shown) > 3  # token by token, not at the end
    assert "".join(shown) == ui.text == visible_text(TURN, include_preambles=True)
    assert "SECRET" not in ui.text


def test_indexes_restart_with_every_completion():
    ui = VisibleTextFilter()
    first = stream_events([ha.Message.assistant("think", "analysis"), ha.Message.assistant("A")])
    second = stream_events([ha.Message.assistant("B"), ha.Message.assistant("x", "analysis")])
    assert ui.feed(first) + ui.feed(second) == "A\n\nB"


def test_unlabeled_text_is_hidden_unless_asked_for():
    text = "We must think.<|end|><|start|>assistant<|channel|>final<|message|>Hi"
    tokens = ENC.encode(text, allowed_special="all")
    parser = StreamParser(ENC)
    events = parser.feed(tokens) + parser.finish()
    assert visible_text(events) == "Hi" == visible_text(parser.messages)
    assert visible_text(events, include_unlabeled=True) == "We must think.\n\nHi"


def test_unknown_channels_and_final_calls_are_hidden():
    odd = [
        ha.Message.assistant("x", "thinking"),
        ha.Message.assistant("{}", "final", recipient="functions.f"),
        ha.Message.user("hello"),
    ]
    assert visible_text(odd) == ""


def test_iter_and_aiter():
    ui = VisibleTextFilter()
    assert "".join(ui.iter(stream_events(TURN, chunk=7))) == "It is sunny in Paris."

    async def events():
        for e in stream_events(TURN):
            yield e

    async def collect() -> str:
        return "".join([t async for t in VisibleTextFilter().aiter(events())])

    import asyncio

    assert asyncio.run(collect()) == "It is sunny in Paris."


def test_strip_reasoning():
    history = [ha.Message.system(), ha.Message.user("Weather in Paris?"), *TURN]
    stripped = strip_reasoning(history)
    assert [m.text for m in stripped[2:]] == ["Let me look that up.", "It is sunny in Paris."]
    assert stripped[:2] == history[:2]
    assert strip_reasoning(history, include_preambles=False)[2:] == [TURN[-1]]
    assert len(history) == 8  # the raw turn is untouched


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20
)


@st.composite
def turns(draw: st.DrawFn) -> list[ha.Message]:
    out = []
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["analysis", "preamble", "call", "tool", "final"]))
        text = draw(_text)
        if kind == "analysis":
            out.append(ha.Message.assistant("\x00" + text, "analysis"))
        elif kind == "preamble":
            out.append(ha.Message.assistant(text, "commentary"))
        elif kind == "call":
            out.append(ha.Message.assistant("\x00" + text, "commentary", recipient="functions.f"))
        elif kind == "tool":
            out.append(ha.Message.tool("functions.f", "\x00" + text))
        else:
            out.append(ha.Message.assistant(text))
    return out


@settings(max_examples=100, deadline=None)
@given(messages=turns(), chunk=st.integers(1, 12), preambles=st.booleans())
def test_stream_equals_batch_and_hides_all_reasoning(
    messages: list[ha.Message], chunk: int, preambles: bool
):
    """\\x00 marks text that must never be shown; it appears in no visible message."""
    ui = VisibleTextFilter(preambles)
    events = stream_events(messages, chunk)
    streamed = "".join(ui.feed(e) for e in events)
    assert streamed == visible_text(messages, preambles) == visible_text(events, preambles)
    assert "\x00" not in streamed
    assert not [e for e in events if isinstance(e, MessageStart) and e.role is None]


@pytest.mark.parametrize("value", [None, 3, "text"])
def test_non_events_are_ignored(value: Any):
    assert VisibleTextFilter().feed(value) == ""
