"""Shared plumbing of the backends: HTTP client and retries, SSE/NDJSON lines, token helpers.

Every HTTP adapter derives from :class:`HTTPBackend`, which owns one lazily created
``httpx.AsyncClient`` and retries connection errors and HTTP 429/5xx with exponential
backoff and jitter, but only until the first token reached the caller: a half-streamed
completion is never replayed. A stream counts as finished only when the engine said so
(each adapter knows its end marker) and then ends with a :class:`Finish` chunk; one that
breaks or just stops after tokens arrived raises :class:`StreamInterrupted`, which the
agent resumes. The token helpers (:class:`TokenGate`, :class:`TextTokenizer`) are shared by every
adapter; a stop token the engine left out without naming it stays out (the agent
restores it from the parsed header).
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import time
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import httpx

from harmony_agent.agent._backend import Finish, FinishReason, SamplingParams
from harmony_agent.errors import BackendError, StreamInterrupted
from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    from typing_extensions import Self

    from harmony_agent.format import Encoding

__all__ = [
    "DEFAULT_TIMEOUT",
    "DONE",
    "TRAILING_ERRORS",
    "HTTPBackend",
    "TextTokenizer",
    "TokenGate",
    "Unfinished",
    "ndjson_events",
    "sse_events",
    "stop_set",
]

_T = TypeVar("_T")

#: Connect within 10 s; wait up to 5 minutes for a byte (a long prefill) or a free connection.
DEFAULT_TIMEOUT = httpx.Timeout(300.0, connect=10.0)
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_RETRY_ERRORS = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
_CONNECT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout)
_BACKOFF_MAX = 8.0
_EXCERPT = 1000
#: After a request found the server unreachable, later requests within this many
#: seconds try once instead of retrying (many runs against a dead server fail fast).
UNREACHABLE_GRACE = 10.0


class Unfinished(Exception):
    """The stream ended without the engine's end marker (raised by the adapters)."""


class _Malformed(BackendError):
    """A reply that is not the JSON the engine's protocol promises."""


class _Done:
    """The end-of-stream marker ``data: [DONE]`` (see :func:`sse_events`)."""

    def __repr__(self) -> str:
        return "DONE"


#: What :func:`sse_events` yields for ``data: [DONE]``, just before it stops.
DONE = _Done()

#: Failures of the rest of a body: after the engine's end marker they change nothing
#: (the adapters read on, to leave the connection reusable, and ignore these).
TRAILING_ERRORS = (httpx.HTTPError, _Malformed)


class _Retryable(Exception):
    """An HTTP answer worth another try (429, 5xx)."""

    def __init__(self, status: int, excerpt: str, retry_after: float | None) -> None:
        self.status = status
        self.excerpt = excerpt
        self.retry_after = retry_after
        super().__init__(f"HTTP {status}: {excerpt}")


