"""Behaviour every HTTP adapter shares, each against its engine's fake server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from contextlib import aclosing
from typing import Any

import pytest

from harmony_agent.agent._backend import Finish
from harmony_agent.errors import BackendError, StreamInterrupted
from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from harmony_agent.testing import FakeServer
from tests.backends.conftest import (
    FINAL,
    TOOL_CALL,
    Engine,
    collect,
    eventually,
    flat,
    harmony,
    params,
    whole,
)

Serve = Callable[..., FakeServer]
LONG = "<|channel|>final<|message|>" + "word " * 300 + "<|return|>"


@pytest.mark.parametrize("completion", [TOOL_CALL, FINAL], ids=["call", "final"])
async def test_round_trip(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], completion: str
) -> None:
    server = serve(engine.server, [completion])
    async with engine.make(server.base_url) as backend:
        raw = [chunk async for chunk in backend.stream(prompt, params())]
    chunks = [list(chunk) for chunk in raw]
    want = harmony(encoding, completion)
    assert whole(chunks) == want
    assert server.completed == 1
    assert server.disconnects == 0
    assert isinstance(raw[-1], Finish) and raw[-1].reason == "stop"  # the server said so
    assert not any(isinstance(chunk, Finish) for chunk in raw[:-1])
    if engine.tokens:  # one token per server event, passed on as it comes
        assert chunks == [*([t] for t in want), []]
    else:
        assert len(chunks) > 3


async def test_prompt_goes_out_intact(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    seen: list[list[int]] = []

    def model(prompt_tokens: list[int]) -> str:
        seen.append(prompt_tokens)
        return FINAL

    server = serve(engine.server, model)
    async with engine.make(server.base_url) as backend:
        await collect(backend.stream(prompt, params()))
    assert seen == [prompt]


@pytest.mark.parametrize("completion", [TOOL_CALL, FINAL], ids=["call", "final"])
async def test_text_only_fallback(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], completion: str
) -> None:
    server = serve(engine.server, [completion], text_only=True)
    async with engine.make(server.base_url) as backend:
        chunks = await collect(backend.stream(prompt, params()))
    assert whole(chunks) == harmony(encoding, completion)


@pytest.mark.parametrize("completion", [TOOL_CALL, FINAL], ids=["call", "final"])
async def test_stripped_stop_token_is_restored(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], completion: str
) -> None:
    server = serve(engine.server, [completion], strip_stop=True)
    async with engine.make(server.base_url) as backend:
        chunks = await collect(backend.stream(prompt, params()))
    want = harmony(encoding, completion)
    if engine.name in ("vllm", "sglang"):  # the engine names the stop: the adapter adds it
        assert flat(chunks) == want
    else:  # llama.cpp says "eos", Ollama nothing: it stays out for the agent to restore
        assert flat(chunks) == want[:-1] and whole(chunks) == want


async def test_length_limit_appends_no_stop(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL])
    async with engine.make(server.base_url) as backend:
        tokens = flat(await collect(backend.stream(prompt, params(max_tokens=5))))
    assert tokens == harmony(encoding, FINAL)[:5]


@pytest.mark.parametrize(
    ("header", "stop"),
    [("<|channel|>final", T.RETURN), ("<|channel|>commentary to=functions.f json", T.CALL)],
    ids=["final", "call"],
)
async def test_an_unnamed_stop_stays_out_and_the_header_tells(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], header: str, stop: int
) -> None:
    """The engine says it stopped but not on which token: no adapter guesses; the
    parsed header tells (what the agent and ``restore_stop_token`` do)."""
    text = header + "<|message|>done"
    server = serve(engine.server, [text])  # the script ends without a stop token
    async with engine.make(server.base_url) as backend:
        chunks = await collect(backend.stream(prompt, params()))
    assert flat(chunks) == harmony(encoding, text)
    assert whole(chunks) == [*harmony(encoding, text), stop]


async def test_retries_5xx_then_succeeds(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL], fail_first=2, fail_status=503)
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        tokens = whole(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, FINAL)
    assert server.requests_seen == 3
    assert server.bodies[0] == server.bodies[2]


async def test_retries_429_and_dropped_connections(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL], fail_first=1, fail_status=429, drop_first=1)
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        tokens = whole(await collect(backend.stream(prompt, params())))
    assert tokens == harmony(encoding, FINAL)
    assert server.requests_seen == 3


async def test_gives_up_after_max_retries(engine: Engine, serve: Serve, prompt: list[int]) -> None:
    server = serve(engine.server, [FINAL], fail_first=100, fail_status=500)
    async with engine.make(server.base_url, max_retries=2, retry_backoff=0.0) as backend:
        with pytest.raises(BackendError, match=r"after 3 attempt\(s\).*injected failure") as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status == 500
    assert server.requests_seen == 3


async def test_connection_refused(engine: Engine, prompt: list[int]) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    backend = engine.make(f"http://127.0.0.1:{port}", max_retries=2, retry_backoff=0.0)
    async with backend:
        with pytest.raises(
            BackendError, match=r"after 3 attempt\(s\): could not connect \(ConnectError"
        ) as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status is None


BAD_BODIES: dict[str, tuple[dict[str, Any], int, str]] = {
    "vllm": ({"top_p": 5}, 400, "top_p must be in (0, 1]"),
    "sglang": ({"sampling_params": {"bogus": 1}}, 400, "unexpected keyword argument 'bogus'"),
    "llamacpp": ({"n_predict": "many"}, 400, "`n_predict` must be of type int"),
    "ollama": ({"model": "nope:1b"}, 404, "model 'nope:1b' not found"),
}


async def test_4xx_raises_with_the_body(engine: Engine, serve: Serve, prompt: list[int]) -> None:
    extra, status, message = BAD_BODIES[engine.name]
    server = serve(engine.server, [FINAL])
    async with engine.make(server.base_url, extra_body=extra) as backend:
        with pytest.raises(BackendError) as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status == status
    assert f"HTTP {status}" in str(info.value)
    assert message in str(info.value)
    assert server.requests_seen == 1  # a client error is not retried


async def test_half_streamed_completion_is_not_replayed(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL], drop_after=4)
    received: list[int] = []
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        with pytest.raises(
            StreamInterrupted, match="before the server said it had finished"
        ) as info:
            async for chunk in backend.stream(prompt, params()):
                received += chunk
    assert server.requests_seen == 1
    assert received == harmony(encoding, FINAL)[: len(received)]
    assert received
    assert info.value.received == len(received)
    assert info.value.url == server.base_url
    assert f"after {len(received)} token(s)" in str(info.value)


async def test_aclose_aborts_the_request(engine: Engine, serve: Serve, prompt: list[int]) -> None:
    server = serve(engine.server, [LONG], token_delay=0.002)
    async with engine.make(server.base_url) as backend:
        stream = backend.stream(prompt, params())
        first = await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        assert first
        assert await eventually(lambda: server.disconnects == 1)
    assert server.completed == 0


async def test_breaking_out_aborts_the_request(
    engine: Engine, serve: Serve, prompt: list[int]
) -> None:
    server = serve(engine.server, [LONG, LONG], token_delay=0.002)
    async with engine.make(server.base_url) as backend:
        async with aclosing(backend.stream(prompt, params())) as stream:  # type: ignore[type-var]
            async for _chunk in stream:
                break
        assert await eventually(lambda: server.disconnects == 1)
        async for _chunk in backend.stream(prompt, params()):
            break  # left to the garbage collector's finalizer
        assert await eventually(lambda: server.disconnects == 2)
    assert server.completed == 0


async def test_cancelling_the_task_aborts_the_request(
    engine: Engine, serve: Serve, prompt: list[int]
) -> None:
    server = serve(engine.server, [LONG], token_delay=0.002)
    started = asyncio.Event()

    async def consume() -> None:
        async for _chunk in backend.stream(prompt, params()):
            started.set()

    async with engine.make(server.base_url) as backend:
        task = asyncio.create_task(consume())
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await eventually(lambda: server.disconnects == 1)
    assert server.completed == 0


async def test_concurrent_streams_overlap(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    """32 streams at once: the server holds each until all 32 are open (a barrier)."""
    n = 32

    def model(prompt_tokens: list[int]) -> str:
        return f"<|channel|>final<|message|>answer {len(prompt_tokens)}<|return|>"

    server = serve(engine.server, model, barrier=n, token_delay=0.001)
    prompts = [[*prompt, *harmony(encoding, "x" * i)] for i in range(n)]
    async with engine.make(server.base_url) as backend:
        results = await asyncio.gather(*(collect(backend.stream(p, params())) for p in prompts))
    for p, chunks in zip(prompts, results, strict=True):
        assert whole(chunks) == harmony(encoding, model(p))
    assert server.max_active == n
    assert server.completed == n


async def test_api_key(engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]) -> None:
    server = serve(engine.server, [FINAL], api_key="sk-test")
    async with engine.make(server.base_url, api_key="sk-test") as backend:
        assert whole(await collect(backend.stream(prompt, params()))) == harmony(encoding, FINAL)
    async with engine.make(server.base_url) as backend:
        with pytest.raises(BackendError) as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status == 401


async def test_custom_stop_token_cuts_the_stream(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    """A stop token the engine may not know (``<|end|>``) still ends the completion."""
    completion = "<|channel|>analysis<|message|>thinking<|end|><|start|>assistant" + LONG
    server = serve(engine.server, [completion], token_delay=0.002)
    async with engine.make(server.base_url) as backend:
        tokens = flat(await collect(backend.stream(prompt, params(stop_tokens=(T.END,)))))
    assert tokens == harmony(encoding, "<|channel|>analysis<|message|>thinking<|end|>")


async def test_client_is_reused_and_closed(engine: Engine, serve: Serve, prompt: list[int]) -> None:
    server = serve(engine.server, [FINAL, FINAL])
    backend = engine.make(server.base_url)
    await collect(backend.stream(prompt, params()))
    client = backend.client
    await collect(backend.stream(prompt, params()))
    assert backend.client is client
    await backend.aclose()
    assert client.is_closed
