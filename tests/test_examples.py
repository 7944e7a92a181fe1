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


@pytest.mark.parametrize("script", ["agent_function_tools.py"])
def test_example_runs(script: str):
    assert "final" in _run(script)
