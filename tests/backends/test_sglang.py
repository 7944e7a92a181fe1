"""The SGLang adapter: its exact requests, cumulative and incremental streams."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from harmony_agent.backends import SGLang
from harmony_agent.backends._sglang import _new_ids
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from harmony_agent.testing import FakeServer, FakeSGLangServer
from tests.backends.conftest import FINAL, TOOL_CALL, collect, flat, harmony, params

Serve = Callable[..., FakeServer]


async def test_request_body(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeSGLangServer, [FINAL])
    async with SGLang(server.base_url) as backend:
        await collect(backend.stream(prompt, params(max_tokens=64, temperature=0.5)))
    assert server.last_request == {
        "input_ids": prompt,
        "sampling_params": {
            "max_new_tokens": 64,
            "temperature": 0.5,
            "top_p": 1.0,
            "stop_token_ids": [T.RETURN, T.CALL],
            "skip_special_tokens": False,
            "spaces_between_special_tokens": False,
            "no_stop_trim": True,
        },
        "stream": True,
    }


async def test_seed_goes_in_sampling_params(serve: Serve, prompt: list[int]) -> None:
    server = serve(FakeSGLangServer, [FINAL])
    async with SGLang(server.base_url) as backend:
        await collect(backend.stream(prompt, params(seed=3)))
    assert server.last_request["sampling_params"]["sampling_seed"] == 3


@pytest.mark.parametrize("text_only", [False, True])
async def test_incremental_streaming_output(
    serve: Serve, encoding: Encoding, prompt: list[int], text_only: bool
) -> None:
    server = serve(FakeSGLangServer, [TOOL_CALL], incremental=True, text_only=text_only)
    async with SGLang(server.base_url) as backend:
        chunks = await collect(backend.stream(prompt, params()))
    assert flat(chunks) == harmony(encoding, TOOL_CALL)


def test_new_ids_covers_both_stream_kinds() -> None:
    # cumulative, with the positions in meta_info
    assert _new_ids([5, 6, 7], [5, 6], 3) == [7]
    # incremental: a delta of 2 tokens ending at position 4
    assert _new_ids([8, 9], [5, 6], 4) == [8, 9]
    # cumulative without meta_info: by prefix
    assert _new_ids([5, 6, 7], [5, 6], None) == [7]
    # incremental without meta_info
    assert _new_ids([1], [5, 6], None) == [1]
    # a repeat of what was received adds nothing
    assert _new_ids([5, 6], [5, 6], 2) == []


def _mock(*events: str) -> httpx.AsyncClient:
    body = "".join(f"data: {event}\n\n" for event in events)
    reply = httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: reply))


async def test_abort_is_an_error(prompt: list[int]) -> None:
    finish = '{"type": "abort", "message": "out of memory"}'
    event = f'{{"text": "", "output_ids": [], "meta_info": {{"finish_reason": {finish}}}}}'
    async with _mock(event) as client:
        backend = SGLang("http://sglang.test", client=client)
        with pytest.raises(BackendError, match="aborted the request: out of memory"):
            await collect(backend.stream(prompt, params()))


async def test_error_event(prompt: list[int]) -> None:
    async with _mock('{"error": {"message": "prompt too long"}}', "[DONE]") as client:
        backend = SGLang("http://sglang.test", client=client)
        with pytest.raises(BackendError, match="prompt too long"):
            await collect(backend.stream(prompt, params()))


async def test_matched_stop_string(encoding: Encoding, prompt: list[int]) -> None:
    meta = '{"finish_reason": {"type": "stop", "matched": "<|call|>"}, "completion_tokens": 4}'
    text = "<|channel|>commentary to=functions.f<|message|>{}"
    event = '{"text": ' + f'"{text}"' + ', "meta_info": ' + meta + "}"
    async with _mock(event) as client:
        backend = SGLang("http://sglang.test", client=client)
        tokens = flat(await collect(backend.stream(prompt, params())))
    assert tokens == [*harmony(encoding, text), T.CALL]
