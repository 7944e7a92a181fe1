"""The HTTP client of the backends, and its retry policy.

Every HTTP adapter derives from :class:`HTTPBackend`, which owns one lazily created
``httpx.AsyncClient`` and retries connection errors and HTTP 429/5xx with exponential
backoff and jitter, but only until the first token reached the caller: a half-streamed
completion is never replayed. A stream counts as finished only when the engine said so
(each adapter knows its end marker) and then ends with a :class:`Finish` chunk; one that
breaks or just stops after tokens arrived raises :class:`StreamInterrupted`, which the
agent resumes.

The line readers (``_lines``) and token helpers (``_tokens``) live in their own modules;
their names are re-exported here for code that imports them from this module.
"""

from __future__ import annotations

import asyncio
import random
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, ClassVar, TypeVar

import httpx

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._closing import AsyncClosing
from harmony_agent.backends._lines import (
    DONE,
    EXCERPT,
    Malformed,
    error_message,
    loads,
    ndjson_events,
    sse_events,
)
from harmony_agent.backends._tokens import TextTokenizer, TokenGate, special_token_id, stop_set
from harmony_agent.errors import BackendError, StreamInterrupted

__all__ = [
    "DEFAULT_TIMEOUT",
    "DONE",
    "RETRY_STATUSES",
    "TRAILING_ERRORS",
    "UNREACHABLE_GRACE",
    "AsyncClosing",
    "HTTPBackend",
    "TextTokenizer",
    "TokenGate",
    "Unfinished",
    "error_message",
    "ndjson_events",
    "special_token_id",
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
#: After a request found the server unreachable, later requests within this many
#: seconds try once instead of retrying (many runs against a dead server fail fast).
UNREACHABLE_GRACE = 10.0


class Unfinished(Exception):
    """The stream ended without the engine's end marker (raised by the adapters)."""


#: Failures of the rest of a body: after the engine's end marker they change nothing
#: (the adapters read on, to leave the connection reusable, and ignore these).
TRAILING_ERRORS = (httpx.HTTPError, Malformed)


class _Retryable(Exception):
    """An HTTP answer worth another try (429, 5xx)."""

    def __init__(self, status: int, excerpt: str, retry_after: float | None) -> None:
        self.status = status
        self.excerpt = excerpt
        self.retry_after = retry_after
        super().__init__(f"HTTP {status}: {excerpt}")


class HTTPBackend(AsyncClosing, ABC):
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
            return loads(response.text, self.engine)

        return await self._call_with_retries(attempt, f"GET {path}")

    async def _check(self, response: httpx.Response) -> None:
        if response.status_code < 400:
            return
        raw = await response.aread()
        excerpt = raw.decode("utf-8", "replace").strip()[:EXCERPT] or "(empty body)"
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

    @abstractmethod
    def request_body(self, prompt_tokens: list[int], params: SamplingParams) -> dict[str, Any]:
        """The JSON body of a completion request (each engine defines it)."""

    @abstractmethod
    def _attempt(
        self, prompt_tokens: list[int], params: SamplingParams, body: dict[str, Any]
    ) -> AsyncGenerator[Sequence[int], None]:
        """One streaming request; the engine's adapter reads its wire format."""

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
            except (_Retryable, Unfinished, Malformed, *_RETRY_ERRORS) as exc:
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