class AsyncClosing:
    """``async with backend:`` closes it on exit (subclasses define ``aclose``)."""

    async def aclose(self) -> None:
        """Release what the backend holds."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class HTTPBackend(AsyncClosing):
    """Base class of the HTTP adapters: one reused client, retries, clean errors.

    Usable as an async context manager; ``aclose()`` closes the client (a client passed
    in by the caller is left open).
    """

    #: Engine name used in error messages.
    engine: ClassVar[str] = "HTTP backend"

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = 3,
        retry_backoff: float = 0.5,
        extra_body: Mapping[str, Any] | None = None,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.max_retries = max_retries
        self.retry_backoff = retry_backoff
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        self._user_client = client
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None
        self._unreachable_until = 0.0  # monotonic time; see UNREACHABLE_GRACE

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.base_url!r})"

    # -- client lifecycle -----------------------------------------------------------
    @property
    def client(self) -> httpx.AsyncClient:
        """The HTTP client, created on first use inside the running event loop."""
        if self._user_client is not None:
            return self._user_client
        loop = asyncio.get_running_loop()
        if self._client is not None and self._client_loop is loop:
            return self._client
        # Pooled connections belong to the loop that opened them: a new loop
        # (e.g. a second ``asyncio.run``) gets a new client.
        self._client = httpx.AsyncClient(
            timeout=self.timeout,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
        )
        self._client_loop = loop
        return self._client

    async def release_loop(self) -> None:
        """Close the client this backend opened in the running event loop, if any.

        ``agent.run`` and ``run_many`` call it before their event loop ends; the next
        request opens a new client.
        """
        if self._client is not None and self._client_loop is asyncio.get_running_loop():
            await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP client (if this backend created it)."""
        client, self._client = self._client, None
        if client is not None:
            await client.aclose()

    # -- requests -------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return self.base_url + path

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json, text/event-stream, application/x-ndjson"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        return headers

    @asynccontextmanager
    async def _post_stream(
        self, path: str, body: Mapping[str, Any]
    ) -> AsyncIterator[httpx.Response]:
        """POST ``body`` (merged with ``extra_body``) and yield the checked, streaming response."""
        client = self.client
        request = client.build_request(
            "POST", self._url(path), json={**body, **self.extra_body}, headers=self._headers()
        )
        response = await client.send(request, stream=True)
        try:
            await self._check(response)
            yield response
        finally:
            await response.aclose()

    async def _get_json(self, path: str) -> Any:
        """GET ``path`` and decode its JSON, with the same retry policy."""

        async def attempt() -> Any:
            response = await self.client.get(self._url(path), headers=self._headers())
            await self._check(response)
            return _loads(response.text, self.engine)

        return await self._call_with_retries(attempt, f"GET {path}")

    async def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        raw = await response.aread()
        excerpt = raw.decode("utf-8", "replace").strip()[:_EXCERPT] or "(empty body)"
        if response.status_code in RETRY_STATUSES:
            raise _Retryable(response.status_code, excerpt, _retry_after(response))
        method, path = response.request.method, response.request.url.path
        raise BackendError(
            f"{self.engine} at {self.base_url} answered {method} {path} with HTTP "
            f"{response.status_code}: {excerpt}",
            status=response.status_code,
        )

    # -- retry policy ---------------------------------------------------------------
    def _delay(self, attempt: int, exc: BaseException) -> float:
        delay = min(_BACKOFF_MAX, self.retry_backoff * 2.0**attempt)
        delay *= 0.5 + random.random() / 2  # jitter: spread clients that failed together
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            delay = max(delay, min(exc.retry_after, _BACKOFF_MAX * 4))
        return delay

    def _retries(self) -> int:
        """Retries for the next request: none while the server is known to be unreachable."""
        return 0 if time.monotonic() < self._unreachable_until else self.max_retries

    def _give_up(self, exc: BaseException, what: str, attempts: int) -> BackendError:
        status = exc.status if isinstance(exc, _Retryable) else None
        message = f"{self.engine} at {self.base_url}: {what} failed after {attempts} attempt(s)"
        if isinstance(exc, _CONNECT_ERRORS):
            self._unreachable_until = time.monotonic() + UNREACHABLE_GRACE
            return BackendError(
                f"{message}: could not connect ({_describe(exc)}). Is the server running "
                f"and listening at {self.base_url}?"
            )
        return BackendError(f"{message}: {_describe(exc)}", status=status)

    async def _call_with_retries(self, fn: Callable[[], Awaitable[_T]], what: str) -> _T:
        attempt, retries = 0, self._retries()
        while True:
            try:
                result = await fn()
            except (_Retryable, *_RETRY_ERRORS) as exc:
                if attempt >= retries:
                    raise self._give_up(exc, what, attempt + 1) from _cause(exc)
                await asyncio.sleep(self._delay(attempt, exc))
                attempt += 1
            except httpx.HTTPError as exc:
                raise self._give_up(exc, what, attempt + 1) from exc
            else:
                self._unreachable_until = 0.0
                return result

    #: Path of the streaming completion endpoint.
    path: ClassVar[str] = "/"

    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a completion request (each engine defines it)."""
        raise NotImplementedError

    def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        """One streaming request; the engine's adapter reads its wire format."""
        raise NotImplementedError

    def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        """Stream the completion of ``prompt_tokens`` as chunks of token ids."""
        body = self.request_body(prompt_tokens, params)
        return self._stream_with_retries(
            lambda: self._attempt(prompt_tokens, params, body), f"POST {self.path}"
        )

    async def _stream_with_retries(
        self, attempt_fn: Callable[[], AsyncGenerator[Sequence[int], None]], what: str
    ) -> AsyncIterator[Sequence[int]]:
        """Run ``attempt_fn()`` and retry it while it has yielded no token yet.

        Once tokens reached the caller, a broken stream is not replayed here: it raises
        :class:`StreamInterrupted` (the agent resumes from the tokens it has).
        """
        attempt, retries = 0, self._retries()
        while True:
            delivered = 0
            stream = attempt_fn()
            try:
                async for chunk in stream:
                    if not delivered:
                        self._unreachable_until = 0.0
                    delivered += len(chunk)
                    yield chunk
                return
            except (_Retryable, Unfinished, _Malformed, *_RETRY_ERRORS) as exc:
                if delivered:
                    raise self._interrupted(exc, delivered) from exc
                if attempt >= retries:
                    raise self._give_up(exc, what, attempt + 1) from _cause(exc)
                delay = self._delay(attempt, exc)
                attempt += 1
            except httpx.HTTPError as exc:  # timeouts and the rest: not worth another try
                if delivered:
                    raise self._interrupted(exc, delivered) from exc
                raise self._give_up(exc, what, attempt + 1) from exc
            finally:
                await stream.aclose()
            await asyncio.sleep(delay)

    def _interrupted(self, exc: BaseException, delivered: int) -> StreamInterrupted:
        return StreamInterrupted(
            f"{self.engine} at {self.base_url}: the stream ended after {delivered} token(s) "
            f"before the server said it had finished: {_what_happened(exc)}",
            received=delivered,
            url=self.base_url,
        )


