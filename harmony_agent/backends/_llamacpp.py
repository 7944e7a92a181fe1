"""llama.cpp's ``llama-server`` native ``/completion`` endpoint with a token-array prompt."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._http import (
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
from harmony_agent.format import _tokens as T

__all__ = ["LlamaCpp"]


class LlamaCpp(HTTPBackend):
    """A ``llama-server -m gpt-oss-20b.gguf`` server.

    ``/completion`` has no stop-token list: llama.cpp ends on end-of-generation tokens,
    which for gpt-oss's vocabulary are ``<|return|>`` and ``<|call|>`` (it drops
    ``<|end|>`` from them). Other stop tokens are enforced here: the stream is closed at
    the first one, which aborts the generation. Each streamed chunk carries its token in
    ``tokens``; for builds that send only ``content`` the text is re-encoded (control
    tokens such as ``<|end|>`` are not rendered by llama.cpp and are restored).

    Args:
        base_url: e.g. ``"http://localhost:8080"``.
        api_key: sent as a bearer token (``--api-key``).
        timeout, max_retries, retry_backoff, extra_body, client: as for
            :class:`~harmony_agent.backends.VLLM`.
    """

    engine = "llama.cpp"
    path = "/completion"

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a completion request."""
        body: dict[str, Any] = {
            "prompt": list(prompt_tokens),
            "n_predict": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stream": True,
            "return_tokens": True,
            "cache_prompt": True,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        if params.json_schema is not None:
            body["json_schema"] = params.json_schema
        return body

    async def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        from harmony_agent.format import load_encoding

        gate = TokenGate(params)
        text: TextTokenizer | None = None
        final: dict[str, Any] | None = None
        async with self._post_stream(self.path, body) as response:
            try:
                async for event in EngineEvents(response, self.engine, self.base_url):
                    if event.get("stop"):
                        final = event
                    if event.get("tokens"):
                        tokens = [int(t) for t in event["tokens"]]
                    elif "tokens" in event and not event.get("content"):
                        tokens = []
                    else:
                        text = text or TextTokenizer(
                            load_encoding(), restore_end=True, after=_last(prompt_tokens)
                        )
                        tokens = text.feed(event.get("content") or "")
                    if chunk := gate.take(tokens):
                        yield chunk
                    if gate.done and final is None and not _engine_stop(gate):
                        yield gate.finish()  # we stopped first: closing the stream aborts it
                        return
                    # (on <|return|>/<|call|> llama.cpp ends by itself: read its last chunk,
                    # so the connection stays reusable)
            except TRAILING_ERRORS:
                if final is None and not gate.stopped:
                    raise  # it broke before the server's word; after it, nothing is lost
        if final is None:
            if gate.stopped:  # the stop token was the server's word
                yield gate.finish()
                return
            raise Unfinished("the stream ended without its final `stop: true` chunk")
        named = _stop_from_final(final, params)
        yield end_of_stream(gate, text, named, length=final.get("stop_type") == "limit")


def _engine_stop(gate: TokenGate) -> bool:
    """Whether the gate closed on a token llama.cpp itself ends generation on."""
    return gate.stopped and bool(gate.tokens) and gate.tokens[-1] in T.ACTION_STOPS


def _last(tokens: list[int]) -> int | None:
    return tokens[-1] if tokens else None


def _stop_from_final(final: dict[str, Any], params: SamplingParams) -> int | None:
    """The stop token a reply left out, from ``stop_type`` and ``stopping_word``."""
    from harmony_agent.format import load_encoding

    encoding = load_encoding()
    stops = stop_set(params)
    stop_type = final.get("stop_type")
    if stop_type == "word":
        token = special_token_id(str(final.get("stopping_word") or ""), encoding)
        return token if token in stops else None
    return None  # "eos" names no token: the agent restores it from the header
