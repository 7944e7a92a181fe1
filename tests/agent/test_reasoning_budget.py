"""The reasoning budget: a model that would think forever is made to answer."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator, Sequence

import pytest

import harmony_agent as ha
from harmony_agent.agent._reasoning import analysis_tokens
from harmony_agent.backends import VLLM, Scripted
from harmony_agent.format import _tokens as T
from harmony_agent.format._parser import StreamParser
from harmony_agent.testing import FakeVLLMServer

ANSWER = "I have thought enough: 42.<|return|>"
CALL = (
    "<|start|>assistant<|channel|>commentary to=functions.noop <|constrain|>json"
    "<|message|>{}<|call|>"
)


def forced_tail(encoding: ha.Encoding) -> list[int]:
    """What the loop appends to make the model answer."""
    return encoding.encode(
        "<|end|><|start|>assistant<|channel|>final<|message|>", allowed_special="all"
    )


def final_header(encoding: ha.Encoding) -> list[int]:
    return encoding.encode("<|channel|>final<|message|>", allowed_special="all")


class Thinker:
    """A callable backend whose model never stops reasoning, unless made to answer."""

    def __init__(self, encoding: ha.Encoding) -> None:
        self.encoding = encoding
        self.header = final_header(encoding)
        self.thought = encoding.encode_ordinary(" hmm")
        self.prompts: list[list[int]] = []
        self.closed = 0

    def __call__(self, prompt: list[int], params: ha.SamplingParams) -> Iterator[int]:
        self.prompts.append(prompt)
        if prompt[-len(self.header) :] == self.header:
            return iter(self.encoding.encode(ANSWER, allowed_special="all"))
        return self._forever()

    def _forever(self) -> Iterator[int]:
        try:
            yield from self.encoding.encode(
                "<|channel|>analysis<|message|>Let me think.", allowed_special="all"
            )
            while True:
                yield from self.thought
        finally:
            self.closed += 1


def test_a_model_that_thinks_forever_is_made_to_answer(encoding: ha.Encoding) -> None:
    thinker = Thinker(encoding)
    result = ha.Agent(thinker, reasoning_budget=50).run("What is the answer?")
    assert result.stop_reason == "final"
    assert result.final_text == "I have thought enough: 42."
    assert result.turns == 1  # one completion, continued after the forced header
    assert thinker.closed == 1  # the endless stream was closed
    first, second = thinker.prompts
    assert second[: len(first)] == first
    assert second[-len(forced_tail(encoding)) :] == forced_tail(encoding)
    assert result.usage.reasoning_tokens == 51  # it passed 50 by one
    assert result.usage.forced_answers == 1
    analysis, answer = result.messages
    assert (analysis.channel, answer.channel) == ("analysis", "final")
    assert analysis.text.startswith("Let me think. hmm hmm")
    # the forced header is not counted as generated, the model's tokens are
    header = encoding.encode("<|channel|>analysis<|message|>", allowed_special="all")
    answer_tokens = encoding.encode(ANSWER, allowed_special="all")
    assert result.usage.completion_tokens == len(header) + 51 + len(answer_tokens)


@pytest.mark.parametrize(("chunk_size", "thought"), [(1, 21), (5, 22), (1000, 300)])
def test_scripted_backends_in_any_chunking(
    encoding: ha.Encoding, chunk_size: int, thought: int
) -> None:
    thinking = "<|channel|>analysis<|message|>" + " step" * 300
    backend = Scripted([thinking, "The answer is 7.<|return|>"], chunk_size=chunk_size)
    result = ha.Agent(backend, reasoning_budget=20).run("?")
    assert result.final_text == "The answer is 7."
    assert result.usage.forced_answers == 1
    # checked per chunk: 3 header tokens, then chunks of 5 reach 2, 7, ... 22 > 20; a
    # chunk of 1000 tokens is read whole
    assert result.usage.reasoning_tokens == thought
    assert backend.prompts[1][-len(forced_tail(encoding)) :] == forced_tail(encoding)


def test_within_the_budget_nothing_is_forced(encoding: ha.Encoding) -> None:
    text = (
        "<|channel|>analysis<|message|>Short thought.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Hi.<|return|>"
    )
    result = ha.Agent(Scripted([text]), reasoning_budget=100).run("?")
    assert result.final_text == "Hi." and result.usage.forced_answers == 0
    assert result.usage.reasoning_tokens == len(encoding.encode_ordinary("Short thought."))


@pytest.mark.parametrize("chunk_size", [1, 3, 10_000])
def test_reasoning_tokens_do_not_depend_on_chunking(encoding: ha.Encoding, chunk_size: int) -> None:
    text = (
        "<|channel|>analysis<|message|>First part.<|end|>"
        "<|start|>assistant<|channel|>commentary<|message|>Looking.<|end|>"
        "<|start|>assistant<|channel|>analysis<|message|>Second, longer part of it.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.<|return|>"
    )
    result = ha.Agent(Scripted([text], chunk_size=chunk_size)).run("?")
    expected = len(encoding.encode_ordinary("First part.")) + len(
        encoding.encode_ordinary("Second, longer part of it.")
    )
    assert result.usage.reasoning_tokens == expected


def test_code_sent_from_the_analysis_channel_is_not_reasoning(encoding: ha.Encoding) -> None:
    text = (
        "<|channel|>analysis<|message|>Compute it.<|end|>"
        "<|start|>assistant<|channel|>analysis to=python code<|message|>"
        + "x = 1\n" * 50
        + "print(x)<|call|>"
    )
    backend = Scripted([text, "<|channel|>final<|message|>1<|return|>"])
    result = ha.Agent(backend, reasoning_budget=10).run("?")  # (no python: an error answer)
    assert result.final_text == "1" and result.usage.forced_answers == 0
    assert result.usage.reasoning_tokens == len(encoding.encode_ordinary("Compute it."))


def test_analysis_tokens_per_chunk_add_up(encoding: ha.Encoding) -> None:
    tokens = encoding.encode(
        "<|channel|>analysis<|message|>a b c<|end|><|start|>assistant<|channel|>final<|message|>x",
        allowed_special="all",
    )
    parser = StreamParser(encoding)
    total, thinking = 0, False
    for i in range(0, len(tokens), 2):
        chunk = tokens[i : i + 2]
        counted, thinking = analysis_tokens(chunk, parser.feed(chunk), thinking)
        total += counted
    assert total == len(encoding.encode_ordinary("a b c")) and not thinking


def test_the_run_budget_spans_completions(encoding: ha.Encoding) -> None:
    @ha.tool
    def noop() -> str:
        """Does nothing."""
        return "ok"

    think = "<|channel|>analysis<|message|>" + " why" * 30 + "<|end|>"
    backend = Scripted([think + CALL, think + CALL, "Fine.<|return|>"])
    agent = ha.Agent(backend, tools=[noop], run_reasoning_budget=45)
    result = agent.run("?")
    assert result.stop_reason == "final" and result.final_text == "Fine."
    # 30 tokens, then the second completion may think 15 more: it is cut at 16
    assert result.usage.reasoning_tokens == 46
    assert result.usage.forced_answers == 1
    assert backend.prompts[2][-len(forced_tail(encoding)) :] == forced_tail(encoding)


def test_a_spent_run_budget_starts_the_next_completion_on_final(encoding: ha.Encoding) -> None:
    @ha.tool
    def noop() -> str:
        """Does nothing."""
        return "ok"

    think = "<|channel|>analysis<|message|>" + " why" * 10 + "<|end|>"
    backend = Scripted([think + CALL, "Answered at once.<|return|>"])
    result = ha.Agent(backend, tools=[noop], run_reasoning_budget=10).run("?")
    assert result.final_text == "Answered at once."
    assert result.usage.forced_answers == 1 and result.usage.reasoning_tokens == 10
    start = [T.START, *encoding.encode_ordinary("assistant")]
    assert backend.prompts[1][-len(start) - 3 :] == start + final_header(encoding)


def test_a_forced_answer_still_respects_max_tokens() -> None:
    thinking = "<|channel|>analysis<|message|>" + " step" * 100
    backend = Scripted([thinking])
    agent = ha.Agent(backend, reasoning_budget=10, sampling=ha.SamplingParams(max_tokens=14))
    result = agent.run("?")
    assert result.stop_reason == "max_tokens"
    assert result.usage.forced_answers == 1 and result.usage.completion_tokens == 14
    assert len(backend.calls) == 1


async def test_one_big_chunk_from_an_async_backend_overshoots_by_that_chunk(
    encoding: ha.Encoding,
) -> None:
    thought = encoding.encode("<|channel|>analysis<|message|>" + " x" * 200, allowed_special="all")

    class Burst:
        calls = 0

        async def stream(
            self, prompt: list[int], params: ha.SamplingParams
        ) -> AsyncIterator[Sequence[int]]:
            self.calls += 1
            if self.calls == 1:
                yield thought
                yield thought[3:]
            else:
                yield encoding.encode("Ok.<|return|>", allowed_special="all")

    result = await ha.Agent(Burst(), reasoning_budget=5).arun("?")
    assert result.final_text == "Ok." and result.usage.reasoning_tokens == 200


def test_negative_budgets_are_refused() -> None:
    with pytest.raises(ValueError, match="reasoning_budget must be 0"):
        ha.Agent(Scripted([]), reasoning_budget=-1)
    with pytest.raises(ValueError, match="run_reasoning_budget must be 0"):
        ha.agent.Limits(run_reasoning_budget=-5)


def test_over_http_the_server_sees_the_request_aborted(encoding: ha.Encoding) -> None:
    header = final_header(encoding)
    endless = "<|channel|>analysis<|message|>" + " more" * 5000

    def model(prompt: list[int]) -> str:
        return ANSWER if prompt[-len(header) :] == header else endless

    with FakeVLLMServer(model, token_delay=0.001) as server:
        backend = VLLM(server.base_url, model=server.model_name)
        result = ha.Agent(backend, reasoning_budget=30).run("?")
        deadline = time.monotonic() + 5
        while server.disconnects < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert server.disconnects == 1
        assert server.requests_seen == 2
    assert result.stop_reason == "final" and result.final_text == "I have thought enough: 42."
    assert result.usage.forced_answers == 1
    assert 31 <= result.usage.reasoning_tokens < 100  # a chunk or two past the budget
