"""A fake server speaking SGLang's native ``/generate`` API.

Exported from :mod:`harmony_agent.testing.fake_servers`, which describes the knobs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harmony_agent.format import _tokens as T
from harmony_agent.testing._fake_base import (
    EOS_TOKENS,
    FakeServer,
    Generation,
    Model,
    RequestError,
)
from harmony_agent.testing._fake_checks import check

__all__ = ["FakeSGLangServer"]


_SGLANG_SAMPLING = {
    "max_new_tokens": "int",
    "temperature": "number",
    "top_p": "number",
    "top_k": "int",
    "min_p": "number",
    "stop": None,
    "stop_token_ids": "ints",
    "skip_special_tokens": "bool",
    "spaces_between_special_tokens": "bool",
    "no_stop_trim": "bool",
    "ignore_eos": "bool",
    "sampling_seed": "int",
    "min_new_tokens": "int",
    "n": "int",
    "json_schema": "str",  # a JSON Schema, as a string
    "regex": "str",
    "ebnf": "str",
}


class FakeSGLangServer(FakeServer):
    """SGLang's native ``/generate``: ``input_ids`` in, streamed ``output_ids`` out.

    Like SGLang's default, ``output_ids`` and ``text`` are cumulative; with
    ``incremental=True`` (``--incremental-streaming-output``) they are deltas.
    """

    path = "/generate"
    engine = "SGLang"

    def __init__(self, model: Model | None = None, *, incremental: bool = False, **knobs: Any):
        super().__init__(model, **knobs)
        self.incremental = incremental

    def error_body(self, error: RequestError) -> Any:
        return {"error": {"message": str(error)}}

    def parse(self, body: Any) -> tuple[list[int], Any]:
        if body.get("input_ids") is None and body.get("text") is None:
            raise RequestError(400, "Either text or input_ids should be provided.")
        if body.get("input_ids") is not None:
            prompt = self.prompt_from(body["input_ids"], "input_ids", allow_text=False)
        else:
            prompt = self.prompt_from(check(body, "text", "str"), "text")
        check(body, "stream", "bool")
        sampling = check(body, "sampling_params", "dict") or {}
        for name in sampling:
            if name not in _SGLANG_SAMPLING:
                raise RequestError(
                    400, f"SamplingParams.__init__() got an unexpected keyword argument '{name}'"
                )
            if _SGLANG_SAMPLING[name] is not None:
                check(sampling, name, str(_SGLANG_SAMPLING[name]))
        top_p = sampling.get("top_p")
        if top_p is not None and not 0 < top_p <= 1:
            raise RequestError(400, f"top_p must be in (0, 1], got {top_p}.")
        max_new = sampling.get("max_new_tokens")
        stop_ids = frozenset(sampling.get("stop_token_ids") or ())
        options = {
            "stream": bool(body.get("stream")),
            "max_tokens": 128 if max_new is None else max_new,
            "stops": stop_ids | EOS_TOKENS,
            "skip_special": sampling.get("skip_special_tokens", True) is not False,
            "trim_stop": not sampling.get("no_stop_trim", False),
        }
        return prompt, options

    def run(self, prompt: list[int], options: Any) -> Generation:
        return self.generate(prompt, options["max_tokens"], options["stops"])

    def _meta(self, generation: Generation, n: int, last: bool) -> dict[str, Any]:
        finish: dict[str, Any] | None = None
        if last and generation.finish == "length":
            finish = {"type": "length", "length": n}
        elif last:
            finish = {"type": "stop", "matched": generation.stop_token}
        return {
            "id": "fake-rid",
            "finish_reason": finish,
            "prompt_tokens": len(generation.prompt),
            "completion_tokens": n,
            "cached_tokens": 0,
        }

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        decode = self.decoder()
        tokens = generation.tokens
        text = ""
        for i, token in enumerate(tokens):
            last = i == len(tokens) - 1
            trimmed = last and generation.stop_token == token and options["trim_stop"]
            hidden = options["skip_special"] and T.is_special(token)
            piece = decode([] if trimmed or hidden else [token])
            text += piece
            drop = last and self.strip_stop and generation.stop_token is not None
            event: dict[str, Any] = {
                "text": piece if self.incremental else text,
                "meta_info": self._meta(generation, i + 1 - drop, last),
            }
            if not self.text_only:
                delta = [] if drop else [token]
                event["output_ids"] = delta if self.incremental else tokens[: i + 1 - drop]
            yield event, 1
        if not tokens:
            yield {"text": "", "output_ids": [], "meta_info": self._meta(generation, 0, True)}, 0
        yield b"data: [DONE]\n\n", 0

    def full_reply(self, generation: Generation, options: Any) -> Any:
        events = [event for event, _ in self.events(generation, options)]
        return [e for e in events if isinstance(e, dict)][-1]
