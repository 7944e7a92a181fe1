"""Helpers for the command-line tests: run ``harmony-agent`` as users do, in a subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import harmony_agent as ha

ROOT = Path(__file__).resolve().parents[2]
ESCAPE = re.compile(r"\x1b\[")


def cli(
    args: Sequence[str], *, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``harmony-agent ARGS`` with stdin and stdout piped (so: not a terminal)."""
    base = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    base.update(PYTHONPATH=str(ROOT), HARMONY_AGENT_OFFLINE="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "harmony_agent.cli", *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env=base,
        timeout=120,
    )


def echo_model(prompt: list[int]) -> str:
    """A stand-in for gpt-oss: reasons, then answers with what it was asked and how."""
    text = ha.load_encoding().decode(prompt)
    questions = re.findall(r"<\|start\|>user<\|message\|>(.*?)<\|end\|>", text, re.S)
    effort = re.search(r"Reasoning: (\w+)", text)
    instructions = re.search(r"# Instructions\n\n(.*?)<\|end\|>", text, re.S)
    return (
        f"<|channel|>analysis<|message|>Thinking about {questions[-1]}.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>"
        f"You said {questions[-1]} (question {len(questions)}, "
        f"effort {effort.group(1) if effort else '?'}, "
        f"instructions {instructions.group(1) if instructions else 'none'}).<|return|>"
    )
