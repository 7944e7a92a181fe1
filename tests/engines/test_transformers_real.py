"""``Transformers(model)`` for real: a tiny random gpt-oss model generating on CPU.

The model is a real ``GptOssForCausalLM`` (random weights, the real vocabulary size);
where a test needs harmony, a logits processor picks the tokens of a script while the
model still runs every forward pass, so the backend and the agent loop see real
``generate`` streaming.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Iterator
from typing import Any

import pytest

import harmony_agent as ha
from harmony_agent.agent._backend import SamplingParams
from harmony_agent.format import _tokens as T

pytestmark = pytest.mark.engines
torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

from harmony_agent.backends import Transformers  # noqa: E402
from tests._helpers import lookup  # noqa: E402
from tests.engines._tiny import VOCAB_SIZE, gpt_oss_model  # noqa: E402

CALL = (
    "<|channel|>commentary to=functions.lookup <|constrain|>json"
    '<|message|>{"topic": "life"}<|call|>'
)
FINAL = "<|channel|>final<|message|>Forty-two.<|return|>"


class Script(transformers.LogitsProcessor):  # type: ignore[misc]
    """Chooses the next token from a script (the model's own logits are computed and dropped)."""

    def __init__(self, pick: Any) -> None:
        self.pick = pick
        self.start: int | None = None

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        if self.start is None:
            self.start = int(input_ids.shape[1])
        script = self.pick(input_ids[0].tolist()[: self.start])
        step = int(input_ids.shape[1]) - self.start
        forced = torch.full_like(scores, float("-inf"))
        forced[:, script[min(step, len(script) - 1)]] = 0.0
        return forced


class Scripted(Transformers):
    """A real model whose choices follow a script of the prompt."""

    def __init__(self, model: Any, pick: Any) -> None:
        super().__init__(model)
        self.pick = pick

    def generate_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        kwargs = super().generate_kwargs(params)
        kwargs["logits_processor"] = transformers.LogitsProcessorList([Script(self.pick)])
        return kwargs


def answered(prompt: list[int]) -> bool:
    return "life: 42" in ha.load_encoding().decode(prompt)


def harmony(text: str) -> list[int]:
    return ha.load_encoding().encode(text, allowed_special="all")


def prompt() -> list[int]:
    return harmony("<|start|>user<|message|>What is life?<|end|><|start|>assistant")


@pytest.fixture(scope="module")
def model() -> Iterator[Any]:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny model: more threads only contend
    yield gpt_oss_model()
    torch.set_num_threads(threads)


async def collect(backend: Transformers, params: SamplingParams) -> list[list[int]]:
    return [list(chunk) async for chunk in backend.stream(prompt(), params)]


async def test_streams_token_ids_from_real_generate(model: Any) -> None:
    backend = Transformers(model)
    chunks = await collect(backend, SamplingParams(max_tokens=12, seed=0))
    tokens = [t for c in chunks for t in c]
    assert len(chunks) == 12 and len(tokens) == 12  # one chunk per generated token
    assert all(0 <= t < VOCAB_SIZE for t in tokens)
    assert model.config.vocab_size == VOCAB_SIZE and model.config.model_type == "gpt_oss"


@pytest.mark.parametrize("stop", [T.RETURN, T.CALL])
async def test_stops_on_the_harmony_stop_tokens(model: Any, stop: int) -> None:
    script = [*harmony("<|channel|>final<|message|>Hi"), stop, *harmony(" and more")]
    backend = Scripted(model, lambda prompt: script)
    tokens = [t for c in await collect(backend, SamplingParams(max_tokens=40)) for t in c]
    assert tokens == script[: script.index(stop) + 1]


async def test_greedy_is_deterministic(model: Any) -> None:
    backend = Transformers(model)
    first = await collect(backend, SamplingParams(max_tokens=8, temperature=0.0))
    second = await collect(backend, SamplingParams(max_tokens=8, temperature=0.0))
    assert first == second


async def test_the_agent_calls_a_tool_and_answers(model: Any) -> None:
    backend = Scripted(model, lambda p: harmony(FINAL if answered(p) else CALL))
    agent = ha.Agent(backend, tools=[lookup], sampling=SamplingParams(max_tokens=64))
    result = await agent.arun("What is life?")
    assert result.stop_reason == "final" and result.final_text == "Forty-two."
    assert any(m.recipient == "functions.lookup" for m in result.messages)


async def test_closing_the_stream_stops_generate(model: Any) -> None:
    backend = Transformers(model)
    stream = backend.stream(prompt(), SamplingParams(max_tokens=2000))
    async for _ in stream:
        break
    await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(200):
        if not _generating():
            break
        await asyncio.sleep(0.05)
    assert not _generating()
    assert len(await collect(backend, SamplingParams(max_tokens=3))) == 3  # the lock is free


def _generating() -> bool:
    return any(t.name == "harmony-agent-transformers" for t in threading.enumerate())


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


async def test_many_runs_in_a_row_do_not_leak(model: Any) -> None:
    backend = Scripted(model, lambda p: harmony(FINAL if answered(p) else CALL))
    agent = ha.Agent(backend, tools=[lookup], sampling=SamplingParams(max_tokens=64))
    for _ in range(5):  # warm up allocator and caches
        await agent.arun("What is life?")
    gc.collect()
    before, threads = _rss_mib(), threading.active_count()
    for _ in range(20):
        result = await agent.arun("What is life?")
        assert result.stop_reason == "final"
    gc.collect()
    assert threading.active_count() <= threads
    assert _rss_mib() - before < 64, "memory grew by more than 64 MiB over 20 runs"
