"""The base of the fake engine servers (see :mod:`harmony_agent.testing.fake_servers`).

``FakeServer`` runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread,
validates requests with ``check``, runs the scripted model and streams chunked replies;
each engine subclass defines its request parsing and its wire format.
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
    "EOS_TOKENS",
    "KINDS",
    "UNRENDERED",
    "Completion",
    "FakeServer",
    "Generation",
    "Model",
    "RequestError",
    "check",
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


KINDS: dict[str, Callable[[Any], bool]] = {
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
    ok = KINDS[kind](value)
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
