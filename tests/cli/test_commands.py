"""The program as users run it: subprocesses, exit codes, piped output without escapes."""

from __future__ import annotations

import re

import pytest

import harmony_agent as ha
from tests.cli.conftest import ESCAPE, cli

CONVERSATION = '[{"role": "user", "content": "Hi"}]'


def test_version_and_help_for_people():
    done = cli(["--version"])
    assert done.returncode == 0 and done.stdout.startswith(f"harmony-agent {ha.__version__}")
    done = cli(["--help"])
    assert done.returncode == 0
    for command in ("chat", "run", "render", "parse", "demo", "index"):
        assert re.search(rf"^\s+{command}\s+\w", done.stdout, re.M), command
    assert "exit status: 0 success, 1 failure" in done.stdout
    render_help = cli(["render", "--help"]).stdout
    assert "conversation JSON:" in render_help and '"role": "developer"' in render_help
    for text in (done.stdout, render_help, cli(["chat", "--help"]).stdout):
        assert "``" not in text and ":class:" not in text and ":func:" not in text  # no reST


def test_usage_errors_exit_2():
    done = cli(["render"])
    assert done.returncode == 2 and "the following arguments are required: file" in done.stderr
    assert cli(["frobnicate"]).returncode == 2
    assert cli([]).returncode == 2
    done = cli(["run", "hi", "--tools", "python,shell"])
    assert done.returncode == 2 and "unknown tool 'shell'" in done.stderr
    done = cli(["run", "hi", "--url", "localhost:8000"])
    assert done.returncode == 2
    assert "--url must start with http:// or https://" in done.stderr
    assert "Traceback" not in done.stderr
    done = cli(["run"])
    assert done.returncode == 2 and "give a prompt" in done.stderr


def test_piped_output_has_no_escape_codes_and_colour_only_on_request():
    done = cli(["render", "-"], stdin=CONVERSATION)
    assert done.returncode == 0 and not ESCAPE.search(done.stdout + done.stderr)
    bad = cli(["parse", "-"], stdin="[999999999]")
    assert bad.returncode == 1 and not ESCAPE.search(bad.stderr)
    forced = cli(["parse", "-"], stdin="[999999999]", env={"FORCE_COLOR": "1"})
    assert ESCAPE.search(forced.stderr)  # colours when asked for...
    off = cli(["parse", "-"], stdin="[999999999]", env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert not ESCAPE.search(off.stderr)  # ...and NO_COLOR wins
    assert off.stderr == bad.stderr


def test_errors_are_one_line_unless_debug(tmp_path):
    missing = str(tmp_path / "missing.json")
    done = cli(["render", missing])
    assert done.returncode == 1
    assert done.stderr == f"harmony-agent render: error: {missing}: no such file\n"
    debug = cli(["render", missing, "--debug"])
    assert debug.returncode == 1 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.slow
def test_demo_runs():
    done = cli(["demo"])
    assert done.returncode == 0, done.stderr
    assert "Lisbon is 27 °F warmer" in done.stdout and "stop_reason=final" in done.stderr
