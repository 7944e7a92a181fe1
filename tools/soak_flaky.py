"""Soak: many agent episodes against flaky loopback engine servers, and how each ended.

    .venv/bin/python tools/soak_flaky.py                 # 1,800 episodes, 450 per protocol
    .venv/bin/python tools/soak_flaky.py --episodes 200 --no-resume

Every request of the fake servers (vLLM, SGLang, llama.cpp, Ollama wire formats) fails
at random: 5% answer HTTP 503, 5% of streams are cut (a reset, a clean end without the
end marker, half an event, an EOF-delimited body; at a random token) and 3% turn to
garbage mid-stream. Each episode is a tool call then an answer. The report counts exact
answers, runs that ended ``interrupted``, runs that raised, and the one outcome that
must never happen: a ``final`` answer that is not the whole answer. Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402
from harmony_agent.testing import (  # noqa: E402
    Cut,
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeServer,
    FakeSGLangServer,
    FakeVLLMServer,
)
from harmony_agent.testing._fake_base import Generation, RequestError  # noqa: E402

ANSWER = "The answer is forty-two, and that is all there is to it."
CALL = (
    "<|channel|>analysis<|message|>Look it up.<|end|><|start|>assistant"
    '<|channel|>commentary to=functions.lookup <|constrain|>json<|message|>{"topic": "x"}<|call|>'
)
FINAL = f"<|channel|>final<|message|>{ANSWER}<|return|>"


@ha.tool
def lookup(topic: str) -> str:
    """Look a topic up.

    Args:
        topic: what to look up.
    """
    return f"{topic}: 42"


def flaky(server_class: type[FakeServer], rng: random.Random) -> FakeServer:
    """A fake server of ``server_class`` that fails like a bad network."""

    class Flaky(server_class):  # type: ignore[valid-type,misc]
        def run(self, prompt: list[int], options: Any) -> Generation:
            if rng.random() < 0.05:
                raise RequestError(503, "overloaded")
            return super().run(prompt, options)  # type: ignore[no-any-return]

    def plan(number: int, resumed: bool) -> Cut | None:
        roll = rng.random()
        if roll < 0.05:
            how = rng.choice(["reset", "end", "partial", "eof"])
            return Cut(rng.randrange(0, 40), how)  # type: ignore[arg-type]
        if roll < 0.08:
            return Cut(rng.randrange(0, 40), "garbage")
        return None

    encoding = ha.load_encoding()

    def model(prompt: list[int]) -> str:
        return FINAL if "x: 42" in encoding.decode(prompt[-40:]) else CALL

    return Flaky(model, cut=plan)  # type: ignore[no-any-return]


ENGINES: dict[str, tuple[type[FakeServer], Any]] = {
    "vllm": (FakeVLLMServer, lambda url: ha.backends.VLLM(url, model="openai/gpt-oss-20b")),
    "sglang": (FakeSGLangServer, lambda url: ha.backends.SGLang(url)),
    "llamacpp": (FakeLlamaCppServer, lambda url: ha.backends.LlamaCpp(url)),
    "ollama": (FakeOllamaServer, lambda url: ha.backends.Ollama(url, "openai/gpt-oss-20b")),
}


async def soak(name: str, episodes: int, resume: bool, seed: int) -> Counter[str]:
    server_class, make = ENGINES[name]
    outcomes: Counter[str] = Counter()
    with flaky(server_class, random.Random(seed)) as server:
        backend = make(server.base_url)
        backend.retry_backoff = 0.01
        policy = ha.ResumePolicy(tries=3, backoff=0.01) if resume else ha.ResumePolicy(tries=0)
        async with backend:
            agent = ha.Agent(backend, tools=[lookup], resume=policy)
            results = await ha.agent.arun_many(
                agent, ["q"] * episodes, concurrency=8, progress=False
            )
        for result in results:
            if result.stop_reason == "final":
                outcomes["exact answer" if result.final_text == ANSWER else "WRONG FINAL"] += 1
            else:
                outcomes[result.stop_reason] += 1
            outcomes["resumes"] += result.usage.resumes
        outcomes["cuts injected"] = server.cuts
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=450, help="episodes per protocol")
    parser.add_argument("--no-resume", action="store_true", help="turn resuming off")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    total: Counter[str] = Counter()
    started = time.perf_counter()
    for name in ENGINES:
        outcomes = asyncio.run(soak(name, args.episodes, not args.no_resume, args.seed))
        total += outcomes
        print(f"{name:9s} " + ", ".join(f"{k}: {v}" for k, v in sorted(outcomes.items())))
    elapsed = time.perf_counter() - started
    print("all       " + ", ".join(f"{k}: {v}" for k, v in sorted(total.items())))
    print(f"{args.episodes * len(ENGINES)} episodes in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
