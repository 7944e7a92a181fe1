"""``harmony-agent serve`` as users run it: a subprocess in front of a fake engine."""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import subprocess
import sys

import openai
import pytest

from harmony_agent.testing import FakeVLLMServer
from tests.cli.conftest import ROOT, cli, echo_model


@pytest.mark.parametrize("workers", ["1", "2"])
def test_serve_answers_openai_clients_and_stops_on_ctrl_c(workers: str) -> None:
    with FakeVLLMServer(echo_model) as engine:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HARMONY_AGENT_OFFLINE": "1"}
        process = subprocess.Popen(
            [sys.executable, "-m", "harmony_agent.cli", "serve", "--url", engine.base_url,
             "--port", "0", "--api-key", "k3y", "--served-model-name", "oss",
             "--reasoning", "low", "--log-level", "warning", "--workers", workers],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )  # fmt: skip
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            found = re.search(r"(http://127\.0\.0\.1:\d+/v1) in front of vllm", line)
            assert found, line + (process.stderr.read() if process.poll() is not None else "")
            with openai.OpenAI(base_url=found.group(1), api_key="k3y", max_retries=0) as client:
                assert [m.id for m in client.models.list().data] == ["oss"]
                for _ in range(3):  # with workers, the requests spread over the processes
                    answer = client.chat.completions.create(
                        model="oss", messages=[{"role": "user", "content": "Hi"}]
                    )
                    assert answer.choices[0].message.content == (
                        "You said Hi (question 1, effort low, instructions none)."
                    )
        finally:
            process.send_signal(signal.SIGINT)
            _, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_serve_usage_errors() -> None:
    done = cli(["serve", "--help"])
    assert done.returncode == 0
    for option in ("--backend", "--url", "--model", "--host", "--port", "--api-key", "--tools"):
        assert option in done.stdout
    assert "transformers" in done.stdout
    done = cli(["serve"])  # the engine's default port is the server's default too
    assert done.returncode == 2 and "choose another --port" in done.stderr
    done = cli(["serve", "--tools", "shell", "--port", "9"])
    assert done.returncode == 2 and "unknown tool 'shell'" in done.stderr
    done = cli(["serve", "--backend", "transformers"])
    assert done.returncode == 2 and "needs --model" in done.stderr
    assert "serve" in cli(["--help"]).stdout


@pytest.mark.skipif(importlib.util.find_spec("torch") is not None, reason="torch is installed")
def test_serve_transformers_without_torch_says_what_is_missing() -> None:
    done = cli(["serve", "--backend", "transformers", "--model", "some/model", "--port", "9"])
    assert done.returncode == 1, done.stderr
    assert "needs torch and transformers" in done.stderr and "Traceback" not in done.stderr
