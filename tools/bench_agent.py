"""Agent loop overhead per step: everything but the model and the tools.

A zero-latency backend replays pre-tokenized completions (analysis, then a call to an
async ``add`` tool that returns at once; the last step answers on ``final``), so what is
timed is the loop itself: prompt bookkeeping, parsing the new tokens, argument
validation, rendering the tool answer, events. Target: under 1 ms per step, flat as the
trajectory grows (the prompt is appended to, never re-rendered, and only new tokens are
parsed).

    python tools/bench_agent.py                 # 10/50/100/200 steps, whole/16/1-token chunks
    python tools/bench_agent.py --steps 100 --chunks 1
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import AsyncIterator, Sequence

import harmony_agent as ha


class ZeroLatency:
    """Replays token completions instantly, in chunks of ``chunk`` tokens (0: whole)."""

    def __init__(self, completions: Sequence[list[int]], chunk: int) -> None:
        self.completions = completions
        self.chunk = chunk
        self.calls = 0

    async def stream(
        self, prompt_tokens: list[int], params: ha.SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        tokens = self.completions[self.calls]
        self.calls += 1
        size = self.chunk or len(tokens)
        for i in range(0, len(tokens), size):
            yield tokens[i : i + size]


@ha.tool
async def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first term.
        b: the second term.
    """
    return a + b


def trajectory(encoding: ha.Encoding, steps: int) -> list[list[int]]:
    """``steps - 1`` tool-calling completions and one final answer."""
    out = []
    for i in range(steps - 1):
        text = (
            f"<|channel|>analysis<|message|>Step {i}: I still need the sum of {i} and {i + 1},"
            " so I will call the add tool with both numbers.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.add <|constrain|>json"
            f'<|message|>{{"a": {i}, "b": {i + 1}}}<|call|>'
        )
        out.append(encoding.encode(text, allowed_special="all"))
    final = "<|channel|>final<|message|>All sums are done; the last one was large.<|return|>"
    out.append(encoding.encode(final, allowed_special="all"))
    return out


async def one_run(encoding: ha.Encoding, completions: list[list[int]], chunk: int) -> float:
    backend = ZeroLatency(completions, chunk)
    agent = ha.Agent(backend, tools=[add], max_turns=len(completions) + 1, encoding=encoding)
    start = time.perf_counter()
    result = await agent.arun("Add many numbers.")
    elapsed = time.perf_counter() - start
    assert result.stop_reason == "final" and result.turns == len(completions), result.stop_reason
    return elapsed


async def measure(encoding: ha.Encoding, steps: int, chunk: int, repeat: int) -> float:
    completions = trajectory(encoding, steps)
    await one_run(encoding, completions, chunk)  # warm caches
    return min([await one_run(encoding, completions, chunk) for _ in range(repeat)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, nargs="+", default=[10, 50, 100, 200])
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 16, 1])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    encoding = ha.load_encoding()
    tokens = statistics.mean(len(c) for c in trajectory(encoding, 10)[:-1])
    print(f"{tokens:.0f} generated tokens per tool-calling step; best of {args.repeat} runs\n")
    print(f"{'chunk':>8} " + " ".join(f"{s:>9} st" for s in args.steps) + "   (ms per step)")
    for chunk in args.chunks:
        row = []
        for steps in args.steps:
            seconds = asyncio.run(measure(encoding, steps, chunk, args.repeat))
            row.append(seconds / steps * 1e3)
        label = "whole" if chunk == 0 else f"{chunk} tok"
        print(f"{label:>8} " + " ".join(f"{ms:>12.3f}" for ms in row))


if __name__ == "__main__":
    main()
