"""A fake server speaking Ollama's ``/api/generate`` API.

Exported from :mod:`harmony_agent.testing.fake_servers`, which describes the knobs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from harmony_agent.testing._fake_base import (
    EOS_TOKENS,
    UNRENDERED,
    FakeServer,
    Generation,
    RequestError,
)
from harmony_agent.testing._fake_checks import KINDS, check

__all__ = ["FakeOllamaServer"]


_OLLAMA_OPTIONS = {
    "num_predict": "int",
    "temperature": "number",
    "top_p": "number",
    "top_k": "int",
    "seed": "int",
    "stop": "strs",
    "num_ctx": "int",
    "repeat_penalty": "number",
}


class FakeOllamaServer(FakeServer):
    """Ollama's ``/api/generate`` (NDJSON): text only, like Ollama on llama.cpp.

    The raw prompt is tokenized with special tokens parsed; the reply's text leaves out
    control tokens (``<|end|>``, ``<|return|>``, ``<|call|>``) and stop strings.
    """

    path = "/api/generate"
    engine = "Ollama"
    content_type = "application/x-ndjson"

    def handle_get(self, path: str) -> tuple[int, Any] | None:
        if path == "/api/tags":
            return 200, {"models": [{"name": self.model_name, "model": self.model_name}]}
        return None

    def error_body(self, error: RequestError) -> Any:
        return {"error": str(error)}

    def encode_event(self, event: Any) -> bytes:
        return json.dumps(event).encode() + b"\n"

    def parse(self, body: Any) -> tuple[list[int], Any]:
        model = check(body, "model", "str", required=True)
        if model != self.model_name:
            raise RequestError(404, f"model '{model}' not found")
        prompt_text = check(body, "prompt", "str") or ""
        raw = check(body, "raw", "bool")
        if raw and (body.get("system") or body.get("template") or body.get("context")):
            raise RequestError(400, "raw mode does not support template, system, or context")
        stream = check(body, "stream", "bool")
        options = check(body, "options", "dict") or {}
        for name, kind in _OLLAMA_OPTIONS.items():
            if options.get(name) is not None and not KINDS[kind](options[name]):
                raise RequestError(400, f'option "{name}" must be of type {kind}')
        if not raw:
            raise RequestError(400, "this fake serves raw prompts only (set raw: true)")
        num_predict = options.get("num_predict")
        return self.prompt_from(prompt_text, "prompt"), {
            "stream": stream is not False,
            "max_tokens": 1 << 30 if num_predict is None or num_predict < 0 else num_predict,
        }

    def run(self, prompt: list[int], options: Any) -> Generation:
        return self.generate(prompt, options["max_tokens"], EOS_TOKENS)

    def _final(self, generation: Generation) -> dict[str, Any]:
        return {
            "model": self.model_name,
            "created_at": "2025-08-05T00:00:00Z",
            "response": "",
            "done": True,
            "done_reason": generation.finish,
            "total_duration": 1,
            "load_duration": 0,
            "prompt_eval_count": len(generation.prompt),
            "prompt_eval_duration": 0,
            "eval_count": len(generation.tokens),
            "eval_duration": 0,
        }

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        decode = self.decoder()
        for token in generation.tokens:
            piece = decode([] if token in UNRENDERED else [token])
            chunk = {"model": self.model_name, "created_at": "2025-08-05T00:00:00Z",
                     "response": piece, "done": False}  # fmt: skip
            yield chunk, 1
        yield self._final(generation), 0

    def full_reply(self, generation: Generation, options: Any) -> Any:
        reply = self._final(generation)
        kept = [t for t in generation.tokens if t not in UNRENDERED]
        reply["response"] = self.encoding.decode(kept)
        return reply
