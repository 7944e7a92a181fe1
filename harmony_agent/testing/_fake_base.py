"""The base of the fake engine servers (see :mod:`harmony_agent.testing.fake_servers`).

``FakeServer`` runs a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 in a daemon thread
(the HTTP side is in ``_fake_http``), validates requests with ``check``, runs the
scripted model and streams chunked replies, broken where a :class:`Cut` says; each
engine subclass defines its request parsing and its wire format.

The scripted model continues a cut completion like a real engine would: a prompt that
is an earlier prompt plus the first tokens of the completion it got is answered with
the rest of that completion (so a client that resumes gets the uncut answer).
"""

from __future__ import annotations

import codecs
import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Union

from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    from typing_extensions import Self

    from harmony_agent.format import Encoding
    from harmony_agent.testing._fake_http import FakeHTTPServer

__all__ = [
    "EOS_TOKENS",
    "UNRENDERED",
    "Completion",
    "Cut",
    "FakeServer",
    "Generation",
    "Model",
    "RequestError",
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
    resumed: bool = False  #: the request continued a completion cut earlier


#: How a :class:`Cut` breaks a stream: ``reset`` drops the connection mid-body, ``end``
#: ends the HTTP body properly but without the engine's end marker, ``partial`` sends
#: half of the next event first, ``eof`` sends a body that ends when the connection
#: closes and then closes it, ``garbage`` sends a line that is not the protocol's JSON
#: and ends the body, ``stall`` goes silent (then resets), ``die`` shuts the whole
#: server down (later connections are refused).
CutHow = Literal["reset", "end", "partial", "eof", "garbage", "stall", "die"]


@dataclass(frozen=True)
class Cut:
    """Where and how a fake server breaks a stream.

    Attributes:
        after: tokens sent before the cut; the completion's length cuts the end marker
            (``[DONE]``, llama.cpp's ``stop: true`` chunk, Ollama's ``done: true`` line).
        how: the kind of break (see :data:`CutHow`).
        stall: seconds a ``stall`` stays silent.
    """

    after: int
    how: CutHow = "reset"
    stall: float = 30.0


#: Which streams to cut: one :class:`Cut` for all, or a function of the stream's number
#: (1, 2, ... in the order streams start) and whether it resumes a cut completion.
CutPlan = Union[Cut, Callable[[int, bool], "Cut | None"]]  # noqa: UP007


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
        cut: CutPlan | None = None,
        length_limit: int | None = None,
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
        if cut is None and drop_after is not None:
            cut = Cut(drop_after)
        self.drop_after = drop_after
        self.cut = cut
        self.length_limit = length_limit
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
        self.streams = 0  #: streams started
        self.cuts = 0  #: streams broken by ``cut``
        self.resumed = 0  #: requests that continued a cut completion
        self._served: list[tuple[list[int], list[int]]] = []  # (prompt, whole completion)
        self._cond = threading.Condition()
        self._script_index = 0
        self._barrier_open = barrier is None
        self._httpd: FakeHTTPServer | None = None
        self._address: str | None = None
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
        if self._address is None:
            raise RuntimeError("the fake server is not running: use it as a context manager")
        return self._address

    def start(self) -> Self:
        """Listen on an ephemeral port of 127.0.0.1 and serve in a daemon thread."""
        from harmony_agent.testing._fake_http import FakeHTTPServer, Handler

        self.encoding  # noqa: B018 - load the vocabulary before the first request
        httpd = FakeHTTPServer(("127.0.0.1", 0), Handler)
        httpd.fake = self
        self._httpd = httpd
        self._address = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
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

    def _die(self) -> None:
        """Stop accepting connections at once (a killed server); ``close`` still joins."""
        httpd = self._httpd
        if httpd is not None:

            def stop() -> None:
                httpd.shutdown()
                httpd.server_close()

            threading.Thread(target=stop, daemon=True).start()

    def _cut_for(self, generation: Generation) -> Cut | None:
        """The cut this stream gets, if any (counts the stream)."""
        with self._cond:
            self.streams += 1
            number = self.streams
        if self.cut is None or isinstance(self.cut, Cut):
            return self.cut
        return self.cut(number, generation.resumed)

    # -- the model --------------------------------------------------------------------
    def generate(self, prompt: list[int], max_tokens: int, stops: frozenset[int]) -> Generation:
        """Run the scripted model, then cut at the first stop token or ``max_tokens``.

        A prompt that continues a completion served before gets the rest of it.
        """
        if self.length_limit is not None:
            max_tokens = min(max_tokens, self.length_limit)
        tokens = self._continuation(prompt)
        resumed = tokens is not None
        if tokens is None:
            tokens = self._complete(prompt)
            whole = tokens[: next((i + 1 for i, t in enumerate(tokens) if t in stops), None)]
            with self._cond:
                self._served = [*self._served[-63:], (list(prompt), whole)]
        else:
            self._counted("resumed", 1)
        out: list[int] = []
        for token in tokens:
            if len(out) >= max_tokens:
                return Generation(out, "length", prompt=prompt, resumed=resumed)
            out.append(token)
            if token in stops:
                return Generation(out, "stop", token, prompt=prompt, resumed=resumed)
        if len(out) >= max_tokens:
            return Generation(out, "length", prompt=prompt, resumed=resumed)
        return Generation(out, "stop", prompt=prompt, resumed=resumed)

    def _complete(self, prompt: list[int]) -> list[int]:
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
            return self.encoding.encode(completion, allowed_special="all")
        return [int(t) for t in completion]

    def _continuation(self, prompt: list[int]) -> list[int] | None:
        """The rest of a completion whose first tokens end ``prompt``, if one was served."""
        with self._cond:
            served = list(self._served)
        for base, whole in reversed(served):
            extra = len(prompt) - len(base)
            if (
                0 < extra < len(whole)
                and prompt[: len(base)] == base
                and prompt[len(base) :] == whole[:extra]
            ):
                return whole[extra:]
        return None

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
        if isinstance(value, list) and value and all(type(t) is int and t >= 0 for t in value):
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
