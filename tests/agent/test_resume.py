"""A cut connection never passes for an answer: the agent resumes it, or says it was cut.

Every test runs the real agent over a real HTTP backend against a fake engine server
that breaks its streams (``harmony_agent.testing.Cut``), for all four wire protocols.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import harmony_agent as ha
from harmony_agent.agent._backend import Finish
from harmony_agent.backends import Resuming, Scripted
from harmony_agent.testing import Cut, FakeServer
from tests._helpers import lookup
from tests.backends.conftest import ENGINES, Engine

ANSWER = "The answer is forty-two, and that is all there is to it."
FINAL = (
    "<|channel|>analysis<|message|>Easy.<|end|>"
    f"<|start|>assistant<|channel|>final<|message|>{ANSWER}<|return|>"
)
CALL = (
    "<|channel|>commentary to=functions.lookup <|constrain|>json"
    '<|message|>{"topic": "life"}<|call|>'
)
NO_RESUME = ha.ResumePolicy(tries=0)
FAST = ha.ResumePolicy(tries=3, backoff=0.0)


def model(prompt: list[int]) -> str:
    """Call the tool first; answer once its result is in the prompt."""
    encoding = ha.load_encoding()
    return FINAL if "life: 42" in encoding.decode(prompt) else CALL


@asynccontextmanager
async def make_agent(
    engine: Engine, server: FakeServer, resume: ha.ResumePolicy, **kw: Any
) -> AsyncIterator[ha.Agent]:
    kw = {"retry_backoff": 0.0, "max_retries": 1, **kw}
    async with engine.make(server.base_url, **kw) as backend:
        yield ha.Agent(backend, tools=[lookup], resume=resume)


def cut_fresh(after: int, how: str = "reset") -> Callable[[int, bool], Cut | None]:
    """Cut every stream that is not itself a resume: each completion breaks once."""
    return lambda number, resumed: None if resumed else Cut(after, how)  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES, ids=str)
@pytest.mark.parametrize("how", ["reset", "end", "partial", "eof", "garbage"])
async def test_every_stream_cut_once_is_resumed_exactly(
    engine: Engine, serve: Callable[..., FakeServer], how: str
) -> None:
    server = serve(engine.server, model, cut=cut_fresh(6, how))
    deltas: dict[int, str] = {}
    ends: list[ha.MessageEnd] = []
    async with make_agent(engine, server, FAST) as agent:
        async for event in agent.stream("What is it all about?"):
            if isinstance(event, ha.ContentDelta) and event.channel == "final":
                deltas[event.index] = deltas.get(event.index, "") + event.text
            elif isinstance(event, ha.MessageEnd):
                ends.append(event)
            elif isinstance(event, ha.RunEnd):
                result = event.result
    assert (result.stop_reason, result.final_text, result.error) == ("final", ANSWER, None)
    assert list(deltas.values()) == [ANSWER]  # no text repeated or lost across the resume
    assert [end.stop for end in ends] == ["call", "end", "return"]
    assert result.usage.resumes == 2 and server.cuts == 2 and server.resumed == 2
    encoding = ha.load_encoding()
    generated = len(encoding.encode(CALL + FINAL, allowed_special="all"))
    assert result.usage.completion_tokens == generated  # each token counted once
    assert not result.incomplete


@pytest.mark.parametrize("engine", ENGINES, ids=str)
async def test_without_resume_the_run_says_it_was_cut(
    engine: Engine, serve: Callable[..., FakeServer], tmp_path: Path
) -> None:
    encoding = ha.load_encoding()
    cut = len(encoding.encode(FINAL, allowed_special="all")) - 6  # inside the answer
    # every run's second completion (the answer) is cut
    server = serve(
        engine.server, model, cut=lambda number, resumed: Cut(cut) if number % 2 == 0 else None
    )
    async with make_agent(engine, server, NO_RESUME) as agent:
        events = [event async for event in agent.stream("What is it all about?")]
        jsonl = tmp_path / "runs.jsonl"
        [again] = await ha.agent.arun_many(agent, ["q"], progress=False, jsonl=jsonl)
    result = events[-1].result  # type: ignore[attr-defined]

    assert result.stop_reason == "interrupted"
    assert result.final_text is None  # the half answer is never the answer
    assert result.incomplete
    assert server.base_url in result.error and "before the server said" in result.error
    partial = result.messages[-1]
    assert partial.channel == "final" and ANSWER.startswith(partial.text) and partial.text
    assert partial.text != ANSWER
    last_end = [e for e in events if isinstance(e, ha.MessageEnd)][-1]
    assert last_end.stop == "incomplete" and last_end.message == partial
    # run_many ends the same way, and its record says so
    record = json.loads(jsonl.read_text())
    assert record["stop_reason"] == again.stop_reason == "interrupted"
    assert record["incomplete"] is True and record["final_text"] is None and record["error"]


@pytest.mark.parametrize("engine", ENGINES, ids=str)
async def test_a_stall_past_the_read_timeout_is_resumed(
    engine: Engine, serve: Callable[..., FakeServer]
) -> None:
    server = serve(engine.server, model, cut=cut_fresh(4, "stall"))
    timeout = httpx.Timeout(0.3, connect=5.0)
    async with make_agent(engine, server, FAST, timeout=timeout) as agent:
        result = await agent.arun("q")
    assert (result.stop_reason, result.final_text, result.usage.resumes) == ("final", ANSWER, 2)


@pytest.mark.parametrize("engine", ENGINES, ids=str)
async def test_a_server_that_dies_ends_the_run_interrupted(
    engine: Engine, serve: Callable[..., FakeServer]
) -> None:
    server = serve(
        engine.server, model, cut=lambda number, resumed: Cut(8, "die") if number == 2 else None
    )
    async with make_agent(engine, server, FAST) as agent:
        result = await agent.arun("q")
    assert result.stop_reason == "interrupted" and result.final_text is None
    assert result.usage.resumes == 3  # every try met a closed port
    assert "3 resume(s) failed" in result.error and server.base_url in result.error
    assert [m.recipient for m in result.messages[:2]] == ["functions.lookup", "assistant"]


@pytest.mark.parametrize("engine", ENGINES, ids=str)
async def test_a_dead_server_before_anything_raises(engine: Engine) -> None:
    """Nothing was produced: the caller sees the error itself, in one line."""
    with engine.server(model) as server:
        url = server.base_url  # closed on exit: nothing listens there any more
    async with engine.make(url, retry_backoff=0.0, max_retries=0) as backend:
        agent = ha.Agent(backend)
        with pytest.raises(ha.BackendError, match=r"127\.0\.0\.1"):
            await agent.arun("q")
        [record] = await ha.agent.arun_many(agent, ["q"], progress=False)
    assert record.stop_reason == "error" and "127.0.0.1" in (record.error or "")


@pytest.mark.parametrize("engine", ENGINES, ids=str)
async def test_a_server_length_limit_is_max_tokens_never_final(
    engine: Engine, serve: Callable[..., FakeServer]
) -> None:
    """The server stops for length below our max_tokens: the cut answer is not final."""
    encoding = ha.load_encoding()
    limit = len(encoding.encode(FINAL, allowed_special="all")) - 4
    server = serve(engine.server, model, length_limit=limit)
    async with engine.make(server.base_url) as backend:
        result = await ha.Agent(backend, tools=[lookup]).arun("q")
    assert result.stop_reason == "max_tokens" and result.incomplete
    assert result.messages[-1].text != ANSWER


# -- the property: exact answer or a non-final stop, wherever the cut falls --------------
CUT_POINT = st.integers(min_value=0, max_value=60)


@pytest.mark.parametrize("engine", ENGINES, ids=str)
@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    after=CUT_POINT,
    how=st.sampled_from(["reset", "end", "partial", "eof", "garbage"]),
    resume=st.booleans(),
)
def test_cut_anywhere_never_passes_for_an_answer(
    engine: Engine, after: int, how: str, resume: bool
) -> None:
    """Wherever one stream is cut (headers, body, right before the stop token, the end
    marker) the run delivers exactly the uncut answer, or ends with a non-final stop."""
    plan = lambda number, resumed: Cut(after, how) if number == 2 else None  # type: ignore[arg-type]  # noqa: E731

    async def run(server: FakeServer) -> ha.RunResult:
        async with make_agent(engine, server, FAST if resume else NO_RESUME) as agent:
            return await agent.arun("q")

    with engine.server(model, cut=plan) as server:
        result = asyncio.run(run(server))
    if result.stop_reason == "final":
        assert result.final_text == ANSWER and not result.incomplete
    else:
        assert result.stop_reason == "interrupted" and result.final_text is None
    if resume:  # resuming always recovers from a single cut
        assert (result.stop_reason, result.final_text) == ("final", ANSWER)


# -- any backend, not just HTTP ----------------------------------------------------------
class Flaky:
    """A plain backend that breaks after ``cut`` tokens each time, like a bad network."""

    def __init__(self, text: str, cut: int, breaks: int) -> None:
        self.tokens = ha.load_encoding().encode(text, allowed_special="all")
        self.cut, self.breaks = cut, breaks
        self.prompts: list[list[int]] = []

    async def stream(self, prompt: list[int], params: ha.SamplingParams) -> Any:
        self.prompts.append(list(prompt))
        done = len(prompt) - len(self.prompts[0])  # tokens the caller already has
        rest = self.tokens[done:]
        if self.breaks:
            self.breaks -= 1
            for token in rest[: self.cut]:
                yield [token]
            raise ha.StreamInterrupted("flaky", received=self.cut)
        for token in rest:
            yield [token]
        yield Finish()


async def test_resuming_wraps_any_backend() -> None:
    flaky = Flaky(FINAL, cut=5, breaks=2)
    params = ha.SamplingParams(max_tokens=100)
    chunks = [c async for c in Resuming(flaky, FAST).stream([1, 2, 3], params)]
    assert [t for c in chunks for t in c] == flaky.tokens
    assert [len(p) for p in flaky.prompts] == [3, 8, 13]


async def test_resumes_are_bounded_and_the_error_says_so() -> None:
    flaky = Flaky(FINAL, cut=3, breaks=10)
    agent = ha.Agent(flaky, resume=ha.ResumePolicy(tries=2, backoff=0.0))
    result = await agent.arun("q")
    assert result.stop_reason == "interrupted" and result.usage.resumes == 2
    assert "2 resume(s) failed" in (result.error or "")
    assert len(flaky.prompts) == 3


async def test_remaining_max_tokens_shrink_across_resumes() -> None:
    flaky = Flaky(FINAL, cut=4, breaks=1)
    seen: list[int] = []

    class Recording:
        async def stream(self, prompt: list[int], params: ha.SamplingParams) -> Any:
            seen.append(params.max_tokens)
            async for chunk in flaky.stream(prompt, params):
                yield chunk

    agent = ha.Agent(Recording(), sampling=ha.SamplingParams(max_tokens=200), resume=FAST)
    assert (await agent.arun("q")).final_text == ANSWER
    assert seen == [200, 196]


async def test_scripted_backends_are_untouched() -> None:
    """Backends that never say how they finished keep today's stop-token restoring."""
    result = await ha.Agent(Scripted([FINAL.removesuffix("<|return|>")])).arun("q")
    assert (result.stop_reason, result.final_text) == ("final", ANSWER)
