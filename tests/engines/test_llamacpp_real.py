"""``LlamaCpp`` and the agent loop against llama.cpp's own server (a tiny random model).

The model is random, so a GBNF grammar with token matches plus a ``logit_bias`` that
bans the unwanted stop token makes it write harmony where a test needs harmony; other
tests let it write whatever it likes and check that the garbage is handled.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

import harmony_agent as ha
from harmony_agent.agent._backend import Finish, SamplingParams
from harmony_agent.backends import LlamaCpp
from harmony_agent.format import _tokens as T
from tests._helpers import lookup
from tests.engines.conftest import LlamaServer

pytestmark = pytest.mark.engines

#: A final answer: ``<|channel|>final<|message|>`` and a few lowercase words.
FINAL_GRAMMAR = 'root ::= <[200005]> "final" <[200008]> [a-z]{2,12} (" " [a-z]{1,8}){0,3}\n'
#: A tool call to ``functions.lookup`` with a JSON argument.
CALL_GRAMMAR = (
    'root ::= <[200005]> "commentary to=functions.lookup " <[200003]> "json" <[200008]>'
    ' "{\\"topic\\": \\"" [a-z]{1,8} "\\"}"\n'
)
BAN = False  # llama.cpp: a logit bias of false means "never this token"


def guided(grammar: str, stop: int) -> dict[str, Any]:
    """Extra body that makes the random model write ``grammar`` and then ``stop``."""
    banned = {T.RETURN, T.CALL, T.ENDOFTEXT} - {stop}
    return {"grammar": grammar, "logit_bias": [[t, BAN] for t in sorted(banned)]}


def unstoppable() -> dict[str, Any]:
    """Extra body that bans every end-of-generation token: it runs to the limit."""
    return {"logit_bias": [[t, BAN] for t in (T.RETURN, T.CALL, T.ENDOFTEXT)]}


def prompt(question: str = "What is life?") -> list[int]:
    text = f"<|start|>user<|message|>{question}<|end|><|start|>assistant"
    return ha.load_encoding().encode(text, allowed_special="all")


async def chunks_of(backend: LlamaCpp, tokens: list[int], params: SamplingParams) -> list[Any]:
    return [chunk async for chunk in backend.stream(tokens, params)]


class Guided(LlamaCpp):
    """Calls the tool first, then answers: the grammar follows the conversation."""

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        body = super().request_body(prompt_tokens, params)
        answered = ": 42" in ha.load_encoding().decode(prompt_tokens)
        body.update(guided(FINAL_GRAMMAR, T.RETURN) if answered else guided(CALL_GRAMMAR, T.CALL))
        return body


async def test_token_ids_in_and_out_with_the_stop_token(llama_server: LlamaServer) -> None:
    extra = guided(FINAL_GRAMMAR, T.RETURN)
    async with LlamaCpp(llama_server.base_url, extra_body=extra) as backend:
        chunks = await chunks_of(backend, prompt(), SamplingParams(max_tokens=64, seed=1))
    tokens = [t for chunk in chunks for t in chunk]
    assert tokens[:1] == [T.CHANNEL] and T.MESSAGE in tokens
    assert tokens[-1] == T.RETURN  # the model's own stop token, as an id
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "stop"
    assert len(chunks) > 3  # streamed, not in one piece
    text = ha.load_encoding().decode(tokens)
    assert text.startswith("<|channel|>final<|message|>") and text.endswith("<|return|>")


async def test_a_tool_call_ends_with_call(llama_server: LlamaServer) -> None:
    async with LlamaCpp(llama_server.base_url, extra_body=guided(CALL_GRAMMAR, T.CALL)) as backend:
        chunks = await chunks_of(backend, prompt(), SamplingParams(max_tokens=64, seed=2))
    tokens = [t for chunk in chunks for t in chunk]
    assert tokens[-1] == T.CALL and T.CONSTRAIN in tokens
    assert json.loads(ha.load_encoding().decode(tokens).split("<|message|>")[1][: -len("<|call|>")])


async def test_max_tokens_ends_with_length(llama_server: LlamaServer) -> None:
    async with LlamaCpp(llama_server.base_url, extra_body=unstoppable()) as backend:
        chunks = await chunks_of(backend, prompt(), SamplingParams(max_tokens=7, seed=3))
    assert sum(len(c) for c in chunks) == 7
    assert isinstance(chunks[-1], Finish) and chunks[-1].reason == "length"


async def test_other_stop_tokens_are_enforced(llama_server: LlamaServer) -> None:
    extra = guided(FINAL_GRAMMAR, T.RETURN)
    async with LlamaCpp(llama_server.base_url, extra_body=extra) as backend:
        params = SamplingParams(max_tokens=64, stop_tokens=(T.MESSAGE,))
        tokens = [t for chunk in await chunks_of(backend, prompt(), params) for t in chunk]
    assert tokens[-1] == T.MESSAGE and tokens.count(T.MESSAGE) == 1


async def _slots(base_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient() as client:
        response = await client.get(base_url + "/slots")
    if response.status_code != 200:
        pytest.skip(f"this llama-server has no /slots endpoint: {response.text[:200]}")
    slots: list[dict[str, Any]] = response.json()
    return slots


def _decoded(value: Any) -> list[int]:
    """Every ``n_decoded`` count in a slot's JSON (its place moved between versions)."""
    if isinstance(value, dict):
        found = [int(v) for k, v in value.items() if k == "n_decoded" and isinstance(v, int)]
        return found + [n for v in value.values() for n in _decoded(v)]
    if isinstance(value, list):
        return [n for v in value for n in _decoded(v)]
    return []


