"""render and parse: what a new user types wrong gets one line that says what to do."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from harmony_agent.cli import main


def _run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], args: list[str], stdin: str
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    status = main(args)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ('["hi"]', 'message 0: expected an object such as {"role": "user", "content": "Hi"}'),
        ('[{"role": "user"}]', 'message 0 (user): no "content"'),
        ('[{"content": "hi"}]', 'message 0: no "role" (one of system, developer, user'),
        ('[{"role": "human", "content": "hi"}]', "unknown role 'human' (expected one of"),
        ('[{"role": "user", "content": 5}]', "message 0 (user): content must be text"),
        ('{"msgs": []}', 'expected a list of messages or {"messages": [...]}'),
        ('"hello"', "expected a list of messages"),
        ("{", "stdin: not valid JSON (Expecting property name"),
        ("", "stdin: not valid JSON"),
        (
            '[{"role": "system", "content": {"instructions": "Be brief."}}]',
            "instructions belong in the developer message",
        ),
        (
            '[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]',
            "message 1: an assistant message must name a valid channel",
        ),
    ],
)
def test_render_rejects_bad_conversations_in_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, message: str
):
    status, out, err = _run(monkeypatch, capsys, ["render", "-"], stdin)
    assert status == 1 and out == ""
    assert err.startswith("harmony-agent render: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_render_lists_the_valid_roles(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    with pytest.raises(SystemExit) as exit_info:
        _run(monkeypatch, capsys, ["render", "-", "--next-role", "bogus"], "[]")
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'bogus'" in err
    assert "'system', 'developer', 'user', 'assistant', 'tool', 'none'" in err


def test_render_defaults_and_the_documented_example(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from harmony_agent.cli._io import CONVERSATION_FORMAT

    example = CONVERSATION_FORMAT.split("example:\n")[1]
    status, out, _ = _run(monkeypatch, capsys, ["render", "-", "--next-role", "none"], example)
    assert status == 0
    assert "Reasoning: low" in out and "# Instructions\n\nAnswer in one word." in out
    assert out.rstrip().endswith("<|channel|>final<|message|>Paris.<|end|>")
    # a system or developer message without content gets the defaults
    status, out, _ = _run(
        monkeypatch,
        capsys,
        ["render", "-"],
        '[{"role": "system"}, {"role": "user", "content": "x"}]',
    )
    assert status == 0 and "Reasoning: medium" in out


def test_render_reads_what_conversation_json_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    import harmony_agent as ha

    conversation = ha.Conversation(
        [
            ha.Message.system(reasoning="high"),
            ha.Message.developer("Be brief."),
            ha.Message.user("Hi"),
            ha.Message.assistant("Hello."),
        ]
    )
    path = tmp_path / "c.json"
    path.write_text(conversation.model_dump_json())
    assert main(["render", str(path), "--tokens", "--next-role", "none"]) == 0
    tokens = json.loads(capsys.readouterr().out)
    assert tokens == ha.load_encoding().render_conversation(conversation)


def test_parse_shows_issues_and_fails(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    status, out, err = _run(monkeypatch, capsys, ["parse", "-"], "[999999999, -5, 3]")
    assert status == 1
    assert json.loads(out)[0]["content"] == "$"  # the best effort is still printed
    issues = [line for line in err.splitlines() if "parse issue in message" in line]
    assert len(issues) == 3
    assert any("(tokens 999999999)" in line for line in issues)
    assert any("(tokens -5)" in line for line in issues)
    assert "3 parse issue(s)" in err
    assert 'was cut off: no <|end|>, <|call|> or <|return|> followed (stop "incomplete")' in err


def test_parse_full_report_and_cut_off_stream(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    text = (
        "<|channel|>analysis<|message|>hm<|end|><|start|>assistant<|channel|>final<|message|>Hi th"
    )
    status, out, err = _run(monkeypatch, capsys, ["parse", "-", "--full"], text)
    assert status == 0  # a cut-off stream is a warning: servers strip stop tokens
    report = json.loads(out)
    assert report["stops"] == ["end", "incomplete"] and report["issues"] == []
    assert [m["channel"] for m in report["messages"]] == ["analysis", "final"]
    assert "message 1 was cut off" in err
    status, out, err = _run(monkeypatch, capsys, ["parse", "-", "--full"], "[200005, 12194]")
    assert status == 1 and json.loads(out)["issues"][0]["detail"]


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ('[1, "a"]', "expected a JSON list of token ids (integers); item 1 is 'a'"),
        ("[1, true]", "item 1 is True"),
        ("[1, 2", "stdin: not valid JSON"),
        ("  \n", "stdin: empty: expected harmony text or a JSON list of token ids"),
    ],
)
def test_parse_rejects_bad_input(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], stdin: str, message: str
):
    status, _, err = _run(monkeypatch, capsys, ["parse", "-"], stdin)
    assert status == 1 and message in err and err.count("\n") == 1


def test_parse_strict_explains_the_role(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    text = "<|channel|>final<|message|>Hi<|return|>"
    status, _, err = _run(monkeypatch, capsys, ["parse", "-", "--strict", "--role", "none"], text)
    assert status == 1
    assert "Unexpected token 200005 while expecting start token 200006" in err
    assert "needs role=ha.Role.ASSISTANT" in err
    status, out, _ = _run(monkeypatch, capsys, ["parse", "-", "--strict"], text)
    assert status == 0 and json.loads(out)[0]["content"] == "Hi"


def test_missing_files_and_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    assert main(["render", str(tmp_path / "nope.json")]) == 1
    assert "nope.json: no such file" in capsys.readouterr().err
    assert main(["parse", str(tmp_path)]) == 1
    assert "is a directory, expected a file" in capsys.readouterr().err
