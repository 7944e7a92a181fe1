"""run_many: concurrent episodes, ordered results and JSONL, errors recorded, progress."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.agent import arun_many
from harmony_agent.backends import Scripted


class Echo:
    """A script that answers each question upper-cased, slowly, counting runs in flight."""

    def __init__(self, encoding: ha.Encoding, delay: float = 0.01) -> None:
        self.encoding = encoding
        self.delay = delay
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, prompt: list[int]) -> str:
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        question = self.encoding.decode(prompt).rsplit("<|start|>user<|message|>", 1)[1]
        question = question.split("<|end|>")[0]
        if question == "boom":
            raise ha.BackendError("the server fell over")
        return f"<|channel|>final<|message|>{question.upper()}<|return|>"


async def test_runs_concurrently_and_keeps_the_order(encoding: ha.Encoding) -> None:
    echo = Echo(encoding)
    agent = ha.Agent(Scripted(echo))
    prompts = [f"q{i}" for i in range(12)]
    results = await arun_many(agent, prompts, concurrency=4, progress=False)
    assert [r.final_text for r in results] == [p.upper() for p in prompts]
    assert echo.peak == 4


async def test_jsonl_is_written_in_prompt_order_and_reloads(
    encoding: ha.Encoding, tmp_path: Path
) -> None:
    path = tmp_path / "evals" / "runs.jsonl"
    agent = ha.Agent(Scripted(Echo(encoding)))
    results = await arun_many(
        agent, ["a", "b", "c", "d"], concurrency=3, progress=False, jsonl=path
    )
    assert ha.RunResult.read_jsonl(path) == results
    assert [r.final_text for r in ha.RunResult.iter_jsonl(path)] == ["A", "B", "C", "D"]


async def test_a_failing_episode_is_recorded_not_raised(encoding: ha.Encoding) -> None:
    agent = ha.Agent(Scripted(Echo(encoding)))
    results = await arun_many(agent, ["a", "boom", "c"], concurrency=2, progress=False)
    assert [r.stop_reason for r in results] == ["final", "error", "final"]
    failed = results[1]
    assert failed.error == "BackendError: the server fell over"
    assert failed.final_text is None and failed.messages == ()
    assert failed.conversation.messages[-1] == ha.Message.user("boom")


async def test_raise_errors_cancels_the_rest(encoding: ha.Encoding) -> None:
    echo = Echo(encoding, delay=0.05)
    agent = ha.Agent(Scripted(echo))
    with pytest.raises(ha.BackendError, match="fell over"):
        await arun_many(
            agent, ["boom", "a", "b", "c"], concurrency=4, progress=False, raise_errors=True
        )
    assert echo.in_flight == 0


def test_the_blocking_form_shows_progress(
    encoding: ha.Encoding, capsys: pytest.CaptureFixture[str]
) -> None:
    agent = ha.Agent(Scripted(Echo(encoding, delay=0)))
    results = ha.run_many(agent, ["x", "y"], concurrency=2, progress=True)
    assert [r.final_text for r in results] == ["X", "Y"]
    err = capsys.readouterr().err
    assert "2/2" in err and "final=2" in err


def test_concurrency_must_be_positive(encoding: ha.Encoding) -> None:
    with pytest.raises(ValueError, match="concurrency"):
        ha.run_many(ha.Agent(Scripted([])), ["x"], concurrency=0, progress=False)
