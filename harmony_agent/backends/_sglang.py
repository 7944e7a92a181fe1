"""SGLang's native ``/generate`` endpoint with ``input_ids`` and streamed ``output_ids``."""

from __future__ import annotations

import json
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
from harmony_agent.errors import BackendError

__all__ = ["SGLang"]


class SGLang(HTTPBackend):
    """An SGLang server (``python -m sglang.launch_server --model-path openai/gpt-oss-20b``).

    SGLang streams ``output_ids`` cumulatively by default and as deltas with
    ``--incremental-streaming-output``; ``meta_info.completion_tokens`` says which
    positions a chunk covers, so both work. Text-only replies are re-encoded.

    Args:
        base_url: e.g. ``"http://localhost:30000"``.
        api_key: sent as a bearer token (``--api-key``).
        timeout, max_retries, retry_backoff, extra_body, client: as for
            :class:`~harmony_agent.backends.VLLM`.
    """

    engine = "SGLang"
    path = "/generate"

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a generate request."""
        sampling: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "temperature": params.temperature,
            "top_p": params.top_p,
            "stop_token_ids": list(stop_set(params)),
            "skip_special_tokens": False,
            "spaces_between_special_tokens": False,
            "no_stop_trim": True,
        }
        if params.seed is not None:
            sampling["sampling_seed"] = params.seed
        if params.json_schema is not None:
            sampling["json_schema"] = json.dumps(params.json_schema)  # a string in SGLang
        return {"input_ids": list(prompt_tokens), "sampling_params": sampling, "stream": True}

    async def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        from harmony_agent.format import load_encoding

        gate = TokenGate(params)
        received: list[int] = []  # every output id the server sent, before the gate
        text: TextTokenizer | None = None
        seen_text = ""
        finish: Any = None
        async with self._post_stream(self.path, body) as response:
            try:
                async for event in EngineEvents(response, self.engine, self.base_url):
                    meta = event.get("meta_info") or {}
                    finish = meta.get("finish_reason") or finish
                    if isinstance(finish, dict) and finish.get("type") == "abort":
                        raise BackendError(
                            f"SGLang at {self.base_url} aborted the request: "
                            f"{finish.get('message') or finish}"
                        )
                    if event.get("output_ids") is not None:
                        ids = [int(t) for t in event["output_ids"]]
                        new = _new_ids(ids, received, meta.get("completion_tokens"))
                        received += new
                    else:
                        text = text or TextTokenizer(load_encoding())
                        chunk_text = event.get("text") or ""
                        if chunk_text.startswith(seen_text):  # cumulative
                            chunk_text, seen_text = chunk_text[len(seen_text) :], chunk_text
                        else:
                            seen_text += chunk_text
                        new = text.feed(chunk_text)
                    if chunk := gate.take(new):
                        yield chunk
                    if gate.done and finish is None:
                        yield gate.finish()  # we stopped first: closing the stream aborts it
                        return
            except TRAILING_ERRORS:
                if finish is None:
                    raise  # it broke before the server's word; after it, nothing is lost
        if not isinstance(finish, dict):
            raise Unfinished("the stream ended without meta_info.finish_reason")
        named = _stop_from_finish(finish, params) if finish.get("type") == "stop" else None
        yield end_of_stream(gate, text, named, length=finish.get("type") == "length")


def _new_ids(ids: list[int], received: list[int], completion_tokens: Any) -> list[int]:
    """The ids of a chunk not seen before, for cumulative and incremental streams alike."""
    if isinstance(completion_tokens, int) and completion_tokens >= len(ids):
        start = completion_tokens - len(ids)  # the chunk covers [start, completion_tokens)
        if start <= len(received):
            return ids[len(received) - start :]
        return ids
    if len(ids) >= len(received) and ids[: len(received)] == received:
        return ids[len(received) :]
    return ids


def _stop_from_finish(finish: dict[str, Any], params: SamplingParams) -> int | None:
    """The stop token a reply left out, from ``finish_reason.matched`` (else None)."""
    from harmony_agent.format import load_encoding

    encoding = load_encoding()
    stops = stop_set(params)
    matched = finish.get("matched")
    if isinstance(matched, int) and not isinstance(matched, bool):
        return matched if matched in stops else None
    if isinstance(matched, str):
        token = special_token_id(matched, encoding)
        return token if token in stops else None
    return None
