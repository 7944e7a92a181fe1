"""Fixtures of the server tests: the app served by uvicorn on 127.0.0.1 over a fake engine.

``served(model, **app_options)`` starts a :class:`FakeVLLMServer` running ``model`` (a
harmony text, a list replayed in order, or a function of the prompt tokens), puts
``create_app`` in front of it on a random port and returns a :class:`Served` (the
server's base URL, the fake engine, and ``client()`` / ``aclient()``: ``openai``
clients pointed at it). Everything stops at the end of the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import openai
import pytest

from harmony_agent.backends import VLLM
from harmony_agent.format import Encoding
from harmony_agent.server import create_app, running
from harmony_agent.testing import FakeServer, FakeVLLMServer

ENGINE_MODEL = "openai/gpt-oss-20b"
API_MODEL = "gpt-oss-test"


@dataclass
class Served:
    """A running app: its base URL (no ``/v1``), the fake engine behind it."""

    url: str
    engine: FakeServer
    stack: ExitStack
    api_key: str | None = None

    @property
    def v1(self) -> str:
        return self.url + "/v1"

    def client(self, **kwargs: Any) -> openai.OpenAI:
        kwargs.setdefault("api_key", self.api_key or "none")
        kwargs.setdefault("max_retries", 0)
        client = openai.OpenAI(base_url=self.v1, **kwargs)
        self.stack.callback(client.close)
        return client

    def aclient(self, **kwargs: Any) -> openai.AsyncOpenAI:
        """An async client; close it (``async with``) in the test's own event loop."""
        kwargs.setdefault("api_key", self.api_key or "none")
        kwargs.setdefault("max_retries", 0)
        return openai.AsyncOpenAI(base_url=self.v1, **kwargs)

    def prompts(self, encoding: Encoding) -> list[str]:
        """The prompts the engine received, as harmony text."""
        return [encoding.decode(body["prompt"]) for body in self.engine.bodies]


@pytest.fixture
def served() -> Iterator[Callable[..., Served]]:
    with ExitStack() as stack:

        def start(model: Any = None, *, engine: dict[str, Any] | None = None, **app: Any) -> Served:
            fake = stack.enter_context(
                FakeVLLMServer(model, model_name=ENGINE_MODEL, **(engine or {}))
            )
            backend = VLLM(fake.base_url, model=ENGINE_MODEL, max_retries=0)
            app.setdefault("model", API_MODEL)
            url = stack.enter_context(running(create_app(backend, **app)))
            return Served(url, fake, stack, app.get("api_key"))

        yield start
