"""Instruction counts (valgrind's callgrind) for the parse, stream, render and agent
workloads: a figure that a loaded machine does not blur, to compare two commits.

    python tools/count_instructions.py              # every workload
    python tools/count_instructions.py stream parse # some of them

Each workload runs under callgrind once with one repetition and once with three, after
the same set-up (loading the encoding, building the tokens, one warm-up), with the
garbage collector off; half the difference is the cost of one repetition, without the
set-up. Needs ``valgrind`` on the
PATH. To compare with another commit, run a copy of this file placed in that commit's
tree (``git archive REV | tar -x -C /tmp/rev``, then ``tools/`` there).

Workloads:

- ``stream``: ``tools/bench_parser.py``'s 20k-token tool run fed one token at a time,
  reading every delta;
- ``parse``: ``parse_messages_from_completion_tokens`` on ``tools/bench.py``'s 20k-token
  completion and on the tool run, whole;
- ``render``: ``render_conversation_for_completion`` of ``tools/bench.py``'s 200-message
  trajectory, warm caches;
- ``agent``: ``tools/bench_agent.py``'s 50-step run, whole completions and one token per
  chunk.
"""

from __future__ import annotations

import asyncio
import gc
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

TOOLS = Path(__file__).resolve().parent
ROOT = TOOLS.parent
WORKLOADS = ("stream", "parse", "render", "agent-whole", "agent-1tok")


def _workload(name: str) -> Callable[[], object]:
    """Set up ``name`` and return the function that runs it once."""
    sys.path[:0] = [str(ROOT), str(TOOLS)]
    import bench
    import bench_agent
    import bench_parser

    import harmony_agent as ha

    enc = ha.load_encoding()
    if name == "stream":
        tokens = bench_parser.tool_run(enc)

        def stream() -> None:
            parser = ha.StreamParser(enc, role=ha.Role.ASSISTANT)
            for t in tokens:
                for event in parser.feed(t):
                    if event.type == "content_delta":
                        _ = event.text
            parser.finish()

        return stream
    if name == "parse":
        runs = [bench.completion_tokens(enc), bench_parser.tool_run(enc)]
        return lambda: [
            enc.parse_messages_from_completion_tokens(r, ha.Role.ASSISTANT) for r in runs
        ]
    if name == "render":
        messages = bench.trajectory(200)
        return lambda: enc.render_conversation_for_completion(messages)
    if name in ("agent-whole", "agent-1tok"):
        completions = bench_agent.trajectory(enc, 50)
        chunk = 0 if name == "agent-whole" else 1
        return lambda: asyncio.run(bench_agent.one_run(enc, completions, chunk))
    raise SystemExit(f"unknown workload {name!r}; one of {', '.join(WORKLOADS)}")


def _child(name: str, repeat: int) -> None:
    run = _workload(name)
    # No garbage collection while counting: when a collection of the whole heap (the
    # encoding's tables) falls inside the counted runs, it adds tens of millions of
    # instructions that have nothing to do with the workload.
    gc.collect()
    gc.freeze()
    gc.disable()
    run()  # warm-up: caches filled the same way in both counts
    for _ in range(repeat):
        run()


def _count(name: str, repeat: int) -> int:
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--child",
            name,
            str(repeat),
        ],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", done.stderr)
    if found is None:
        raise SystemExit(f"no callgrind summary for {name}:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def main(argv: list[str]) -> None:
    if argv[:1] == ["--child"]:
        _child(argv[1], int(argv[2]))
        return
    print(f"instructions per repetition (callgrind), tree {ROOT}")
    for name in argv or WORKLOADS:
        one, three = _count(name, 1), _count(name, 3)
        print(f"  {name:<12} {(three - one) / 2:>16,.0f}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
