"""``harmony_agent.testing``'s replay helpers: a folder of recordings as regression tests."""

from __future__ import annotations

from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.testing import areplay, replay, replay_cases
from tests.recorded import RECORDINGS, weather_agent, weather_tool

CASES = replay_cases(RECORDINGS)


@pytest.mark.parametrize("run", CASES)
def test_recorded_runs_replay_without_drift(run):
    """The committed recordings (made against a fake vLLM server) still replay."""
    [result] = replay(run, weather_agent)
    assert result.stop_reason == run.stop_reason == "final"


def test_cases_are_named_after_their_files():
    assert [case.id for case in CASES] == [
        "batch/three-0",
        "batch/three-1",
        "batch/three-2",
        "oslo",
        "two_cities",
        "unknown_city",
    ]
    with pytest.raises(ha.RecordingError, match="does not exist"):
        replay_cases(RECORDINGS / "missing")


def test_a_changed_tool_fails_with_the_drift_decoded():
    def changed(backend):
        return weather_agent(backend, tool=weather_tool({"Oslo": 5, "Lisbon": 19}))

    with pytest.raises(AssertionError) as failed:
        replay(RECORDINGS / "two_cities.jsonl", changed)
    message = str(failed.value)
    assert message.startswith(
        "replay of run 0 of " + str(RECORDINGS / "two_cities.jsonl") + " ('Compare Oslo and "
        "Lisbon.') differs from the recording:\n- replay drift in recorded run 0, step 1:"
    )
    assert "in the tool message from functions.get_weather" in message
    assert '  recorded: …Oslo", "celsius": ⟦4⟧}<|end|><|start|>assistant' in message
    assert '  actual:   …Oslo", "celsius": ⟦5⟧}<|end|><|start|>assistant' in message
    assert "(1 more drift(s) after it" in message


def test_a_changed_outcome_fails_even_without_drift(tmp_path: Path):
    [run] = ha.Recording.load(RECORDINGS / "oslo.jsonl")
    edited = run.model_copy(update={"final_text": "Oslo is 40 °C."})
    with pytest.raises(AssertionError) as failed:
        replay(edited, weather_agent)
    assert "- final_text: recorded 'Oslo is 40 °C.', now 'Oslo is 4 °C.'" in str(failed.value)
    fewer_turns = weather_agent  # the agent now stops after one completion
    with pytest.raises(AssertionError) as failed:
        replay(run, lambda backend: fewer_turns(backend, max_turns=1))
    message = str(failed.value)
    assert "- the agent asked for 1 completion(s); 2 were recorded" in message
    assert "- stop_reason: recorded 'final', now 'max_turns'" in message


async def test_areplay_in_async_tests():
    results = await areplay(RECORDINGS / "batch" / "three.jsonl", weather_agent)
    assert [r.final_text for r in results] == [
        "Cairo is 31 °C.",
        "Lisbon is 19 °C.",
        "Oslo is 4 °C, Cairo is 31 °C.",
    ]
