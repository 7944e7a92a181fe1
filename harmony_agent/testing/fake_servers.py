"""Real HTTP servers on 127.0.0.1 that speak each engine's wire format, for offline tests.

Each server validates requests the way its engine does (400/404 with the engine's
JSON error shape), runs a scripted "model" (a callable ``prompt_tokens -> completion``,
a list of completions replayed in order, or one harmony text for every request; a
completion is token ids or harmony text), applies the engine's stop
rules and limits, and streams the result in the engine's SSE or NDJSON format::

    with FakeVLLMServer(["<|channel|>final<|message|>Hi<|return|>"]) as server:
        backend = VLLM(server.base_url, model=server.model_name)

Knobs for tests: ``fail_first`` (answer the first N requests with ``fail_status``),
``drop_first`` (then drop the next N connections without an answer), ``drop_after``
(cut the stream after N tokens), ``token_delay``, ``text_only`` (no token ids in the
replies), ``strip_stop`` (leave the stop token out of token ids), ``barrier`` (hold
each stream until that many are open at once), ``api_key``. Counters:
``requests_seen``, ``bodies``/``last_request``, ``active``/``max_active``,
``completed``, ``disconnects``.
"""

from __future__ import annotations

import codecs
import json
import select
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Union

from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    from typing_extensions import Self

    from harmony_agent.format import Encoding

__all__ = [
    "FakeLlamaCppServer",
    "FakeOllamaServer",
    "FakeSGLangServer",
    "FakeServer",
    "FakeVLLMServer",
    "Generation",
    "Model",
]

Completion = Union[Sequence[int], str]  # noqa: UP007
#: A scripted model: a function of the prompt tokens, or completions replayed in order.
Model = Union[Callable[[list[int]], Completion], Sequence[Completion]]  # noqa: UP007

#: gpt-oss's end-of-generation tokens (generation config / GGUF EOG list).
EOS_TOKENS = frozenset({T.RETURN, T.CALL, T.ENDOFTEXT})
#: Control tokens llama.cpp (and Ollama on it) leave out of the text it streams.
UNRENDERED = frozenset({T.END, T.RETURN, T.CALL, T.ENDOFTEXT})
DEFAULT_COMPLETION = "<|channel|>final<|message|>Hello from the fake server.<|return|>"


class RequestError(Exception):
    """A request the engine would reject."""

    def __init__(self, status: int, message: str, param: str | None = None) -> None:
        self.status = status
        self.param = param
        super().__init__(message)


@dataclass
class Generation:
    """What the scripted model produced for one request, after stops and limits."""

    tokens: list[int]
    finish: str  #: "stop" or "length"
    stop_token: int | None = None
    prompt: list[int] = field(default_factory=list)


