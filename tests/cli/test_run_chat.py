"""run and chat against fake engine servers on 127.0.0.1 (the real HTTP backends)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.testing import (
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeSGLangServer,
    FakeVLLMServer,
)
from tests.cli.conftest import ESCAPE, cli, echo_model

SERVERS = {
    "vllm": FakeVLLMServer,
    "sglang": FakeSGLangServer,
    "llamacpp": FakeLlamaCppServer,
    "ollama": FakeOllamaServer,
}


@pytest.mark.parametrize("backend", sorted(SERVERS))
def test_run_prints_the_answer_only(backend: str):
    with SERVERS[backend](echo_model, model_name="gpt-oss:20b") as server:
        done = cli(["run", "What is 2 + 2?", "--backend", backend, "--url", server.base_url])
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        "You said What is 2 + 2? (question 1, effort medium, instructions none).\n"
    )
    assert "Thinking" not in done.stdout + done.stderr  # reasoning hidden by default
    assert not ESCAPE.search(done.stdout + done.stderr)


def test_run_json_is_a_run_result_and_reasoning_goes_to_stderr():
    with FakeVLLMServer(echo_model) as server:
        done = cli(["run", "Hi", "--json", "--url", server.base_url, "--reasoning", "low"])
        shown = cli(["run", "Hi", "--url", server.base_url, "--show-reasoning"])
    assert done.returncode == 0, done.stderr
    result = ha.RunResult.model_validate_json(done.stdout)
    assert result.stop_reason == "final" and result.turns == 1
    assert result.final_text == "You said Hi (question 1, effort low, instructions none)."
    assert result.usage.completion_tokens > 0
    assert [m.channel for m in result.messages] == ["analysis", "final"]
    assert shown.stdout.startswith("You said Hi") and "Thinking about Hi." in shown.stderr


def test_run_without_an_answer_exits_1():
    # The turn ends (<|return|>) on the analysis channel: no final answer.
    endless = "<|channel|>analysis<|message|>Still thinking.<|return|>"
    with FakeVLLMServer(endless) as server:
        done = cli(["run", "Hi", "--url", server.base_url, "--max-turns", "2", "--json"])
        chat = cli(["chat", "--url", server.base_url, "--max-turns", "2"], stdin="Hi\n")
    assert chat.returncode == 0 and chat.stdout == ""
    assert "warning: no answer this time (stop_reason=no_final)" in chat.stderr
    assert done.returncode == 1
    assert json.loads(done.stdout)["stop_reason"] == "no_final"
    assert "no final answer (stop_reason=no_final); the model ended its turn" in done.stderr


def test_run_reads_the_prompt_from_stdin_and_continues_a_saved_chat(tmp_path: Path):
    saved = tmp_path / "chat.json"
    with FakeVLLMServer(echo_model) as server:
        first = cli(["run", "-", "--url", server.base_url, "--json"], stdin="First?\n")
        conversation = ha.RunResult.model_validate_json(first.stdout).conversation
        saved.write_text(conversation.model_dump_json())
        done = cli(["run", "Second?", "--url", server.base_url, "--load", str(saved)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == "You said Second? (question 2, effort medium, instructions none).\n"


def test_unreachable_server_is_one_line():
    done = cli(["run", "Hi", "--backend", "llamacpp", "--url", "http://127.0.0.1:9"])
    assert done.returncode == 1
    assert done.stderr.startswith("harmony-agent run: error: ")
    assert "http://127.0.0.1:9" in done.stderr and done.stderr.count("\n") == 1


def test_chat_multi_turn_with_commands(tmp_path: Path):
    saved = tmp_path / "chat.json"
    script = "\n".join(
        [
            "Hello",
            "/reasoning on",
            "/effort high",
            "And now?",
            f"/save {saved}",
            "/exit",
            "never sent",
        ]
    )
    with FakeVLLMServer(echo_model) as server:
        done = cli(["chat", "--url", server.base_url, "--instructions", "Be brief."], stdin=script)
        assert server.requests_seen == 3  # /v1/models, then one completion per question
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "You said Hello (question 1, effort medium, instructions Be brief.).",
        "You said And now? (question 2, effort high, instructions Be brief.).",
    ]
    assert "Thinking about Hello" not in done.stderr  # hidden until /reasoning on
    assert "Thinking about And now?." in done.stderr
    assert "reasoning shown" in done.stderr and "reasoning effort high" in done.stderr
    assert not ESCAPE.search(done.stdout + done.stderr)
    conversation = json.loads(saved.read_text())["messages"]
    assert [m["role"] for m in conversation] == [
        "system", "developer", "user", "assistant", "user", "assistant",
    ]  # fmt: skip
    assert conversation[-1]["content"].startswith("You said And now?")
    # --load continues it, with its instructions and effort
    with FakeVLLMServer(echo_model) as server:
        done = cli(["chat", "--url", server.base_url, "--load", str(saved)], stdin="Third\n")
    assert done.stdout == "You said Third (question 3, effort high, instructions Be brief.).\n"


def test_chat_commands_that_fail_end_a_piped_chat():
    with FakeVLLMServer(echo_model) as server:
        done = cli(["chat", "--url", server.base_url], stdin="/effort extreme\nHi\n")
        assert done.returncode == 2 and "/effort takes one of low, medium, high" in done.stderr
        done = cli(["chat", "--url", server.base_url], stdin="/frobnicate\n")
        assert done.returncode == 2 and "unknown command /frobnicate: try /help" in done.stderr
        done = cli(["chat", "--url", server.base_url], stdin="/load /nonexistent.json\n")
        assert done.returncode == 1 and "/nonexistent.json: no such file" in done.stderr
        done = cli(["chat", "--url", server.base_url], stdin="/help\n/tools none\n/new\n")
        assert done.returncode == 0 and "/save FILE" in done.stderr and "tools: none" in done.stderr


def kernel_model(prompt: list[int]) -> str:
    """Runs the user's line as python, then answers with what it printed."""
    text = ha.load_encoding().decode(prompt)
    last_user = text.rsplit("<|start|>user<|message|>", 1)[1]
    code = last_user.split("<|end|>", 1)[0]
    answers = last_user.split("<|start|>python to=assistant")
    if len(answers) == 1:
        return f"<|channel|>analysis to=python code<|message|>{code}<|call|>"
    output = answers[-1].split("<|message|>", 1)[1].split("<|end|>", 1)[0]
    return f"<|channel|>final<|message|>python said: {output.strip()}<|return|>"


def test_chat_keeps_the_python_kernel_across_turns():
    """The kernel of a chat lives as long as the chat: turn 2 sees turn 1's variables."""
    script = "x = 41; print('set')\nprint(x + 1)\n/new\nprint(x)\n"
    with FakeVLLMServer(kernel_model) as server:
        done = cli(["chat", "--url", server.base_url, "--tools", "python"], stdin=script)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:2] == ["python said: set", "python said: 42"]
    assert "NameError: name 'x' is not defined" in "\n".join(lines[2:])  # /new: a fresh kernel
