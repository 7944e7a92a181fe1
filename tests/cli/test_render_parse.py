"""render and parse: the golden fixtures and the basic paths."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harmony_agent.cli import main
from tests.conftest import FIXTURES


def test_render_matches_fixture(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    case = next(
        c
        for c in json.loads((FIXTURES / "cases.json").read_text())
        if c["fixture"] == "test_browser_and_function_tool.txt"
    )
    conversation = tmp_path / "conversation.json"
    conversation.write_text(json.dumps({"messages": case["messages"]}))
    assert main(["render", str(conversation)]) == 0
    expected = (FIXTURES / case["fixture"]).read_text().rstrip()
    assert capsys.readouterr().out.rstrip("\n") == expected
    assert main(["render", str(conversation), "--tokens", "--next-role", "none"]) == 0
    tokens = json.loads(capsys.readouterr().out)
    assert tokens[-1] == 200007


def test_parse_text_and_tokens(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    raw = tmp_path / "out.txt"
    raw.write_text(
        "<|channel|>analysis<|message|>think<|end|><|start|>assistant"
        "<|channel|>commentary to=functions.f <|constrain|>json<|message|>{}<|call|>"
    )
    assert main(["parse", str(raw)]) == 0
    messages = json.loads(capsys.readouterr().out)
    assert [m["channel"] for m in messages] == ["analysis", "commentary"]
    assert messages[1]["recipient"] == "functions.f"
    raw.write_text("[200005, 17196, 200008, 12194, 200002]")
    assert main(["parse", str(raw)]) == 0
    assert json.loads(capsys.readouterr().out)[0]["channel"] == "final"


def test_errors_are_reported_not_raised(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    bad = tmp_path / "bad.json"
    bad.write_text('{"messages": [{"role": "user", "content": "a"}, {"role": "system"}]}')
    assert main(["render", str(bad)]) == 1
    assert "system message must be the first" in capsys.readouterr().err
    assert main(["render", str(tmp_path / "missing.json")]) == 1
    with pytest.raises(SystemExit):
        main(["--help"])
