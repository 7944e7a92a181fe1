"""Preambles: the user-visible notes gpt-oss writes before calling tools, as events."""

from __future__ import annotations

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted

STEP = (
    "<|channel|>analysis<|message|>Need the weather first. SECRET-REASONING<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>Checking the weather in Oslo.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.weather <|constrain|>json"
    '<|message|>{"city": "Oslo"}<|call|>'
)
ANSWER = (
    "<|channel|>analysis<|message|>It said cold. SECRET-REASONING<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Oslo is cold today: -3 °C.<|return|>"
)


@ha.tool
def weather(city: str) -> str:
    """Today's weather.

    Args:
        city: the city.
    """
    return "-3 °C, snow"


async def _events(chunk_size: int = 1) -> list[ha.events.AgentEvent]:
    agent = ha.Agent(Scripted([STEP, ANSWER], chunk_size=chunk_size), tools=[weather])
    return [event async for event in agent.stream("Weather in Oslo?")]


@pytest.mark.parametrize("chunk_size", [1, 4, 10_000])
async def test_a_preamble_is_its_own_event_right_after_its_message(chunk_size: int) -> None:
    events = await _events(chunk_size)
    preambles = [e for e in events if isinstance(e, ha.Preamble)]
    assert preambles == [ha.Preamble(1, "Checking the weather in Oslo.", 1)]
    at = events.index(preambles[0])
    before = events[at - 1]
    assert isinstance(before, ha.MessageEnd) and before.index == 1
    assert before.message.text == "Checking the weather in Oslo."
    # it comes before the call it announces
    assert at < next(i for i, e in enumerate(events) if isinstance(e, ha.ToolCallStart))


async def test_visible_text_shows_preambles_only_when_asked() -> None:
    events = await _events()
    with_preambles = ha.visible_text(events, include_preambles=True)
    assert with_preambles == "Checking the weather in Oslo.\n\nOslo is cold today: -3 °C."
    assert ha.visible_text(events) == "Oslo is cold today: -3 °C."
    assert "SECRET-REASONING" not in with_preambles and 'Oslo"}' not in with_preambles
    ui = ha.VisibleTextFilter(include_preambles=True)
    assert "".join(ui.feed(e) for e in events) == with_preambles
    result = events[-1]
    assert isinstance(result, ha.RunEnd)
    assert ha.visible_text(result.result.messages, include_preambles=True) == with_preambles


async def test_tool_calls_and_analysis_are_not_preambles() -> None:
    text = (
        "<|channel|>commentary to=functions.weather <|constrain|>json"
        '<|message|>{"city": "Oslo"}<|call|>'
    )
    agent = ha.Agent(Scripted([text, ANSWER]), tools=[weather])
    events = [event async for event in agent.stream("?")]
    assert not any(isinstance(e, ha.Preamble) for e in events)
    assert ha.visible_text(events, include_preambles=True) == "Oslo is cold today: -3 °C."


def test_preamble_is_exported_with_the_events() -> None:
    assert ha.events.Preamble is ha.Preamble
    assert ha.Preamble(0, "x", 1).type == "preamble"
