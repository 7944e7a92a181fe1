"""Real HTTP servers on 127.0.0.1 that speak each engine's wire format, for offline tests.

Each server validates requests the way its engine does (400/404 with the engine's
JSON error shape), runs a scripted "model" (a callable ``prompt_tokens -> completion``,
a list of completions replayed in order, or one harmony text for every request; a
completion is token ids or harmony text), applies the engine's stop
rules and limits, and streams the result in the engine's SSE or NDJSON format::

    with FakeVLLMServer(["<|channel|>final<|message|>Hi<|return|>"]) as server:
        backend = VLLM(server.base_url, model=server.model_name)

Knobs for tests: ``fail_first`` (answer the first N requests with ``fail_status``),
``drop_first`` (then drop the next N connections without an answer), ``cut`` (break
streams: a :class:`Cut` for every stream, or a function choosing per stream; it says
after how many tokens and how: reset, clean end without the end marker, half an event,
EOF-delimited body, stall, or the whole server dying), ``drop_after`` (shorthand for
``cut=Cut(N)``), ``length_limit`` (end every completion for length after N tokens,
whatever the request asked: the server's own limit), ``token_delay``, ``text_only``
(no token ids in the replies), ``strip_stop`` (leave the stop token out of token
ids), ``barrier`` (hold each stream until that many are open at once), ``api_key``.

A request that continues a cut completion (its prompt is an earlier prompt plus that
completion's first tokens) gets the rest of it, as from a real engine. Counters:
``requests_seen``, ``bodies``/``last_request``, ``active``/``max_active``,
``completed``, ``disconnects``, ``streams``, ``cuts``, ``resumed``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    pass

__all__ = [
    "Cut",
    "FakeLlamaCppServer",
    "FakeOllamaServer",
    "FakeSGLangServer",
    "FakeServer",
    "FakeVLLMServer",
    "Generation",
    "Model",
]

from harmony_agent.testing._fake_base import (
    EOS_TOKENS,
    KINDS,
    UNRENDERED,
    Cut,
    FakeServer,
    Generation,
    Model,
    RequestError,
    check,
)


# -- vLLM ---------------------------------------------------------------------------------
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


# -- SGLang -------------------------------------------------------------------------------
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


# -- llama.cpp ----------------------------------------------------------------------------
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


# -- Ollama -------------------------------------------------------------------------------
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