class FakeServer:
    """Base class: an HTTP server in a daemon thread with a scripted model.

    Use as a context manager (or ``start()``/``close()``); ``base_url`` is
    ``http://127.0.0.1:<port>``.
    """

    path: ClassVar[str] = "/"
    engine: ClassVar[str] = "fake"
    content_type: ClassVar[str] = "text/event-stream"

    def __init__(
        self,
        model: Model | None = None,
        *,
        model_name: str = "openai/gpt-oss-20b",
        token_delay: float = 0.0,
        fail_first: int = 0,
        fail_status: int = 503,
        drop_first: int = 0,
        drop_after: int | None = None,
        text_only: bool = False,
        strip_stop: bool = False,
        barrier: int | None = None,
        api_key: str | None = None,
        encoding: Encoding | None = None,
    ) -> None:
        if model is None or isinstance(model, str):
            text = model or DEFAULT_COMPLETION
            model = lambda prompt: text  # noqa: E731 - one answer to every request
        self.model: Model = model
        self.model_name = model_name
        self.token_delay = token_delay
        self.fail_first = fail_first
        self.fail_status = fail_status
        self.drop_first = drop_first
        self.drop_after = drop_after
        self.text_only = text_only
        self.strip_stop = strip_stop
        self.barrier = barrier
        self.api_key = api_key
        self._encoding = encoding
        self.requests_seen = 0  #: every HTTP request, whatever its path or fate
        self.bodies: list[Any] = []  #: decoded JSON bodies of the POSTs, in order
        self.last_request: Any = None
        self.active = 0  #: streams being sent right now
        self.max_active = 0
        self.completed = 0  #: streams sent to the end
        self.disconnects = 0  #: streams the client closed before their end
        self._cond = threading.Condition()
        self._script_index = 0
        self._barrier_open = barrier is None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------
    @property
    def encoding(self) -> Encoding:
        if self._encoding is None:
            from harmony_agent.format import load_encoding

            self._encoding = load_encoding()
        return self._encoding

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the fake server is not running: use it as a context manager")
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Self:
        """Listen on an ephemeral port of 127.0.0.1 and serve in a daemon thread."""
        self.encoding  # noqa: B018 - load the vocabulary before the first request
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._cond:
            self._barrier_open = True
            self._cond.notify_all()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
        """Wait until ``predicate()`` holds (the server works in its own threads)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.05))
        return True

    # -- the model --------------------------------------------------------------------
    def generate(self, prompt: list[int], max_tokens: int, stops: frozenset[int]) -> Generation:
        """Run the scripted model, then cut at the first stop token or ``max_tokens``."""
        completion: Completion
        if callable(self.model):
            completion = self.model(list(prompt))
        else:
            with self._cond:
                index = self._script_index
                self._script_index += 1
            if index >= len(self.model):
                raise RequestError(500, f"the fake model has no completion left ({index + 1})")
            completion = self.model[index]
        if isinstance(completion, str):
            tokens = self.encoding.encode(completion, allowed_special="all")
        else:
            tokens = [int(t) for t in completion]
        out: list[int] = []
        for token in tokens:
            if len(out) >= max_tokens:
                return Generation(out, "length", prompt=prompt)
            out.append(token)
            if token in stops:
                return Generation(out, "stop", token, prompt=prompt)
        if len(out) >= max_tokens:
            return Generation(out, "length", prompt=prompt)
        return Generation(out, "stop", prompt=prompt)

    # -- engine hooks -------------------------------------------------------------------
    def handle_get(self, path: str) -> tuple[int, Any] | None:
        """Answer a GET (status, JSON), or None for 404."""
        return None

    def parse(self, body: Any) -> tuple[list[int], Any]:
        """Validate a request body; return the prompt tokens and engine options."""
        raise NotImplementedError

    def run(self, prompt: list[int], options: Any) -> Generation:
        raise NotImplementedError

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        """The stream's events with the number of tokens each one carries."""
        raise NotImplementedError

    def full_reply(self, generation: Generation, options: Any) -> Any:
        """The non-streaming reply."""
        raise NotImplementedError

    def error_body(self, error: RequestError) -> Any:
        return {"error": str(error)}

    def encode_event(self, event: Any) -> bytes:
        if isinstance(event, bytes):
            return event
        return b"data: " + json.dumps(event).encode() + b"\n\n"

    # -- helpers for subclasses --------------------------------------------------------
    def prompt_from(self, value: Any, name: str, *, allow_text: bool = True) -> list[int]:
        if isinstance(value, str) and allow_text and value:
            return self.encoding.encode(value, allowed_special="all")
        if isinstance(value, list) and value and all(_is_int(t) and t >= 0 for t in value):
            return [int(t) for t in value]
        raise RequestError(400, f"`{name}` must be a non-empty list of token ids", name)

    def decoder(self) -> Callable[[list[int]], str]:
        """Incremental detokenizer: holds back bytes of an unfinished UTF-8 character."""
        utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
        return lambda tokens: utf8.decode(self.encoding.decode_bytes(tokens))

    def _counted(self, attr: str, delta: int) -> None:
        with self._cond:
            setattr(self, attr, getattr(self, attr) + delta)
            if attr == "active":
                self.max_active = max(self.max_active, self.active)
            self._cond.notify_all()

    def _wait_barrier(self) -> bool:
        with self._cond:
            if self.barrier is not None and self.active >= self.barrier:
                self._barrier_open = True
                self._cond.notify_all()
            return self._cond.wait_for(lambda: self._barrier_open, timeout=10.0)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_ints(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(t) for t in value)


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) for t in value)


