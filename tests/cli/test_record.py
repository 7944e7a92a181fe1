"""``harmony-agent run --record FILE``: the run, token for token, for replay in tests."""

from __future__ import annotations

from pathlib import Path

import harmony_agent as ha
from harmony_agent.testing import FakeVLLMServer, replay
from tests.cli.conftest import cli, echo_model


def test_run_record_appends_each_run_and_it_replays(tmp_path: Path):
    path = tmp_path / "runs" / "cli.jsonl"
    with FakeVLLMServer(echo_model) as server:
        for question in ("First?", "Second?"):
            done = cli(["run", question, "--url", server.base_url, "--record", str(path)])
            assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("You said Second?")
    recording = ha.Recording.load(path)
    assert [run.input[0].text for run in recording] == ["First?", "Second?"]
    assert all(run.stop_reason == "final" and len(run.steps) == 1 for run in recording)
    assert recording[0].steps[0].sampling.max_tokens > 0
    # the same agent the command line builds, with no server at all
    results = replay(recording, lambda backend: ha.Agent(backend))
    assert [r.final_text for r in results] == [run.final_text for run in recording]


def test_run_record_to_a_bad_path_is_one_line(tmp_path: Path):
    (tmp_path / "file").write_text("")
    done = cli(
        ["run", "Hi", "--url", "http://127.0.0.1:9", "--record", str(tmp_path / "file" / "x")]
    )
    assert done.returncode == 1
    assert done.stderr.startswith("harmony-agent run: error: ") and done.stderr.count("\n") == 1
