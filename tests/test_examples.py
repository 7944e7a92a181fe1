"""The runnable examples run end to end (they are what `make demo` shows users)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str, *args: str, stderr: bool = False) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HARMONY_AGENT_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout + (done.stderr if stderr else "")


def test_demo_runs_offline_end_to_end():
    """Every tool for real (browser, sandboxed python, a function); reasoning hidden."""
    answer = _run("demo.py")  # stdout: what the user sees
    assert "Lisbon is 27 °F warmer than Oslo today" in answer
    assert "Checking today's temperatures" in answer  # the preamble is shown
    assert "First find how the scales convert" not in answer  # the chain of thought is not
    assert "\x1b[" not in answer  # piped: no escape codes
    everything = _run("demo.py", stderr=True)
    assert "SCRIPTED" in everything
    assert "← python: 15 °C = 27 °F" in everything  # the sandboxed kernel really ran it
    assert "→ browser.search" in everything and "→ browser.open" in everything
    assert "【1†L9-L11】 → file://" in everything and "temperature-scales.md L9-L11" in everything
    assert "stop_reason=final" in everything


def test_demo_shows_reasoning_when_asked():
    shown = _run("demo.py", "--show-reasoning", stderr=True)
    assert "First find how the scales convert" in shown


@pytest.mark.parametrize("script", ["agent_function_tools.py", "mcp_tools.py"])
def test_example_runs(script: str):
    assert "final" in _run(script)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("minimal_chat.py", "Turn 2: you asked 'And why does it have channels?'"),
        ("custom_backend.py", "class:    Hello from a ten-line backend."),
        ("cot_filter_web.py", "Tokyo is on Japan Standard Time, UTC+9"),
        ("batch_eval.py", "accuracy 3/5; stop reasons {'final': 4, 'max_turns': 1}"),
        ("python_data_analysis.py", "answer: (scripted) Sales: mean 13.00, best Thu (16.0)."),
        ("browser_research.py", "【1†L2-L4】: file://"),
        ("record_replay.py", '"eur_per_kg": ⟦3⟧}<|end|>'),
    ],
)
def test_getting_started_examples(script: str, expected: str):
    out = _run(script)
    assert expected in out
    assert "SECRET-REASONING" not in out  # the web handler streams no chain of thought


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("typed_answer.py", "(scripted) Sintra: 1.5 h, 12 EUR\nturns: 2, stop_reason: final"),
        ("reasoning_budget.py", "reasoning tokens: 65, forced answers: 1"),
        ("preambles.py", "the user saw: Looking up the trains to Porto. | (scripted) Take"),
    ],
)
def test_typed_answer_budget_and_preamble_examples(script: str, expected: str):
    out = _run(script)
    assert expected in out
    assert "SECRET-REASONING" not in out
