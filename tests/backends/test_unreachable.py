"""A server that is not there: one clear line, and no retry storm across many runs."""

from __future__ import annotations

import httpx
import pytest

import harmony_agent as ha
from harmony_agent.backends import VLLM
from harmony_agent.testing import FakeVLLMServer
from tests.backends.conftest import MODEL


async def test_an_unreachable_server_is_one_clear_error() -> None:
    with FakeVLLMServer() as server:
        url = server.base_url  # closed on exit: nothing listens there now
    async with VLLM(url, model=MODEL, retry_backoff=0.0) as backend:
        with pytest.raises(ha.BackendError) as info:
            await ha.Agent(backend).arun("hi")
    message = str(info.value)
    assert url in message and "could not connect" in message
    assert "Is the server running" in message and "\n" not in message
    assert info.value.__cause__ is None  # no chained httpcore traceback
    assert info.value.__suppress_context__


async def test_many_runs_against_a_dead_server_fail_fast() -> None:
    """Once a request found the server unreachable, later ones try once, not four times."""
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as client:
        backend = VLLM("http://gone.test", model=MODEL, client=client, retry_backoff=0.0)
        agent = ha.Agent(backend)
        results = await ha.agent.arun_many(agent, ["q"] * 20, concurrency=1, progress=False)
    assert {r.stop_reason for r in results} == {"error"}
    assert all("could not connect" in (r.error or "") for r in results)
    assert attempts == 4 + 19  # the first run retries; the others see it is down


async def test_a_server_that_comes_back_is_retried_again() -> None:
    calls = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        if calls <= 4:
            raise httpx.ConnectError("connection refused", request=request)
        body = (
            'data: {"choices": [{"text": "", "token_ids": [200005], "finish_reason": null}]}\n\n'
            'data: {"choices": [{"text": "", "token_ids": [17196], "finish_reason": "length"}]}'
            "\n\ndata: [DONE]\n\n"
        )
        return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(flaky)) as client:
        backend = VLLM("http://back.test", model=MODEL, client=client, retry_backoff=0.0)
        params = ha.SamplingParams(max_tokens=2)
        with pytest.raises(ha.BackendError):
            [c async for c in backend.stream([1], params)]
        chunks = [list(c) async for c in backend.stream([1], params)]  # one try: it is back
        assert [t for c in chunks for t in c] == [200005, 17196]
        assert backend._retries() == backend.max_retries  # known to be up again


def test_blocking_runs_close_the_client_of_their_event_loop() -> None:
    """``run`` and ``run_many`` end their loop: its HTTP client is closed, not leaked."""
    with FakeVLLMServer() as server:
        backend = VLLM(server.base_url, model=MODEL)
        agent = ha.Agent(backend)
        assert agent.run("hi").stop_reason == "final"
        assert backend._client is None
        assert [r.stop_reason for r in ha.run_many(agent, ["a", "b"], progress=False)] == [
            "final",
            "final",
        ]
        assert backend._client is None
