"""vLLM's OpenAI-compatible ``/v1/completions`` with token ids in and out."""

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
    special_token_id,
    stop_set,
)
from harmony_agent.backends._lines import EngineEvents
from harmony_agent.backends._tokens import end_of_stream
from harmony_agent.errors import BackendError

__all__ = ["VLLM"]


class VLLM(HTTPBackend):
    """A vLLM server (``vllm serve openai/gpt-oss-20b``), or any OpenAI-compatible completions API.

    The prompt goes out as token ids; the completion comes back as the ``token_ids`` of
    each streamed chunk (``return_token_ids``, in recent vLLM). Servers that send only
    text are handled by re-encoding it with special tokens allowed. A stop token the
    reply left out is restored from ``stop_reason`` (vLLM sends the matched id there);
    when the server only says ``"stop"`` it stays out (the agent restores it; see
    :func:`~harmony_agent.format.restore_stop_token`).

    Args:
        base_url: e.g. ``"http://localhost:8000"`` (a trailing ``/v1`` is accepted).
        model: the served model name; discovered from ``/v1/models`` when None.
        api_key: sent as a bearer token (``vllm serve --api-key``).
        timeout: seconds, or an ``httpx.Timeout`` for connect/read separately.
        max_retries: tries after a connection error or HTTP 429/5xx before any token.
        retry_backoff: first backoff in seconds; doubles each try, with jitter.
        extra_body: fields merged into every request (``{"top_k": 20}``).
        client: an ``httpx.AsyncClient`` to use (proxies, TLS, transports); not closed here.
    """

    engine = "vLLM"
    path = "/v1/completions"

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        retry_backoff: float = 0.5,
        extra_body: Mapping[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        base_url = base_url.rstrip("/")
        base_url = base_url[: -len("/v1")] if base_url.endswith("/v1") else base_url
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

    async def resolve_model(self) -> str:
        """The model name to send: the one given, else the first one ``/v1/models`` lists."""
        if self.model is None:
            listing = await self._get_json("/v1/models")
            try:
                self.model = str(listing["data"][0]["id"])
            except (KeyError, IndexError, TypeError):
                raise BackendError(
                    f"vLLM at {self.base_url}: /v1/models lists no model: {str(listing)[:200]}"
                ) from None
        return self.model

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a completion request (``model`` is added when it is known)."""
        body: dict[str, Any] = {
            "prompt": list(prompt_tokens),
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop_token_ids": list(stop_set(params)),
            "skip_special_tokens": False,
            "spaces_between_special_tokens": False,
            "include_stop_str_in_output": True,
            "return_token_ids": True,
            "stream": True,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.json_schema is not None:
            body["structured_outputs"] = {"json": params.json_schema}
        return body

    async def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        from harmony_agent.format import load_encoding

        body = {"model": await self.resolve_model(), **body}
        gate = TokenGate(params)
        text: TextTokenizer | None = None
        finish_reason: str | None = None
        stop_reason: Any = None
        async with self._post_stream(self.path, body) as response:
            events = EngineEvents(response, self.engine, self.base_url)
            try:
                async for event in events:
                    choices = event.get("choices")
                    if not choices:
                        continue  # a usage-only chunk
                    choice = choices[0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    stop_reason = choice.get("stop_reason", stop_reason)
                    if choice.get("token_ids") is not None:
                        tokens = [int(t) for t in choice["token_ids"]]
                    else:
                        text = text or TextTokenizer(load_encoding())
                        tokens = text.feed(choice.get("text") or "")
                    if chunk := gate.take(tokens):
                        yield chunk
                    if gate.done and finish_reason is None:
                        yield gate.finish()  # we stopped first: closing the stream aborts it
                        return
            except TRAILING_ERRORS:
                if finish_reason is None:
                    raise  # it broke before the server's word; after it, nothing is lost
        if finish_reason is None and not events.done:
            raise Unfinished("the stream ended without a finish_reason")
        if finish_reason not in (None, "stop", "length"):
            raise Unfinished(f"vLLM ended the request with finish_reason {finish_reason!r}")
        named = _stop_from_reason(stop_reason, params) if finish_reason == "stop" else None
        yield end_of_stream(gate, text, named, length=finish_reason == "length")


def _stop_from_reason(stop_reason: Any, params: SamplingParams) -> int | None:
    """The stop token a text-only reply left out (vLLM gives its id in ``stop_reason``)."""
    from harmony_agent.format import load_encoding

    encoding = load_encoding()
    stops = stop_set(params)
    if isinstance(stop_reason, int) and not isinstance(stop_reason, bool):
        return stop_reason if stop_reason in stops else None
    if isinstance(stop_reason, str):
        token = special_token_id(stop_reason, encoding)
        return token if token in stops else None
    return None