def _cause(exc: BaseException) -> BaseException | None:
    """What to chain a give-up error to: nothing for a refused connection, whose long
    httpcore traceback says no more than the one-line message already does."""
    return None if isinstance(exc, _CONNECT_ERRORS) else exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.HTTPError) and not isinstance(exc, httpx.HTTPStatusError):
        return f"{type(exc).__name__}: {text}"
    return text


def _what_happened(exc: BaseException) -> str:
    """A stream failure in words, for the error a user reads."""
    if isinstance(exc, Unfinished):
        return str(exc)
    if isinstance(exc, httpx.TimeoutException):
        return f"no data arrived within the read timeout ({_describe(exc)})"
    if isinstance(exc, httpx.RemoteProtocolError):
        return f"the connection closed mid-reply ({_describe(exc)})"
    if isinstance(exc, httpx.NetworkError):
        return f"the connection broke ({_describe(exc)})"
    return _describe(exc)


def _loads(text: str, engine: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise _Malformed(f"{engine} sent a malformed reply (not JSON): {text[:200]!r}") from None


# -- line protocols -----------------------------------------------------------------
async def sse_events(response: httpx.Response, engine: str) -> AsyncIterator[Any]:
    """Decoded JSON of each server-sent event's ``data``, then :data:`DONE` at ``[DONE]``.

    An ``error:`` field (llama.cpp) raises :class:`BackendError`. An event cut off by
    the end of the body is dropped unless it is whole JSON; the adapter then sees no end
    marker and reports the stream as unfinished.
    """
    data: list[str] = []
    async for line in response.aiter_lines():
        if not line:
            if data:
                payload = "\n".join(data)
                data.clear()
                if payload.strip() == "[DONE]":
                    yield DONE
                    return
                yield _loads(payload, engine)
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "error":
            raise BackendError(f"{engine} reported an error mid-stream: {value[:_EXCERPT]}")
    if data:  # no blank line after the last event: whole JSON counts, a cut-off piece not
        payload = "\n".join(data)
        if payload.strip() == "[DONE]":
            yield DONE
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            return
        yield event


async def ndjson_events(response: httpx.Response, engine: str) -> AsyncIterator[Any]:
    """Decoded JSON of each non-empty line; a last line cut off by the end is dropped."""
    pending = ""
    async for text in response.aiter_text():
        pending += text
        *lines, pending = pending.split("\n")
        for line in lines:
            if line.strip():
                yield _loads(line, engine)
    if pending.strip():
        try:
            event = json.loads(pending)
        except json.JSONDecodeError:
            return
        yield event


def error_message(event: Any) -> str | None:
    """The error an engine put in a stream event (``{"error": ...}``), if any."""
    if isinstance(event, dict) and event.get("error"):
        error = event["error"]
        if isinstance(error, dict):
            return str(error.get("message") or json.dumps(error))
        return str(error)
    return None


# -- tokens ---------------------------------------------------------------------------
def stop_set(params: SamplingParams) -> tuple[int, ...]:
    """The stop tokens of ``params``: the harmony action stops when none are given."""
    if params.stop_tokens is None:
        return T.ACTION_STOPS
    return tuple(params.stop_tokens)


class TokenGate:
    """Cuts a completion at its first stop token (kept) or at ``max_tokens``.

    Engines differ in whether they honour every stop token and the exact limit; the
    gate makes every adapter behave the same.
    """

    def __init__(self, params: SamplingParams) -> None:
        self.stops = frozenset(stop_set(params))
        self.remaining = params.max_tokens
        self.done = False
        self.stopped = False  #: ended on a stop token
        self.tokens: list[int] = []

    def take(self, tokens: Iterable[int]) -> list[int]:
        """The part of ``tokens`` that belongs to the completion."""
        out: list[int] = []
        for token in tokens:
            if self.done:
                break
            out.append(int(token))
            self.remaining -= 1
            if token in self.stops:
                self.done = self.stopped = True
            elif self.remaining <= 0:
                self.done = True
        self.tokens += out
        return out

    def finish(self, tail: Sequence[int] = (), reason: FinishReason | None = None) -> Finish:
        """The stream's last chunk: ``tail`` (already taken) and why it ended.

        Without ``reason``: ``"length"`` when the gate cut the completion at
        ``max_tokens``, else ``"stop"``.
        """
        if reason is None:
            reason = "length" if self.done and not self.stopped else "stop"
        return Finish(tail, reason)


def special_token_id(text: str, encoding: Encoding) -> int | None:
    """The id of a special token given by its text (``"<|call|>"``), else None."""
    ids = encoding.encode(text, allowed_special="all") if text.startswith("<|") else []
    return ids[0] if len(ids) == 1 and encoding.is_special_token(ids[0]) else None


_SPECIAL_RE = re.compile(r"<\|[^<>|\s]{1,64}\|>")
_PARTIAL_SPECIAL_RE = re.compile(r"<(?:\|[^<>|\s]{0,64}\|?)?\Z")


class TextTokenizer:
    """Re-encodes streamed harmony text (special tokens literal) into token ids.

    Text is encoded only up to a point no later text can change: the end of the last
    special token, or a pre-tokenizer piece boundary after it that later text cannot move. With
    ``restore_end``, a ``<|end|>`` the engine left out of its text (llama.cpp and Ollama
    do not render control tokens) is put back before each ``<|start|>``; ``after`` is the
    token the text follows (the prompt's last), so that holds across a resumed stream too.
    """

    def __init__(
        self, encoding: Encoding, *, restore_end: bool = False, after: int | None = None
    ) -> None:
        self.encoding = encoding
        self.restore_end = restore_end
        self._pending = ""
        self._specials = encoding.special_tokens_set
        #: the token before the text (the prompt's last, when a stream is resumed)
        self._last: int | None = after
        try:
            import regex  # type: ignore[import-untyped]  # tiktoken's own dependency

            self._pieces: Any = regex.compile(encoding.tiktoken._pat_str)
        except (ImportError, AttributeError):  # pragma: no cover - cut at special tokens only
            self._pieces = None

    def feed(self, text: str) -> list[int]:
        """Tokens for the text that is now final."""
        self._pending += text
        cut = self._safe_cut(self._pending)
        if cut == 0:
            return []
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._encode(ready)

    def flush(self) -> list[int]:
        """Tokens for whatever is still held back (end of stream)."""
        ready, self._pending = self._pending, ""
        return self._encode(ready) if ready else []

    def _safe_cut(self, text: str) -> int:
        boundary = 0
        for match in _SPECIAL_RE.finditer(text):
            if match.group() in self._specials:
                boundary = match.end()
        tail = text[boundary:]
        partial = _PARTIAL_SPECIAL_RE.search(tail)  # may still become a special token
        ordinary = tail[: partial.start()] if partial else tail
        if not ordinary or self._pieces is None:
            return boundary
        # The last two pieces may still change ("Let" + "'" becomes "Let's" once "s"
        # comes), and a piece ending in whitespace depends on what follows it.
        starts: list[int] = [match.start() for match in self._pieces.finditer(ordinary)]
        for start in reversed(starts[1:-1]):
            if not ordinary[start - 1].isspace():
                return boundary + start
        return boundary

    def _encode(self, text: str) -> list[int]:
        tokens = self.encoding.encode(text, allowed_special="all")
        if not self.restore_end:
            return tokens
        out: list[int] = []
        for token in tokens:
            if token == T.START and self._last is not None and self._last != T.END:
                out.append(T.END)
            out.append(token)
            self._last = token
        return out
