"""Data analysis with the sandboxed python tool: state persists across calls in one run.

The model (scripted offline; labelled below) writes a CSV into ``/mnt/data``, reads it
back in a second call (the variables of the first call are still there: one Jupyter
kernel per run), and answers from what the code printed. The kernel runs in bubblewrap:
no network, a read-only system, only the tool's workdir writable (at ``/mnt/data``).
To use a real model::

    HARMONY_AGENT_URL=http://127.0.0.1:8000 python examples/python_data_analysis.py
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import harmony_agent as ha

WRITE = """import csv
rows = [("Mon", 12.5), ("Tue", 14.0), ("Wed", 9.5), ("Thu", 16.0), ("Fri", 13.0)]
with open("/mnt/data/sales.csv", "w", newline="") as f:
    csv.writer(f).writerows([("day", "sales"), *rows])
print(f"wrote {len(rows)} rows")"""
ANALYSE = """import statistics
sales = [s for _, s in rows]  # `rows` is still defined: the kernel keeps its state
best = max(rows, key=lambda r: r[1])
print(f"mean {statistics.mean(sales):.2f}, best {best[0]} ({best[1]})")"""


def stand_in(prompt: list[int]) -> str:
    """Scripted, not a model: write the data, analyse it, answer from the output."""
    text = ha.load_encoding().decode(prompt)
    outputs = re.findall(
        r"<\|start\|>python to=assistant.*?<\|message\|>(.*?)<\|end\|>", text, re.S
    )
    if not outputs:
        return f"<|channel|>analysis to=python code<|message|>{WRITE}<|call|>"
    if len(outputs) == 1:
        return f"<|channel|>analysis to=python code<|message|>{ANALYSE}<|call|>"
    return (
        "<|channel|>analysis<|message|>The kernel printed the statistics.<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>(scripted) Sales: {outputs[-1].strip()}."
        "<|return|>"
    )


def backend() -> ha.Backend:
    url = os.environ.get("HARMONY_AGENT_URL")
    return ha.backends.VLLM(url) if url else ha.backends.Scripted(stand_in)


def main() -> None:
    workdir = Path(tempfile.mkdtemp(prefix="analysis-"))
    with ha.PythonTool(timeout=30, workdir=workdir) as python:
        agent = ha.Agent(backend(), tools=[python], reasoning="low")
        result = agent.run("Here are this week's sales. What is the mean, and the best day?")
    for message in result.messages:
        if message.recipient == "python":
            print(f"code:\n{message.text}\n")
        elif message.author == "python":
            print(f"output: {message.text}\n")
    print(f"answer: {result.final_text}")
    print(f"the file the kernel wrote, on the host: {workdir / 'sales.csv'}")
    print((workdir / "sales.csv").read_text().splitlines()[0])


if __name__ == "__main__":
    main()
