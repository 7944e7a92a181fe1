"""What recording costs the agent loop: per step, recording off, to memory, to a file.

The zero-latency trajectory of ``tools/bench_agent.py`` (an analysis message and a tool
call per step, 50 steps), with whole completions and one token per chunk. Wall clock
(best of N runs) by default; ``--instructions`` counts instructions per step with
valgrind's callgrind instead (the machine's load does not matter): each case runs in a
child process once with 1 and once with 4 measured runs, and the difference over 150
steps is what one step costs, start-up and warm-up cancelled out. ``--root`` measures
another checkout the same way (e.g. the commit before recording existed; ``on`` then
needs its ``record=``).

    python tools/bench_record.py                      # ms per step
    python tools/bench_record.py --instructions       # instructions per step (slow)
    python tools/bench_record.py --instructions --modes off --root /tmp/main
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODES = ("off", "memory", "file")


async def _one(mode: str, completions: list[list[int]], chunk: int, folder: str) -> float:
    from bench_agent import ZeroLatency, add  # type: ignore[import-not-found]

    import harmony_agent as ha

    options = {}
    if mode == "memory":
        options["record"] = ha.Recorder()
    elif mode == "file":
        options["record"] = ha.Recorder(os.path.join(folder, "runs.jsonl"))
    steps = len(completions)
    agent = ha.Agent(ZeroLatency(completions, chunk), tools=[add], max_turns=steps + 1, **options)
    start = time.perf_counter()
    result = await agent.arun("Add many numbers.")
    elapsed = time.perf_counter() - start
    assert result.stop_reason == "final" and result.turns == steps, result.stop_reason
    return elapsed


def child(mode: str, chunk: int, steps: int, runs: int) -> list[float]:
    """Warm up once, then time ``runs`` runs (what a measured child process does)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_agent
    from bench_agent import trajectory

    import harmony_agent as ha

    completions = trajectory(ha.load_encoding(), steps)
    with tempfile.TemporaryDirectory() as folder:

        async def go() -> list[float]:
            await _one(mode, completions, chunk, folder)
            return [await _one(mode, completions, chunk, folder) for _ in range(runs)]

        return asyncio.run(go())


def instructions(root: Path, mode: str, chunk: int, steps: int, runs: int) -> int:
    """Instructions of a child process that measures ``runs`` runs under callgrind."""
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(root))
    args = [sys.executable, str(Path(__file__).resolve()), "--child", mode, str(chunk)]
    command = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *args]
    done = subprocess.run(
        [*command, str(steps), str(runs)], cwd=root, env=env, capture_output=True, text=True
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"callgrind failed ({done.returncode}): {done.stderr[-2000:]}")
    return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=4, metavar=("MODE", "CHUNK", "STEPS", "RUNS"))
    parser.add_argument("--instructions", action="store_true", help="count with callgrind")
    parser.add_argument("--modes", nargs="+", default=list(MODES), choices=MODES)
    parser.add_argument("--chunks", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout to measure")
    args = parser.parse_args()
    if args.child:
        mode, chunk, steps, runs = args.child
        child(mode, int(chunk), int(steps), int(runs))
        return
    unit = "instructions" if args.instructions else "ms"
    print(f"agent loop per step, {args.steps} steps, recording " + "/".join(args.modes))
    print(f"{'chunk':>8} " + " ".join(f"{m:>14}" for m in args.modes) + f"   ({unit} per step)")
    for chunk in args.chunks:
        row = []
        for mode in args.modes:
            if args.instructions:
                one = instructions(args.root, mode, chunk, args.steps, 1)
                four = instructions(args.root, mode, chunk, args.steps, 4)
                row.append(f"{(four - one) / (3 * args.steps):>14,.0f}")
            else:
                best = min(child(mode, chunk, args.steps, args.repeat))
                row.append(f"{best / args.steps * 1e3:>14.3f}")
        label = "whole" if chunk == 0 else f"{chunk} tok"
        print(f"{label:>8} " + " ".join(row))


if __name__ == "__main__":
    main()
