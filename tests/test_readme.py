"""Every Python block in README.md runs, offline, so none can rot.

A block runs as it is, in a fresh namespace. A block that talks to a model server is
preceded by an HTML comment naming the engine::

    <!-- readme-test: server=vllm -->

and runs against that engine's fake server from :mod:`harmony_agent.testing` (every
``http://127.0.0.1:PORT`` or ``http://localhost:PORT`` in the block is replaced by the
fake server's address). The fake model calls ``get_weather`` when the prompt declares
it, and answers on ``final`` otherwise. No other markers exist: no block is skipped.
"""

from __future__ import annotations

import gc
import re
from pathlib import Path
from typing import Any

import pytest

import harmony_agent as ha
from harmony_agent.testing import (
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeSGLangServer,
    FakeVLLMServer,
)

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(
    r"(?:<!--\s*readme-test:\s*(?P<mark>[^>]*?)\s*-->[ \t]*\n)?"
    r"^(?P<indent>[ \t]*)```python[ \t]*\n(?P<code>.*?)^(?P=indent)```",
    re.S | re.M,
)
URL = re.compile(r"http://(?:127\.0\.0\.1|localhost):\d+")
SERVERS: dict[str, Any] = {
    "vllm": FakeVLLMServer,
    "sglang": FakeSGLangServer,
    "llamacpp": FakeLlamaCppServer,
    "ollama": FakeOllamaServer,
}


def _blocks() -> list[tuple[int, str, str]]:
    text = README.read_text(encoding="utf-8")
    found = []
    for match in BLOCK.finditer(text):
        line = text.count("\n", 0, match.start("code"))
        indent = match.group("indent")
        code = "".join(
            row[len(indent) :] if row.startswith(indent) else row
            for row in match.group("code").splitlines(keepends=True)
        )
        found.append((line, match.group("mark") or "", code))
    return found


def weather_model(prompt: list[int]) -> str:
    """Calls get_weather once when it is declared, then answers."""
    text = ha.load_encoding().decode(prompt)
    answered = "<|start|>functions.get_weather to=assistant" in text
    if "type get_weather" in text and not answered:
        return (
            "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant"
            "<|channel|>commentary to=functions.get_weather <|constrain|>json"
            '<|message|>{"city": "Paris"}<|call|>'
        )
    return (
        "<|channel|>analysis<|message|>Answer briefly.<|end|><|start|>assistant"
        "<|channel|>final<|message|>It is 21 degrees in Paris.<|return|>"
    )


def test_every_python_block_is_collected():
    text = README.read_text(encoding="utf-8")
    assert len(_blocks()) == text.count("```python") >= 5
    for _, mark, _ in _blocks():
        assert mark == "" or re.fullmatch(r"server=(vllm|sglang|llamacpp|ollama)", mark), mark


@pytest.mark.parametrize(("line", "mark", "code"), _blocks(), ids=lambda v: str(v)[:12])
def test_readme_block_runs(
    line: int, mark: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)  # files a block writes (runs.jsonl) land here
    namespace: dict[str, Any] = {"__name__": "__readme__"}
    compiled = compile(code, f"README.md:{line + 1}", "exec")
    if not mark:
        exec(compiled, namespace)
        return
    server_class = SERVERS[mark.removeprefix("server=")]
    with server_class(weather_model, model_name="gpt-oss:20b") as server:
        code = URL.sub(server.base_url, code)
        exec(compile(code, f"README.md:{line + 1}", "exec"), namespace)
        namespace.clear()
        gc.collect()  # an HTTP client left open would warn here (warnings are errors)
        assert server.requests_seen > 0, "the block never reached the server"
