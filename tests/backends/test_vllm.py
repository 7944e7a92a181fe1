"""The vLLM adapter: its exact requests, model discovery, and reply edge cases."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from harmony_agent.backends import VLLM
from harmony_agent.backends._vllm import _stop_from_reason
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from harmony_agent.testing import FakeServer, FakeVLLMServer
from tests.backends.conftest import FINAL, MODEL, collect, flat, harmony, params

Serve = Callable[..., FakeServer]


async def test_request_body(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeVLLMServer, [FINAL])
    async with VLLM(server.base_url, model=MODEL) as backend:
        await collect(backend.stream(prompt, params(max_tokens=64, temperature=0.7, top_p=0.9)))
    assert server.last_request == {
        "model": MODEL,
        "prompt": prompt,
        "max_tokens": 64,
        "temperature": 0.7,
        "top_p": 0.9,
        "stop_token_ids": [T.RETURN, T.CALL],
        "skip_special_tokens": False,
        "spaces_between_special_tokens": False,
        "include_stop_str_in_output": True,
        "return_token_ids": True,
        "stream": True,
    }


async def test_seed_stop_tokens_and_extra_body(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeVLLMServer, [FINAL])
    backend = VLLM(server.base_url, model=MODEL, extra_body={"top_k": 20})
    async with backend:
        await collect(backend.stream(prompt, params(seed=7, stop_tokens=(T.END, T.CALL))))
    body = server.last_request
    assert body["seed"] == 7
    assert body["stop_token_ids"] == [T.END, T.CALL]
    assert body["top_k"] == 20


async def test_model_is_discovered_once(
    serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(FakeVLLMServer, [FINAL, FINAL], model_name="my-gpt-oss")
    async with VLLM(server.base_url + "/v1/") as backend:
        assert backend.base_url == server.base_url
        for _ in range(2):
            tokens = flat(await collect(backend.stream(prompt, params())))
            assert tokens == harmony(encoding, FINAL)
    assert backend.model == "my-gpt-oss"
    assert server.requests_seen == 3  # one GET /v1/models, two completions
    assert [body["model"] for body in server.bodies] == ["my-gpt-oss", "my-gpt-oss"]


async def test_wrong_model_is_a_404(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeVLLMServer, [FINAL])
    async with VLLM(server.base_url, model="gpt-4") as backend:
        with pytest.raises(BackendError, match="The model `gpt-4` does not exist") as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status == 404


def _mock(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler))


def _sse(*events: str) -> httpx.Response:
    body = "".join(f"data: {event}\n\n" for event in events)
    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


async def test_error_event_mid_stream(prompt: list[int]) -> None:
    client = _mock(lambda request: _sse('{"error": {"message": "engine died", "code": 500}}'))
    async with client:
        backend = VLLM("http://vllm.test", model=MODEL, client=client)
        with pytest.raises(BackendError, match="failed mid-stream: engine died"):
            await collect(backend.stream(prompt, params()))


async def test_malformed_event(prompt: list[int]) -> None:
    async with _mock(lambda request: _sse("{not json")) as client:
        backend = VLLM("http://vllm.test", model=MODEL, client=client, retry_backoff=0.0)
        with pytest.raises(BackendError, match=r"after 4 attempt.*malformed reply"):
            await collect(backend.stream(prompt, params()))


async def test_usage_chunk_and_string_stop_reason(encoding: Encoding, prompt: list[int]) -> None:
    """An OpenAI-compatible server that sends text, a usage chunk, and a string stop."""
    reply = _sse(
        '{"choices": [{"index": 0, "text": "<|channel|>final<|message|>Hi", '
        '"finish_reason": null}]}',
        '{"choices": [{"index": 0, "text": "!", "finish_reason": "stop", '
        '"stop_reason": "<|return|>"}]}',
        '{"choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 5}}',
        "[DONE]",
    )
    async with _mock(lambda request: reply) as client:
        backend = VLLM("http://vllm.test", model=MODEL, client=client)
        tokens = flat(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, "<|channel|>final<|message|>Hi!<|return|>")


async def test_models_listing_without_models(prompt: list[int]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"object": "list", "data": []})

    async with _mock(handler) as client:
        backend = VLLM("http://vllm.test", client=client)
        with pytest.raises(BackendError, match="lists no model"):
            await collect(backend.stream(prompt, params()))
        await backend.aclose()
        assert not client.is_closed  # a client passed in is the caller's to close


def test_stop_from_reason() -> None:
    p = params()
    assert _stop_from_reason(T.CALL, p) == T.CALL
    assert _stop_from_reason(T.END, p) is None  # not a requested stop
    assert _stop_from_reason("<|call|>", p) == T.CALL
    assert _stop_from_reason("</s>", p) is None
    assert _stop_from_reason(None, p) is None  # unnamed: not guessed here


def test_rejects_a_bad_base_url() -> None:
    with pytest.raises(ValueError, match="http"):
        VLLM("localhost:8000")
