"""The shared plumbing: line protocols, retries, the client, and the token helpers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends import VLLM, HTTPBackend
from harmony_agent.backends._http import (
    DONE,
    TextTokenizer,
    TokenGate,
    _Retryable,
    ndjson_events,
    special_token_id,
    sse_events,
    stop_set,
)
from harmony_agent.backends._lines import EngineEvents
from harmony_agent.backends._tokens import end_of_stream
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding, load_encoding
from harmony_agent.format import _tokens as T
from tests.backends.conftest import FINAL, MODEL, collect, flat, harmony, params


class Bare(HTTPBackend):
    """The base class with its hooks filled in, for what the base class does alone."""

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        return {}

    async def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        yield []


async def _events(body: bytes, ndjson: bool = False) -> list[object]:
    response = httpx.Response(200, content=body)
    parse = ndjson_events if ndjson else sse_events
    return [event async for event in parse(response, "test")]


async def test_sse_events() -> None:
    body = (
        b": a comment\r\n"
        b"event: message\n"
        b'data: {"a":\n'
        b"data: 1}\n"
        b"\n"
        b"id: 7\n"
        b'data: {"b": 2}\n\n'
        b"data: [DONE]\n\n"
        b'data: {"after": "done"}\n\n'
    )
    assert await _events(body) == [{"a": 1}, {"b": 2}, DONE]


async def test_sse_last_event_without_blank_line() -> None:
    assert await _events(b'data: {"x": 1}\n\ndata:{"y": 2}') == [{"x": 1}, {"y": 2}]
    assert await _events(b'data: {"x": 1}\n\ndata: [DONE]') == [{"x": 1}, DONE]


async def test_sse_event_cut_off_by_the_end_is_dropped() -> None:
    """Half an event is what a cut connection leaves: not data, and not a malformed reply."""
    assert await _events(b'data: {"x": 1}\n\ndata: {"choices": [{"tok') == [{"x": 1}]


async def test_sse_error_field() -> None:
    with pytest.raises(BackendError, match="mid-stream: boom"):
        await _events(b"error: boom\n\n")


async def test_engine_events_are_objects_until_done_and_an_error_event_raises() -> None:
    def events(body: bytes) -> EngineEvents:
        return EngineEvents(httpx.Response(200, content=body), "SGLang", "http://127.0.0.1:9")

    done = events(b'data: {"a": 1}\n\ndata: [1, 2]\n\ndata: [DONE]\n\ndata: {"late": 1}\n\n')
    assert [event async for event in done] == [{"a": 1}] and done.done
    cut = events(b'data: {"a": 1}\n\n')
    assert [event async for event in cut] == [{"a": 1}] and not cut.done
    failed = events(b'data: {"error": {"message": "boom"}}\n\n')
    with pytest.raises(
        BackendError, match=r"^SGLang at http://127.0.0.1:9 failed mid-stream: boom"
    ):
        _ = [event async for event in failed]


async def test_ndjson_events() -> None:
    assert await _events(b'{"a": 1}\n\n{"b": 2}\n', ndjson=True) == [{"a": 1}, {"b": 2}]
    with pytest.raises(BackendError, match="malformed reply"):
        await _events(b"{oops\n", ndjson=True)
    # a last line cut off by the end of the body is dropped; a whole one is kept
    assert await _events(b'{"a": 1}\n{"respo', ndjson=True) == [{"a": 1}]
    assert await _events(b'{"a": 1}\n{"b": 2}', ndjson=True) == [{"a": 1}, {"b": 2}]


async def test_retry_after_and_status_in_the_error(prompt: list[int]) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(429, headers={"Retry-After": "0"}, text="slow down")

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
        backend = VLLM(
            "http://vllm.test", model=MODEL, client=client, max_retries=1, retry_backoff=0
        )
        with pytest.raises(BackendError, match="HTTP 429: slow down") as info:
            await collect(backend.stream(prompt, params()))
    assert info.value.status == 429
    assert calls == 2


def test_backoff_grows_and_honours_retry_after() -> None:
    backend = Bare("http://x.test", retry_backoff=1.0)
    plain = _Retryable(503, "", None)
    assert 0.5 <= backend._delay(0, plain) <= 1.0
    assert 2.0 <= backend._delay(2, plain) <= 4.0
    assert backend._delay(10, plain) <= 8.0
    assert backend._delay(0, _Retryable(503, "", 5.0)) == 5.0


def test_a_timeout_is_not_retried() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async def run() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            backend = VLLM("http://vllm.test", model=MODEL, client=client)
            with pytest.raises(BackendError, match=r"after 1 attempt.*ReadTimeout"):
                await collect(backend.stream([1], params()))

    asyncio.run(run())


def test_each_event_loop_gets_its_own_client(prompt: list[int]) -> None:
    """``agent.run`` may call ``asyncio.run`` more than once with one backend."""
    from harmony_agent.testing import FakeVLLMServer

    with FakeVLLMServer([FINAL, FINAL]) as server:
        backend = VLLM(server.base_url, model=MODEL)
        clients = []
        for _ in range(2):

            async def run() -> list[int]:
                clients.append(backend.client)
                return flat(await collect(backend.stream(prompt, params())))

            assert asyncio.run(run()) == harmony(load_encoding(), FINAL)
        assert clients[0] is not clients[1]
        asyncio.run(backend.aclose())


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        Bare("http://x.test", max_retries=-1)
    backend = Bare("http://x.test/", timeout=3.0)
    assert backend.base_url == "http://x.test"
    assert backend.timeout.read == 3.0
    assert repr(backend) == "Bare('http://x.test')"


def test_token_gate() -> None:
    gate = TokenGate(params(max_tokens=10))
    assert gate.take([1, 2]) == [1, 2]
    assert gate.take([3, T.CALL, 4]) == [3, T.CALL]
    assert gate.done and gate.stopped
    assert gate.take([5]) == []
    limited = TokenGate(params(max_tokens=3))
    assert limited.take([1, 2, 3, 4]) == [1, 2, 3]
    assert limited.done and not limited.stopped
    assert stop_set(params()) == (T.RETURN, T.CALL)
    assert stop_set(params(stop_tokens=())) == ()


def test_end_of_stream_adds_the_named_stop_only_when_the_reply_left_it_out() -> None:
    def last(taken: list[int], named: int | None, length: bool) -> tuple[list[int], str]:
        gate = TokenGate(params(max_tokens=10))
        gate.take(taken)
        finish = end_of_stream(gate, None, named, length=length)
        return list(finish), finish.reason

    assert last([1, 2], T.CALL, False) == ([T.CALL], "stop")
    assert last([1, T.RETURN], T.CALL, False) == ([], "stop")
    assert last([1, 2], None, True) == ([], "length")


def test_special_token_id(encoding: Encoding) -> None:
    assert special_token_id("<|call|>", encoding) == T.CALL
    assert special_token_id("<|nope|>", encoding) is None
    assert special_token_id("call", encoding) is None


HARMONY_PIECES = [
    "<|channel|>", "<|message|>", "<|end|>", "<|start|>", "<|call|>", "<|return|>", "<|",
    "<", "|>", "assistant", " to=functions.get", "_weather", " json", "{", '"a"', ": ", "1}",
    "Let", "'s", "'", "ll", " ", "  ", "\n", "\n\n", "\r\n", "\t", "123", "4567", "é", "😀",
    "(", ").", "/", "ABC", "def", "x",
]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(HARMONY_PIECES), max_size=30),
    cuts=st.lists(st.integers(min_value=1, max_value=7), min_size=1, max_size=5),
)
def test_text_tokenizer_matches_whole_text_encoding(pieces: list[str], cuts: list[int]) -> None:
    """However the text is split into chunks, the tokens equal encoding it whole."""
    encoding = load_encoding()
    text = "".join(pieces)
    tokenizer = TextTokenizer(encoding)
    out: list[int] = []
    position, i = 0, 0
    while position < len(text):
        step = cuts[i % len(cuts)]
        out += tokenizer.feed(text[position : position + step])
        position += step
        i += 1
    out += tokenizer.flush()
    assert out == encoding.encode(text, allowed_special="all")


def test_text_tokenizer_restores_end(encoding: Encoding) -> None:
    tokenizer = TextTokenizer(encoding, restore_end=True)
    text = "<|channel|>analysis<|message|>a<|start|>assistant<|channel|>final<|message|>b"
    tokens = tokenizer.feed(text) + tokenizer.flush()
    assert tokens == harmony(encoding, text.replace("<|start|>", "<|end|><|start|>"))
    again = TextTokenizer(encoding, restore_end=True)
    kept = "<|channel|>analysis<|message|>a<|end|><|start|>assistant"
    assert again.feed(kept) + again.flush() == harmony(encoding, kept)


def test_text_tokenizer_holds_back_only_what_can_change(encoding: Encoding) -> None:
    tokenizer = TextTokenizer(encoding)
    assert tokenizer.feed("<|channel|>final<|") == [T.CHANNEL]
    assert tokenizer.feed("message|>Hello big") == harmony(encoding, "final<|message|>")
    assert tokenizer.feed(" world") == harmony(encoding, "Hello")
    assert tokenizer.flush() == harmony(encoding, " big world")
