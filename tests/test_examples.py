"""The runnable examples run end to end (they are what `make demo` shows users)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(script: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HARMONY_AGENT_OFFLINE="1")
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_demo_runs_offline_end_to_end():
    out = _run("demo.py")
    assert "stop_reason=final" in out
    assert "(error, sent back to the model)" in out  # a bad call was answered, run went on
    user_view = out.split("what the user sees")[1].split("== result")[0]
    assert "difference of 15 °C" in user_view
    assert "Kelvin" not in user_view and "Need both" not in user_view  # no chain of thought


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
    ],
)
def test_getting_started_examples(script: str, expected: str):
    out = _run(script)
    assert expected in out
    assert "SECRET-REASONING" not in out  # the web handler streams no chain of thought