_KINDS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "number": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "dict": lambda v: isinstance(v, dict),
    "ints": _is_ints,
    "strs": _is_strs,
}


def check(body: dict[str, Any], name: str, kind: str, *, required: bool = False) -> Any:
    """Type-check ``body[name]`` like a pydantic model would; None means absent."""
    value = body.get(name)
    if value is None:
        if required:
            raise RequestError(400, f"`{name}` is required", name)
        return None
    ok = _KINDS[kind](value)
    if not ok:
        raise RequestError(400, f"`{name}` must be of type {kind}, got {value!r:.60}", name)
    return value


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is not news
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def do_GET(self) -> None:
        fake = self.server.fake
        fake._counted("requests_seen", 1)
        if not self._authorized():
            return
        answer = fake.handle_get(self.path.split("?")[0])
        if answer is None:
            self._send_json(404, {"error": f"no route for GET {self.path}"})
        else:
            self._send_json(*answer)

    def _authorized(self) -> bool:
        fake = self.server.fake
        if fake.api_key is None or self.headers.get("Authorization") == f"Bearer {fake.api_key}":
            return True
        self._send_json(401, fake.error_body(RequestError(401, "invalid or missing API key")))
        return False

    def do_POST(self) -> None:
        fake = self.server.fake
        with fake._cond:
            fake.requests_seen += 1
            number = fake.requests_seen
            fake._cond.notify_all()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != fake.path:
            self._send_json(404, fake.error_body(RequestError(404, f"no route for {self.path}")))
            return
        if not self._authorized():
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            self._send_json(400, fake.error_body(RequestError(400, f"invalid JSON: {exc}")))
            return
        with fake._cond:
            fake.bodies.append(body)
            fake.last_request = body
        if number <= fake.fail_first:
            error = RequestError(fake.fail_status, "injected failure")
            self._send_json(fake.fail_status, fake.error_body(error))
            return
        if number <= fake.fail_first + fake.drop_first:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            if not isinstance(body, dict):
                raise RequestError(400, "the body must be a JSON object")
            prompt, options = fake.parse(body)
            generation = fake.run(prompt, options)
        except RequestError as error:
            self._send_json(error.status, fake.error_body(error))
            return
        if not options.get("stream"):
            self._send_json(200, fake.full_reply(generation, options))
            return
        self._stream(fake, generation, options)

    def _stream(self, fake: FakeServer, generation: Generation, options: Any) -> None:
        fake._counted("active", 1)
        try:
            if not fake._wait_barrier():
                self._send_json(500, fake.error_body(RequestError(500, "barrier timed out")))
                return
            self.send_response(200)
            self.send_header("Content-Type", fake.content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            sent = 0
            for event, n_tokens in fake.events(generation, options):
                if fake.drop_after is not None and sent + n_tokens > fake.drop_after and n_tokens:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if self._client_gone():
                    fake._counted("disconnects", 1)
                    self.close_connection = True
                    return
                self._write_chunk(fake.encode_event(event))
                sent += n_tokens
                if n_tokens and fake.token_delay:
                    time.sleep(fake.token_delay)
            self.wfile.write(b"0\r\n\r\n")
            fake._counted("completed", 1)
        except (BrokenPipeError, ConnectionResetError):
            fake._counted("disconnects", 1)
            self.close_connection = True
        finally:
            fake._counted("active", -1)


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
            if options.get(name) is not None and not _KINDS[kind](options[name]):
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
