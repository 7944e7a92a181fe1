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
in one process (for wall-clock use; callgrind wants 1).
"""

from __future__ import annotations

import argparse
import asyncio

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--chunk", type=int, default=0, help="tokens per chunk (0: whole)")
    parser.add_argument("--budget", type=int, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    encoding = ha.load_encoding()
    for _ in range(args.repeat):
        asyncio.run(run(encoding, args.steps, args.chunk, args.budget))


if __name__ == "__main__":
    main()