async def test_closing_the_stream_aborts_the_generation(llama_server: LlamaServer) -> None:
    limit = 1500
    async with LlamaCpp(llama_server.base_url, extra_body=unstoppable()) as backend:
        stream = backend.stream(prompt(), SamplingParams(max_tokens=limit))
        seen = 0
        async for chunk in stream:
            seen += len(chunk)
            if seen >= 3:
                break
        await stream.aclose()  # type: ignore[attr-defined]
    for _ in range(200):
        slots = await _slots(llama_server.base_url)
        if not any(slot.get("is_processing") for slot in slots):
            break
        await asyncio.sleep(0.05)
    assert not any(slot.get("is_processing") for slot in slots)
    decoded = _decoded(slots)
    assert decoded and max(decoded) < limit  # it stopped long before the limit


async def test_the_agent_calls_a_tool_and_answers(llama_server: LlamaServer) -> None:
    async with Guided(llama_server.base_url) as backend:
        agent = ha.Agent(backend, tools=[lookup], sampling=SamplingParams(max_tokens=64))
        result = await agent.arun("What is life?")
    assert result.stop_reason == "final" and result.final_text
    calls = [m for m in result.messages if m.recipient == "functions.lookup"]
    assert len(calls) == 1
    assert any(": 42" in str(m.content) for m in result.messages)


async def test_concurrent_runs_share_the_server(llama_server: LlamaServer) -> None:
    async with Guided(llama_server.base_url) as backend:
        agent = ha.Agent(backend, tools=[lookup], sampling=SamplingParams(max_tokens=64))
        results = await asyncio.gather(*(agent.arun(f"Question {i}?") for i in range(6)))
    assert [r.stop_reason for r in results] == ["final"] * 6


@pytest.mark.parametrize("seed", [11, 12, 13])
async def test_garbage_from_a_random_model_is_handled(llama_server: LlamaServer, seed: int) -> None:
    """No grammar: whatever the random model writes ends the run cleanly."""
    async with LlamaCpp(llama_server.base_url) as backend:
        sampling = SamplingParams(max_tokens=48, seed=seed)
        agent = ha.Agent(backend, tools=[lookup], sampling=sampling, max_turns=3)
        result = await agent.arun("What is life?")
    assert result.stop_reason in {"final", "no_final", "max_turns", "max_tokens"}
    assert result.usage.completion_tokens > 0
