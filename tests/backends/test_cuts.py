"""Each HTTP adapter knows whether the server finished: every way a stream can break."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from harmony_agent.agent._backend import Finish
from harmony_agent.errors import BackendError, StreamInterrupted
from harmony_agent.format import Encoding, restore_stop_token
from harmony_agent.testing import Cut, FakeServer
from tests.backends.conftest import FINAL, TOOL_CALL, Engine, harmony, params, whole

Serve = Callable[..., FakeServer]
BREAKS = ["reset", "end", "partial", "eof", "garbage"]


async def read(backend: object, prompt: list[int], max_tokens: int = 512) -> list[object]:
    return [chunk async for chunk in backend.stream(prompt, params(max_tokens=max_tokens))]  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", BREAKS)
@pytest.mark.parametrize("after", [1, 9, 16])
async def test_a_cut_after_tokens_raises_stream_interrupted(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], how: str, after: int
) -> None:
    """However the stream breaks (HTTP error or a clean end), no end marker means no finish."""
    server = serve(engine.server, [FINAL], cut=Cut(after, how))  # type: ignore[arg-type]
    received: list[int] = []
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        with pytest.raises(StreamInterrupted) as info:
            async for chunk in backend.stream(prompt, params()):
                assert not isinstance(chunk, Finish)
                received += chunk
    want = harmony(encoding, FINAL)
    assert received == want[: len(received)]
    assert 0 < len(received) <= after
    error = info.value
    assert error.received == len(received)
    assert error.url == server.base_url
    assert server.base_url in str(error) and f"after {len(received)} token(s)" in str(error)
    assert server.requests_seen == 1  # tokens arrived: not replayed by the backend


@pytest.mark.parametrize("how", BREAKS)
async def test_the_end_marker_itself_is_what_is_cut(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], how: str
) -> None:
    """Every token arrived, but not the server's last word that it finished."""
    want = harmony(encoding, FINAL)
    server = serve(engine.server, [FINAL], cut=Cut(len(want), how))  # type: ignore[arg-type]
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        if engine.tokens:
            # The stop token itself arrived (vLLM and SGLang also put finish_reason on
            # its chunk): that is the server's word, whatever follows.
            chunks = await read(backend, prompt)
            assert [t for chunk in chunks for t in chunk] == want  # type: ignore[attr-defined]
            assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "stop"
        else:
            # Ollama's text leaves the stop token out: only `done: true` says it ended.
            with pytest.raises(StreamInterrupted, match="before the server said"):
                await read(backend, prompt)


async def test_right_before_the_stop_token(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    n = len(harmony(encoding, TOOL_CALL))
    server = serve(engine.server, [TOOL_CALL], cut=Cut(n - 1, "end"))
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        with pytest.raises(StreamInterrupted):
            await read(backend, prompt)


@pytest.mark.parametrize("how", BREAKS)
async def test_a_cut_before_any_token_is_retried(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int], how: str
) -> None:
    """Nothing reached the caller: the request is simply sent again, as before."""
    plan = lambda number, resumed: Cut(0, how) if number == 1 else None  # type: ignore[arg-type]  # noqa: E731
    server = serve(engine.server, [FINAL, FINAL], cut=plan)
    async with engine.make(server.base_url, retry_backoff=0.0) as backend:
        chunks = await read(backend, prompt)
    assert whole(chunks) == harmony(encoding, FINAL)  # type: ignore[arg-type]
    assert server.requests_seen == 2 and server.cuts == 1


async def test_a_stall_past_the_read_timeout(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL], cut=Cut(5, "stall", stall=5.0))
    timeout = httpx.Timeout(0.3, connect=5.0)
    async with engine.make(server.base_url, timeout=timeout, retry_backoff=0.0) as backend:
        with pytest.raises(StreamInterrupted, match="read timeout") as info:
            await read(backend, prompt)
    assert 0 < info.value.received <= 5


async def test_a_server_that_dies_mid_stream(
    engine: Engine, serve: Serve, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL], cut=Cut(4, "die"))
    async with engine.make(server.base_url, retry_backoff=0.0, max_retries=1) as backend:
        with pytest.raises(StreamInterrupted):
            await read(backend, prompt)
        with pytest.raises(BackendError, match="failed after 2 attempt"):  # it stays dead
            await read(backend, prompt)


async def test_the_server_length_limit_is_reported(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    """A completion the server ended for length says so, even below ``max_tokens``."""
    server = serve(engine.server, [FINAL], length_limit=5)
    async with engine.make(server.base_url) as backend:
        chunks = await read(backend, prompt, max_tokens=100)
    assert [t for chunk in chunks for t in chunk] == harmony(encoding, FINAL)[:5]  # type: ignore[attr-defined]
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "length"


async def test_our_own_limit_is_reported_as_length(
    engine: Engine, serve: Serve, prompt: list[int]
) -> None:
    server = serve(engine.server, [FINAL])
    async with engine.make(server.base_url) as backend:
        chunks = await read(backend, prompt, max_tokens=3)
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "length"


async def test_a_resumed_request_gets_the_rest(
    engine: Engine, serve: Serve, encoding: Encoding, prompt: list[int]
) -> None:
    """The fake engine continues a cut completion, as a real one would."""
    want = harmony(encoding, FINAL)
    server = serve(engine.server, lambda prompt_tokens: FINAL)
    async with engine.make(server.base_url) as backend:
        first = await read(backend, [*prompt, *want[:6]])  # nothing served yet: fresh
        await read(backend, prompt)
        rest = await read(backend, [*prompt, *want[:6]])
    assert whole(first) == want  # type: ignore[arg-type]
    rest_tokens = [t for chunk in rest for t in chunk]  # type: ignore[attr-defined]
    assert restore_stop_token(rest_tokens, prompt=[*prompt, *want[:6]]) == want[6:]
    assert server.resumed == 1
