"""Fixtures of the backend tests: loopback-only network, the encoding, the four engines."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends import VLLM, HTTPBackend, LlamaCpp, Ollama, SGLang
from harmony_agent.format import Encoding, restore_stop_token
from harmony_agent.testing import (
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeServer,
    FakeSGLangServer,
    FakeVLLMServer,
)
from tests._helpers import tokens as harmony  # noqa: F401 - the backend tests' name for it

MODEL = "openai/gpt-oss-20b"
PROMPT_TEXT = (
    "<|start|>system<|message|>You are ChatGPT.<|end|>"
    "<|start|>user<|message|>What is the weather in Tokyo?<|end|><|start|>assistant"
)
TOOL_CALL = (
    "<|channel|>analysis<|message|>Need the weather tool.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"location": "Tokyo"}<|call|>'
)
FINAL = "<|channel|>final<|message|>It is sunny in Tokyo, 24 °C. ☀️<|return|>"


@pytest.fixture(scope="session")
def prompt(encoding: Encoding) -> list[int]:
    return encoding.encode(PROMPT_TEXT, allowed_special="all")


@dataclass(frozen=True)
class Engine:
    """One engine: its fake server and a factory for its adapter."""

    name: str
    server: type[FakeServer]
    make: Callable[..., HTTPBackend]
    tokens: bool  #: the wire carries token ids (not text only)

    def __str__(self) -> str:
        return self.name


ENGINES = [
    Engine("vllm", FakeVLLMServer, lambda url, **kw: VLLM(url, model=MODEL, **kw), True),
    Engine("sglang", FakeSGLangServer, lambda url, **kw: SGLang(url, **kw), True),
    Engine("llamacpp", FakeLlamaCppServer, lambda url, **kw: LlamaCpp(url, **kw), True),
    Engine("ollama", FakeOllamaServer, lambda url, **kw: Ollama(url, MODEL, **kw), False),
]


@pytest.fixture(params=ENGINES, ids=str)
def engine(request: pytest.FixtureRequest) -> Engine:
    return request.param  # type: ignore[no-any-return]


async def collect(stream: AsyncIterator[Any]) -> list[list[int]]:
    """Every chunk of a stream, as lists."""
    return [list(chunk) async for chunk in stream]


def flat(chunks: list[list[int]]) -> list[int]:
    return [t for chunk in chunks for t in chunk]


def whole(chunks: list[list[int]]) -> list[int]:
    """The streamed completion with a stop token the engine did not name put back,
    as the agent does (adapters add only the stops their engine names)."""
    return restore_stop_token(flat(chunks))


async def eventually(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Wait, without blocking the event loop, until ``predicate()`` holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def params(**kwargs: Any) -> SamplingParams:
    kwargs.setdefault("max_tokens", 512)
    return SamplingParams(**kwargs)
