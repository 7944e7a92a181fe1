"""The fake servers validate requests like their engines and answer in their formats."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from harmony_agent.testing import (
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeServer,
    FakeSGLangServer,
    FakeVLLMServer,
)
from tests.backends.conftest import FINAL, MODEL, harmony


def post(server: FakeServer, body: Any, path: str | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(server.base_url + (path or server.path), content=content)


VLLM_BAD = [
    ({"prompt": []}, "prompt"),
    ({"prompt": [1, -2]}, "prompt"),
    ({"prompt": [1], "max_tokens": "8"}, "max_tokens"),
    ({"prompt": [1], "max_tokens": 0}, "max_tokens"),
    ({"prompt": [1], "temperature": -1}, "temperature"),
    ({"prompt": [1], "stop_token_ids": [True, "x"]}, "stop_token_ids"),
    ({"prompt": [1], "stream": "yes"}, "stream"),
]


@pytest.mark.parametrize(("body", "param"), VLLM_BAD)
def test_vllm_rejects(body: dict[str, Any], param: str) -> None:
    with FakeVLLMServer() as server:
        response = post(server, body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param
    assert error["code"] == 400
    assert server.requests_seen == 1


def test_vllm_non_streaming_reply_and_models(encoding: Encoding) -> None:
    with FakeVLLMServer([FINAL]) as server:
        listing = httpx.get(server.base_url + "/v1/models").json()
        body = {"prompt": [1, 2], "return_token_ids": True, "skip_special_tokens": False,
                "max_tokens": 100}  # fmt: skip
        reply = post(server, body).json()
        missing = httpx.get(server.base_url + "/nope")
    assert listing["data"][0]["id"] == MODEL
    choice = reply["choices"][0]
    assert choice["token_ids"] == harmony(encoding, FINAL)
    assert choice["text"] == FINAL.removesuffix("<|return|>")  # stop text not included
    assert choice["finish_reason"] == "stop"
    assert choice["stop_reason"] is None  # <|return|> was an EOS, not a requested stop
    assert reply["usage"]["prompt_tokens"] == 2
    assert missing.status_code == 404
    assert server.requests_seen == 3


def test_vllm_stream_format(encoding: Encoding) -> None:
    with FakeVLLMServer([FINAL]) as server:
        body = {"prompt": [1], "stream": True, "return_token_ids": True,
                "stop_token_ids": [T.RETURN], "max_tokens": 3}  # fmt: skip
        lines = post(server, body).text.split("\n\n")
    events = [json.loads(line.removeprefix("data: ")) for line in lines[:3]]
    assert events[0]["choices"][0]["prompt_token_ids"] == [1]
    want = harmony(encoding, FINAL)[:3]
    assert [e["choices"][0]["token_ids"] for e in events] == [[t] for t in want]
    assert events[-1]["choices"][0]["finish_reason"] == "length"
    assert lines[3] == "data: [DONE]"


def test_sglang_rejects_and_streams_cumulatively(encoding: Encoding) -> None:
    with FakeSGLangServer([FINAL]) as server:
        assert post(server, {"sampling_params": {}}).status_code == 400
        bad = post(server, {"input_ids": [1], "sampling_params": {"max_new_tokens": 1.5}})
        assert bad.status_code == 400
        assert "max_new_tokens" in bad.json()["error"]["message"]
        text = post(server, {"input_ids": [1], "stream": True}).text
    events = [json.loads(chunk[6:]) for chunk in text.split("\n\n") if chunk[6:7] == "{"]
    want = harmony(encoding, FINAL)
    assert [e["output_ids"] for e in events] == [want[: i + 1] for i in range(len(want))]
    assert events[-1]["meta_info"]["finish_reason"] == {"type": "stop", "matched": T.RETURN}
    assert events[-1]["text"] == "finalIt is sunny in Tokyo, 24 °C. ☀️"  # skip_special_tokens


def test_llamacpp_rejects_and_finishes_with_stop() -> None:
    with FakeLlamaCppServer() as server:  # the default model
        missing = post(server, {"n_predict": 3})
        assert missing.status_code == 400
        assert missing.json()["error"]["type"] == "invalid_request_error"
        reply = post(server, {"prompt": "<|start|>user<|message|>hi<|end|>"}).json()
    assert reply["stop"] is True
    assert reply["stop_type"] == "eos"
    assert reply["content"] == "<|channel|>final<|message|>Hello from the fake server."


def test_ollama_rejects_and_answers_ndjson() -> None:
    with FakeOllamaServer([FINAL, FINAL]) as server:
        assert post(server, {"prompt": "x"}).status_code == 400  # no model
        assert post(server, {"model": "other", "prompt": "x", "raw": True}).status_code == 404
        templated = {"model": MODEL, "prompt": "x", "raw": True, "system": "s"}
        assert post(server, templated).status_code == 400
        bad_option = {"model": MODEL, "prompt": "x", "raw": True, "options": {"seed": "1"}}
        assert post(server, bad_option).json() == {"error": 'option "seed" must be of type int'}
        stream = post(server, {"model": MODEL, "prompt": "x", "raw": True})
        full = post(server, {"model": MODEL, "prompt": "x", "raw": True, "stream": False})
        tags = httpx.get(server.base_url + "/api/tags").json()
    lines = [json.loads(line) for line in stream.text.splitlines()]
    assert stream.headers["content-type"] == "application/x-ndjson"
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"
    assert "".join(line["response"] for line in lines) == full.json()["response"]
    assert tags["models"][0]["name"] == MODEL


def test_bad_json_wrong_path_and_exhausted_script() -> None:
    with FakeVLLMServer([FINAL]) as server:
        assert post(server, b"{nope").status_code == 400
        assert post(server, {"prompt": [1]}, path="/v1/chat/completions").status_code == 404
        assert post(server, {"prompt": [1]}).status_code == 200
        exhausted = post(server, {"prompt": [1]})
    assert exhausted.status_code == 500
    assert "no completion left" in exhausted.text


def test_base_url_needs_a_running_server() -> None:
    server = FakeVLLMServer()
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.base_url


def test_one_text_answers_every_request(encoding: Encoding) -> None:
    with FakeLlamaCppServer(FINAL) as server:
        replies = [post(server, {"prompt": [1]}).json() for _ in range(3)]
    assert {reply["content"] for reply in replies} == {FINAL.removesuffix("<|return|>")}
