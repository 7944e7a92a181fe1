"""Ollama's ``/api/generate`` in raw mode: harmony text in, text out, re-encoded here."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

import httpx

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._http import (
    DEFAULT_TIMEOUT,
    TRAILING_ERRORS,
    HTTPBackend,
    TextTokenizer,
    TokenGate,
    Unfinished,
    error_message,
    ndjson_events,
    stop_set,
)
from harmony_agent.errors import BackendError

__all__ = ["Ollama"]


class Ollama(HTTPBackend):
    """An Ollama server (``ollama pull gpt-oss:20b``).

    Ollama speaks text only: the prompt is sent decoded, with special tokens literal, as
    a ``raw`` prompt, and the streamed text is re-encoded with special tokens allowed.
    Ollama strips the stop token and does not render ``<|end|>``; ``<|end|>`` is put
    back before each ``<|start|>``. The stop token stays out: the agent restores it from
    the parsed header (code driving the backend directly: use
    :func:`~harmony_agent.format.restore_stop_token`). Token ids can differ from the
    model's own where a text has several encodings.

    Args:
        base_url: e.g. ``"http://localhost:11434"``.
        model: the model tag, e.g. ``"gpt-oss:20b"``.
        api_key: sent as a bearer token (ollama.com, or a proxy in front of Ollama).
        keep_alive: how long Ollama keeps the model loaded (``"5m"``, ``-1``); its default if None.
        timeout, max_retries, retry_backoff, extra_body, client: as for
            :class:`~harmony_agent.backends.VLLM`; ``extra_body={"options": {...}}``
            replaces the options.
    """

    engine = "Ollama"
    path = "/api/generate"

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        keep_alive: str | float | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        retry_backoff: float = 0.5,
        extra_body: Mapping[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        super().__init__(
            base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            extra_body=extra_body,
            client=client,
        )
        self.model = model
        self.keep_alive = keep_alive

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a generate request."""
        from harmony_agent.format import load_encoding

        encoding = load_encoding()
        options: dict[str, Any] = {
            "num_predict": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop": [encoding.decode([t]) for t in stop_set(params)],
        }
        if params.seed is not None:
            options["seed"] = params.seed
        body: dict[str, Any] = {
            "model": self.model,
            "prompt": encoding.decode(prompt_tokens),
            "raw": True,
            "stream": True,
            "options": options,
        }
        if self.keep_alive is not None:
            body["keep_alive"] = self.keep_alive
        if params.json_schema is not None:
            body["format"] = params.json_schema
        return body

    async def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        from harmony_agent.format import load_encoding

        encoding = load_encoding()
        gate = TokenGate(params)
        after = prompt_tokens[-1] if prompt_tokens else None
        text = TextTokenizer(encoding, restore_end=True, after=after)
        done_reason: str | None = None
        async with self._post_stream(self.path, body) as response:
            try:
                async for event in ndjson_events(response, self.engine):
                    if (message := error_message(event)) is not None:
                        raise BackendError(
                            f"Ollama at {self.base_url} failed mid-stream: {message}"
                        )
                    if not isinstance(event, dict):
                        continue
                    if chunk := gate.take(text.feed(str(event.get("response") or ""))):
                        yield chunk
                    if event.get("done"):
                        done_reason = str(event.get("done_reason") or "stop")
                    if gate.done and done_reason is None:
                        yield gate.finish()  # we stopped first: closing the stream aborts it
                        return
            except TRAILING_ERRORS:
                if done_reason is None:
                    raise  # it broke before the server's word; after it, nothing is lost
        if done_reason is None:
            raise Unfinished("the stream ended without its final `done: true` line")
        tail = gate.take(text.flush())  # Ollama names no stop token: the agent restores it
        yield gate.finish(tail, "length" if done_reason == "length" else None)
