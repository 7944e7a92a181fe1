"""RunResult: JSON round trip, JSONL files, usage arithmetic."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import harmony_agent as ha
from harmony_agent.agent import Usage
from harmony_agent.backends import Scripted

EPISODE = [
    "<|channel|>analysis<|message|>Look it up.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.lookup <|constrain|>json"
    '<|message|>{"word": "harmony"}<|call|>',
    "<|channel|>final<|message|>Agreement.<|return|>",
]


@ha.tool
def lookup(word: str) -> dict[str, str]:
    """Look a word up."""
    return {"word": word, "meaning": "agreement"}


@pytest.fixture
def result() -> ha.RunResult:
    agent = ha.Agent(Scripted(EPISODE), tools=[lookup], instructions="Define words.")
    return agent.run("What is harmony?")


def test_json_round_trip_loses_nothing(result: ha.RunResult) -> None:
    text = result.model_dump_json()
    again = ha.RunResult.model_validate_json(text)
    assert again == result
    assert again.conversation.messages == result.conversation.messages
    assert isinstance(again.conversation.messages[0].content, ha.SystemContent)
    assert ha.RunResult.model_validate(result.model_dump()) == result
    assert again.model_dump_json() == text


def test_tool_calls_and_usage(result: ha.RunResult) -> None:
    assert [m.recipient for m in result.tool_calls] == ["functions.lookup"]
    assert result.usage.total_tokens == result.usage.prompt_tokens + result.usage.completion_tokens
    assert Usage(prompt_tokens=1, completion_tokens=2) + Usage(prompt_tokens=3) == Usage(
        prompt_tokens=4, completion_tokens=2
    )


def test_jsonl_files(result: ha.RunResult, tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    path.write_text(result.model_dump_json() + "\n\n" + result.model_dump_json() + "\n")
    assert ha.RunResult.read_jsonl(path) == [result, result]


def test_a_saved_conversation_that_breaks_a_rule_still_reloads() -> None:
    odd = ha.Message.assistant("{}", channel="final", recipient="functions.x")
    saved = {
        "final_text": None,
        "messages": [odd.model_dump()],
        "conversation": {"messages": [odd.model_dump()]},
        "stop_reason": "no_final",
    }
    loaded = ha.RunResult.model_validate(saved)
    assert loaded.conversation.messages == (odd,)
    with pytest.raises(ValidationError, match="expected a Conversation"):
        ha.RunResult.model_validate({**saved, "conversation": 3})
    with pytest.raises(ValidationError):
        ha.RunResult.model_validate({**saved, "stop_reason": "bored"})
