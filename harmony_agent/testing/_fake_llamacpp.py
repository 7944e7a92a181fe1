"""A fake server speaking llama.cpp server's ``/completion`` API.

Exported from :mod:`harmony_agent.testing.fake_servers`, which describes the knobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harmony_agent.testing._fake_base import (
    EOS_TOKENS,
    UNRENDERED,
    FakeServer,
    Generation,
    RequestError,
)
from harmony_agent.testing._fake_checks import check

__all__ = ["FakeLlamaCppServer"]


class FakeLlamaCppServer(FakeServer):
    """llama.cpp's ``/completion``: token-array prompt, one token per SSE chunk.

    It stops on end-of-generation tokens only (``<|return|>``, ``<|call|>``), streams each
    token in ``tokens`` with its ``content`` (control tokens render as nothing), and
    ends with a ``stop: true`` chunk giving ``stop_type``.
    """

    path = "/completion"
    engine = "llama.cpp"

    def error_body(self, error: RequestError) -> Any:
        kind = "invalid_request_error" if error.status < 500 else "server_error"
        return {"error": {"code": error.status, "message": str(error), "type": kind}}

    def parse(self, body: Any) -> tuple[list[int], Any]:
        if body.get("prompt") in (None, "", []):
            raise RequestError(400, '"prompt" must be provided')
        prompt = self.prompt_from(body["prompt"], "prompt")
        n_predict = check(body, "n_predict", "int")
        check(body, "temperature", "number")
        check(body, "top_p", "number")
        check(body, "seed", "int")
        check(body, "json_schema", "dict")  # a JSON Schema object constrains the output
        check(body, "stop", "strs")
        for name in ("stream", "return_tokens", "cache_prompt"):
            check(body, name, "bool")
        limit = 1 << 30 if n_predict is None or n_predict < 0 else n_predict
        return prompt, {"stream": bool(body.get("stream")), "max_tokens": limit}

    def run(self, prompt: list[int], options: Any) -> Generation:
        return self.generate(prompt, options["max_tokens"], EOS_TOKENS)

    def _final(self, generation: Generation) -> dict[str, Any]:
        return {
            "index": 0,
            "content": "",
            "tokens": [],
            "id_slot": 0,
            "stop": True,
            "model": self.model_name,
            "tokens_predicted": len(generation.tokens),
            "tokens_evaluated": len(generation.prompt),
            "prompt": self.encoding.decode(generation.prompt),
            "truncated": False,
            "stop_type": "eos" if generation.finish == "stop" else "limit",
            "stopping_word": "",
            "tokens_cached": len(generation.prompt) + len(generation.tokens),
        }

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        decode = self.decoder()
        for i, token in enumerate(generation.tokens):
            event: dict[str, Any] = {
                "index": 0,
                "content": decode([] if token in UNRENDERED else [token]),
                "stop": False,
                "id_slot": 0,
                "tokens_predicted": i + 1,
                "tokens_evaluated": len(generation.prompt),
            }
            if not self.text_only:
                drop = self.strip_stop and token == generation.stop_token
                event["tokens"] = [] if drop else [token]
            yield event, 1
        final = self._final(generation)
        if self.text_only:
            del final["tokens"]
        yield final, 0

    def full_reply(self, generation: Generation, options: Any) -> Any:
        decode = self.decoder()
        reply = self._final(generation)
        reply["content"] = decode([t for t in generation.tokens if t not in UNRENDERED])
        reply["tokens"] = list(generation.tokens)
        return reply
