"""A backend of your own: a plain function, or a class with ``stream`` in about ten lines.

A backend turns prompt token ids into generated token ids. The class below speaks vLLM's
``/v1/completions`` with token ids (``ha.backends.VLLM`` is the complete version, with
retries, errors and fallbacks); offline it runs against the fake vLLM server of
``harmony_agent.testing``, which replays a scripted answer.

    python examples/custom_backend.py
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

import harmony_agent as ha
from harmony_agent.testing import FakeVLLMServer

ANSWER = "<|channel|>final<|message|>Hello from a ten-line backend.<|return|>"


class TinyVLLM:
    def __init__(self, url: str, model: str) -> None:
        self.url, self.model = url, model

    async def stream(self, prompt: list[int], params: ha.SamplingParams) -> AsyncIterator[Any]:
        body = {"model": self.model, "prompt": prompt, "max_tokens": params.max_tokens,
                "stop_token_ids": list(params.stop_tokens or ()), "stream": True,
                "return_token_ids": True, "skip_special_tokens": False}  # fmt: skip
        async with (
            httpx.AsyncClient() as client,
            client.stream("POST", f"{self.url}/v1/completions", json=body) as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith("data: {"):
                    yield json.loads(line[6:])["choices"][0]["token_ids"]


def echo(prompt: list[int], params: ha.SamplingParams) -> list[int]:
    """The smallest backend: a function returning token ids (here always the same)."""
    return ha.load_encoding().encode(ANSWER.replace("a ten-line", "a"), allowed_special="all")


def main() -> None:
    print("function:", ha.Agent(echo).run("Hi").final_text)
    with FakeVLLMServer(ANSWER) as server:
        agent = ha.Agent(TinyVLLM(server.base_url, server.model_name))
        result = agent.run("Hi")
    print("class:   ", result.final_text, f"({result.usage.completion_tokens} tokens)")


if __name__ == "__main__":
    main()
