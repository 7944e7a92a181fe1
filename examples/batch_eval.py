"""Evaluate an agent on a small dataset with ``ha.run_many``: concurrent runs, JSONL, a score.

``run_many`` runs many episodes at once (``concurrency`` in flight), never raises for one
bad episode (it becomes a result with ``stop_reason="error"``), writes each result to a
JSONL file as soon as it and all before it are done, and shows a progress bar with the
stop reasons. Offline the "model" is a scripted stand-in that gets one question wrong and
loops on another; set ``HARMONY_AGENT_URL`` to a vLLM server to evaluate gpt-oss::

    python examples/batch_eval.py
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import harmony_agent as ha

DATASET = [("What is 12 * 12?", "144"), ("What is 7 + 35?", "42"), ("What is 9 * 9?", "81"),
           ("What is 100 - 58?", "42"), ("What is 6 * 7?", "42")]  # fmt: skip


def stand_in(prompt: list[int]) -> str:
    """Scripted, not a model: right on most questions, wrong on one, stuck on another."""
    text = ha.load_encoding().decode(prompt)
    question = re.findall(r"<\|start\|>user<\|message\|>(.*?)<\|end\|>", text)[-1]
    if "100 - 58" in question:  # never answers: the run hits max_turns
        return "<|channel|>analysis<|message|>Let me think again.<|end|>"
    a, op, b = re.search(r"(\d+) ([*+-]) (\d+)", question).groups()  # type: ignore[union-attr]
    value = {"*": int(a) * int(b), "+": int(a) + int(b), "-": int(a) - int(b)}[op]
    value += 1 if "9 * 9" in question else 0  # a wrong answer
    return f"<|channel|>final<|message|>The answer is {value}.<|return|>"


def main() -> None:
    url = os.environ.get("HARMONY_AGENT_URL")
    backend = ha.backends.VLLM(url) if url else ha.backends.Scripted(stand_in)
    agent = ha.Agent(backend, instructions="Answer with the number.", max_turns=3)
    jsonl = Path(tempfile.mkdtemp()) / "runs.jsonl"
    results = ha.run_many(
        agent, [q for q, _ in DATASET], concurrency=4, jsonl=jsonl, progress=sys.stderr.isatty()
    )
    correct = 0
    for (question, expected), result in zip(DATASET, results, strict=True):
        ok = result.final_text is not None and expected in result.final_text
        correct += ok
        mark = "ok " if ok else "BAD"
        print(f"{mark} {question:<20} {result.stop_reason:<10} {result.final_text}")
    reasons = Counter(r.stop_reason for r in results)
    print(f"\naccuracy {correct}/{len(DATASET)}; stop reasons {dict(reasons)}")
    tokens = sum(r.usage.total_tokens for r in results)
    reloaded = ha.RunResult.read_jsonl(jsonl)
    print(f"{tokens} tokens in all; {len(reloaded)} results reloaded from {jsonl.name}")


if __name__ == "__main__":
    main()
