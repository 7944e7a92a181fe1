"""A fake server speaking vLLM's OpenAI-compatible completions API.

Exported from :mod:`harmony_agent.testing.fake_servers`, which describes the knobs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from harmony_agent.format import _tokens as T
from harmony_agent.testing._fake_base import (
    EOS_TOKENS,
    FakeServer,
    Generation,
    RequestError,
)
from harmony_agent.testing._fake_checks import check

__all__ = ["FakeVLLMServer"]


class FakeVLLMServer(FakeServer):
    """vLLM's ``/v1/completions`` (streamed SSE) and ``/v1/models``.

    Token ids come in ``choices[0].token_ids`` (delta) and the prompt's in the first
    chunk's ``prompt_token_ids``, when the request sets ``return_token_ids``. The stop
    token is in ``token_ids``; its text only with ``include_stop_str_in_output``.
    """

    path = "/v1/completions"
    engine = "vLLM"

    def handle_get(self, path: str) -> tuple[int, Any] | None:
        if path == "/v1/models":
            card = {"id": self.model_name, "object": "model", "owned_by": "vllm"}
            return 200, {"object": "list", "data": [card]}
        return None

    def error_body(self, error: RequestError) -> Any:
        kind = {400: "BadRequestError", 401: "Unauthorized", 404: "NotFoundError"}
        return {
            "error": {
                "message": str(error),
                "type": kind.get(error.status, "InternalServerError"),
                "param": error.param,
                "code": error.status,
            }
        }

    def parse(self, body: Any) -> tuple[list[int], Any]:
        model = check(body, "model", "str")
        if model is not None and model != self.model_name:
            raise RequestError(404, f"The model `{model}` does not exist.", "model")
        if body.get("prompt") in (None, "", []):
            raise RequestError(400, "Either prompt or prompt_embeds must be provided.", "prompt")
        prompt = self.prompt_from(body["prompt"], "prompt")
        max_tokens = check(body, "max_tokens", "int")
        if max_tokens is not None and max_tokens < 1:
            raise RequestError(400, "max_tokens must be at least 1", "max_tokens")
        temperature = check(body, "temperature", "number")
        if temperature is not None and temperature < 0:
            raise RequestError(400, "temperature must be non-negative", "temperature")
        top_p = check(body, "top_p", "number")
        if top_p is not None and not 0 < top_p <= 1:
            raise RequestError(400, "top_p must be in (0, 1]", "top_p")
        check(body, "seed", "int")
        check(body, "structured_outputs", "dict")  # e.g. {"json": schema}
        for name in (
            "stream",
            "skip_special_tokens",
            "include_stop_str_in_output",
            "return_token_ids",
            "spaces_between_special_tokens",
            "echo",
        ):
            check(body, name, "bool")
        stop_ids = check(body, "stop_token_ids", "ints") or []
        options = {
            "stream": bool(body.get("stream")),
            "max_tokens": 16 if max_tokens is None else max_tokens,
            "stops": frozenset(stop_ids) | EOS_TOKENS,
            "requested_stops": frozenset(stop_ids),
            "skip_special": body.get("skip_special_tokens", True) is not False,
            "include_stop": bool(body.get("include_stop_str_in_output")),
            "token_ids": bool(body.get("return_token_ids")) and not self.text_only,
        }
        return prompt, options

    def run(self, prompt: list[int], options: Any) -> Generation:
        return self.generate(prompt, options["max_tokens"], options["stops"])

    def _text(self, generation: Generation, options: Any) -> Callable[[int, bool], str]:
        decode = self.decoder()

        def text(token: int, last: bool) -> str:
            if last and generation.stop_token == token and not options["include_stop"]:
                return ""
            if options["skip_special"] and T.is_special(token):
                return decode([])
            return decode([token])

        return text

    def _tokens(self, generation: Generation) -> list[int]:
        tokens = generation.tokens
        if self.strip_stop and generation.stop_token is not None:
            tokens = tokens[:-1]
        return tokens

    def _stop_reason(self, generation: Generation, options: Any) -> int | None:
        stop = generation.stop_token
        return stop if stop is not None and stop in options["requested_stops"] else None

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        text = self._text(generation, options)
        tokens = generation.tokens
        created = int(time.time())
        for i, token in enumerate(tokens):
            last = i == len(tokens) - 1
            choice: dict[str, Any] = {
                "index": 0,
                "text": text(token, last),
                "logprobs": None,
                "finish_reason": generation.finish if last else None,
                "stop_reason": self._stop_reason(generation, options) if last else None,
            }
            if options["token_ids"]:
                drop = last and self.strip_stop and generation.stop_token is not None
                choice["token_ids"] = [] if drop else [token]
                if i == 0:
                    choice["prompt_token_ids"] = generation.prompt
            event = {
                "id": "cmpl-fake",
                "object": "text_completion",
                "created": created,
                "model": self.model_name,
                "choices": [choice],
            }
            yield event, 1
        if not tokens:
            empty = {"index": 0, "text": "", "finish_reason": generation.finish}
            yield {"id": "cmpl-fake", "model": self.model_name, "choices": [empty]}, 0
        yield b"data: [DONE]\n\n", 0

    def full_reply(self, generation: Generation, options: Any) -> Any:
        text = self._text(generation, options)
        n = len(generation.tokens)
        choice: dict[str, Any] = {
            "index": 0,
            "text": "".join(text(t, i == n - 1) for i, t in enumerate(generation.tokens)),
            "finish_reason": generation.finish,
            "stop_reason": self._stop_reason(generation, options),
        }
        if options["token_ids"]:
            choice["token_ids"] = self._tokens(generation)
            choice["prompt_token_ids"] = generation.prompt
        usage = {"prompt_tokens": len(generation.prompt), "completion_tokens": n}
        return {"id": "cmpl-fake", "object": "text_completion", "model": self.model_name,
                "choices": [choice], "usage": usage}  # fmt: skip
