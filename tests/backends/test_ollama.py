"""The Ollama adapter: raw text prompts, re-encoding, and the inferred stop token."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from harmony_agent.backends import Ollama
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding, restore_stop_token
from harmony_agent.format import _tokens as T
from harmony_agent.testing import FakeOllamaServer, FakeServer
from tests.backends.conftest import (
    FINAL,
    MODEL,
    PROMPT_TEXT,
    TOOL_CALL,
    collect,
    flat,
    harmony,
    params,
)

Serve = Callable[..., FakeServer]


async def test_request_body(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeOllamaServer, [FINAL])
    async with Ollama(server.base_url, MODEL, keep_alive="10m") as backend:
        await collect(backend.stream(prompt, params(max_tokens=50, temperature=0.6, seed=1)))
    assert server.last_request == {
        "model": MODEL,
        "prompt": PROMPT_TEXT,
        "raw": True,
        "stream": True,
        "options": {
            "num_predict": 50,
            "temperature": 0.6,
            "top_p": 1.0,
            "stop": ["<|return|>", "<|call|>"],
            "seed": 1,
        },
        "keep_alive": "10m",
    }


@pytest.mark.parametrize(
    ("completion", "stop"), [(TOOL_CALL, T.CALL), (FINAL, T.RETURN)], ids=["call", "return"]
)
async def test_the_stop_stays_out_and_the_header_tells(
    serve: Serve, encoding: Encoding, prompt: list[int], completion: str, stop: int
) -> None:
    server = serve(FakeOllamaServer, [completion])
    async with Ollama(server.base_url, MODEL) as backend:
        tokens = flat(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, completion)[:-1]  # Ollama names no stop token
    assert restore_stop_token(tokens, prompt=prompt)[-1] == stop


async def test_recipient_in_the_role_header(serve: Serve, encoding: Encoding) -> None:
    """``<|start|>assistant to=...`` puts the recipient before the channel."""
    prompt = harmony(encoding, PROMPT_TEXT + " to=functions.lookup")
    completion = '<|channel|>commentary json<|message|>{"q": 1}<|call|>'
    server = serve(FakeOllamaServer, [completion])
    async with Ollama(server.base_url, MODEL) as backend:
        tokens = flat(await collect(backend.stream(prompt, params())))
    assert restore_stop_token(tokens, prompt=prompt) == harmony(encoding, completion)
    assert restore_stop_token(tokens) == [*harmony(encoding, completion)[:-1], T.RETURN]


async def test_length_stop_appends_nothing(
    serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(FakeOllamaServer, [FINAL])
    async with Ollama(server.base_url, MODEL) as backend:
        tokens = flat(await collect(backend.stream(prompt, params(max_tokens=6))))
    assert tokens == harmony(encoding, FINAL)[:6]
    assert server.last_request["options"]["num_predict"] == 6


async def test_error_line_mid_stream(prompt: list[int]) -> None:
    lines = '{"response": "<|channel|>", "done": false}\n{"error": "model runner crashed"}\n'
    reply = httpx.Response(200, text=lines, headers={"content-type": "application/x-ndjson"})
    transport = httpx.MockTransport(lambda request: reply)
    async with httpx.AsyncClient(transport=transport) as client:
        backend = Ollama("http://ollama.test", MODEL, client=client)
        with pytest.raises(BackendError, match="model runner crashed"):
            await collect(backend.stream(prompt, params()))
