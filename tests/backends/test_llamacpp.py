"""The llama.cpp adapter: its exact requests and llama-server's stream quirks."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from harmony_agent.backends import LlamaCpp
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from harmony_agent.testing import FakeLlamaCppServer, FakeServer
from tests.backends.conftest import (
    FINAL,
    TOOL_CALL,
    collect,
    eventually,
    flat,
    harmony,
    params,
    whole,
)

Serve = Callable[..., FakeServer]


async def test_request_body(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeLlamaCppServer, [FINAL])
    async with LlamaCpp(server.base_url) as backend:
        await collect(backend.stream(prompt, params(max_tokens=99, seed=5, top_p=0.95)))
    assert server.last_request == {
        "prompt": prompt,
        "n_predict": 99,
        "temperature": 1.0,
        "top_p": 0.95,
        "seed": 5,
        "stream": True,
        "return_tokens": True,
        "cache_prompt": True,
    }


async def test_non_eog_stop_aborts_generation(
    serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    """llama.cpp only stops on <|return|>/<|call|>; <|end|> is enforced by closing."""
    head = "<|channel|>analysis<|message|>thinking<|end|>"
    tail = "<|start|>assistant<|channel|>final<|message|>" + "la " * 300 + "<|return|>"
    server = serve(FakeLlamaCppServer, [head + tail], token_delay=0.002)
    async with LlamaCpp(server.base_url) as backend:
        tokens = flat(await collect(backend.stream(prompt, params(stop_tokens=(T.END,)))))
        assert tokens == harmony(encoding, head)
        assert await eventually(lambda: server.disconnects == 1)
    assert server.completed == 0


async def test_text_only_restores_unrendered_end(
    serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(FakeLlamaCppServer, [TOOL_CALL], text_only=True)
    async with LlamaCpp(server.base_url) as backend:
        tokens = whole(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, TOOL_CALL)
    assert T.END in tokens


def _mock(body: str) -> httpx.AsyncClient:
    reply = httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: reply))


async def test_error_field_mid_stream(prompt: list[int]) -> None:
    body = 'error: {"code": 500, "message": "context shift disabled", "type": "server_error"}\n\n'
    async with _mock(body) as client:
        backend = LlamaCpp("http://llama.test", client=client)
        with pytest.raises(BackendError, match="context shift disabled"):
            await collect(backend.stream(prompt, params()))


async def test_stopping_word(encoding: Encoding, prompt: list[int]) -> None:
    """A build without token ids that stopped on the word ``<|call|>``."""
    body = (
        'data: {"content": "<|channel|>commentary to=functions.f<|message|>{}", "stop": false}\n\n'
        'data: {"content": "", "stop": true, "stop_type": "word", "stopping_word": "<|call|>"}\n\n'
    )
    async with _mock(body) as client:
        backend = LlamaCpp("http://llama.test", client=client)
        tokens = flat(await collect(backend.stream(prompt, params())))
    want = "<|channel|>commentary to=functions.f<|message|>{}<|call|>"
    assert tokens == harmony(encoding, want)


async def test_limit_appends_nothing(encoding: Encoding, prompt: list[int]) -> None:
    body = (
        'data: {"content": "<|channel|>final<|message|>Hi", "stop": false}\n\n'
        'data: {"content": "", "stop": true, "stop_type": "limit"}\n\n'
    )
    async with _mock(body) as client:
        backend = LlamaCpp("http://llama.test", client=client)
        tokens = flat(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, "<|channel|>final<|message|>Hi")
