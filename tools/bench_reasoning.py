"""Does the reasoning-budget check cost anything per step? Instruction counts, not time.

Runs the agent-loop trajectory of ``tools/bench_agent.py`` (analysis, a tool call, an
answer per step, zero-latency backend) once, with or without ``reasoning_budget`` (set
high enough never to trigger, so only the check is measured), in whole completions or
one token per chunk. Count its instructions with callgrind at two trajectory lengths;
the difference divided by the difference in steps is the loop's cost per step::

    for steps in 20 120; do
      PYTHONHASHSEED=0 PYTHONPATH=. valgrind --tool=callgrind --callgrind-out-file=/dev/null \\
        .venv/bin/python tools/bench_reasoning.py --steps $steps --chunk 1 --budget 1000000
    done

Run it with ``PYTHONPATH`` pointing at another checkout (without ``--budget``) to
compare with a version that has no budget at all. ``--repeat`` runs it several times
in one process (callgrind wants 1). ``--compare`` prints wall-clock milliseconds per
step, budget off and on, whole and one token per chunk (best of 5; noisy on a loaded
machine: trust the instruction counts)::

    python tools/bench_reasoning.py --compare
"""

from __future__ import annotations

import argparse
import asyncio
import time

from bench_agent import ZeroLatency, add, trajectory  # tools/ is the script's directory

import harmony_agent as ha


async def run(encoding: ha.Encoding, steps: int, chunk: int, budget: int | None) -> None:
    completions = trajectory(encoding, steps)
    options = {} if budget is None else {"reasoning_budget": budget}
    agent = ha.Agent(
        ZeroLatency(completions, chunk),
        tools=[add],
        max_turns=steps + 1,
        encoding=encoding,
        **options,  # type: ignore[arg-type]
    )
    result = await agent.arun("Add many numbers.")
    assert result.stop_reason == "final" and result.turns == steps, result.stop_reason


def compare(encoding: ha.Encoding, steps: int) -> None:
    """Milliseconds per step, budget off and on (best of 5 runs each)."""
    print(f"{'chunk':>8} {'off':>9} {'on':>9}   (ms per step, {steps} steps)")
    for chunk in (0, 1):
        row = []
        for budget in (None, 1_000_000):
            asyncio.run(run(encoding, steps, chunk, budget))  # warm up
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter()
                asyncio.run(run(encoding, steps, chunk, budget))
                best = min(best, time.perf_counter() - start)
            row.append(best / steps * 1e3)
        label = "whole" if chunk == 0 else "1 tok"
        print(f"{label:>8} {row[0]:>9.3f} {row[1]:>9.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=0, help="tokens per chunk (0: whole)")
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--compare", action="store_true", help="wall clock, off vs on")
    args = parser.parse_args()
    encoding = ha.load_encoding()
    if args.compare:
        compare(encoding, max(args.steps, 50))
        return
    for _ in range(args.repeat):
        asyncio.run(run(encoding, args.steps, args.chunk, args.budget))


if __name__ == "__main__":
    main()
