"""The browser tool: ``browser.search``, ``browser.open``, ``browser.find``.

:class:`BrowserTool` holds what runs share (search engines, the address policy, a
bounded cache of fetched pages); each run gets a :class:`BrowserSession` with its own
page stack, so cursors of concurrent runs never mix. Every display (search results,
a page, a scroll, find results) is pushed as a new cursor, and old cursors keep
pointing at what they showed.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, ClassVar

from harmony_agent.browser._engines import SearchEngine
from harmony_agent.browser._fetch import Limits, new_client
from harmony_agent.browser._local import LocalIndex, default_index_path
from harmony_agent.browser._safety import AddressPolicy
from harmony_agent.browser._session import BrowserSession, View, _Cached
from harmony_agent.errors import ToolError
from harmony_agent.format._encoding import Encoding
from harmony_agent.format._messages import Message, ToolNamespace
from harmony_agent.tools._base import Placement, Tool, ToolCall

__all__ = ["BrowserTool"]


class BrowserTool(Tool):
    """gpt-oss's built-in browser: search, open and find, with the page format it knows.

    Args:
        search: the search engine(s); the first is the default, others are picked by
            their ``source``. Default: the local index at
            :func:`~harmony_agent.browser.default_index_path` if one was built there
            (``harmony-agent index DIR``), else an empty in-memory :class:`LocalIndex`.
            Either way no key and no network are needed; pages fetched are added to it.
        allowed_hosts: hosts, addresses or networks that may be private or loopback
            (``["127.0.0.1"]``, ``["intranet.example", "10.0.0.0/8"]``).
        timeout: seconds one call may take in all (the agent enforces it too).
        view_tokens: about how many tokens ``open`` shows when ``num_lines`` is unset.
        limits: fetch limits (size cap, redirects, connect/read timeouts, deadline); the
            deadline is lowered to 80 % of ``timeout`` so that a stalled page is answered
            by the browser itself before the agent gives up on the call.
        cache_size: fetched pages kept for all runs (least recently used dropped).
    """

    placement: ClassVar[Placement] = "system"

    def __init__(
        self,
        search: SearchEngine | Sequence[SearchEngine] | None = None,
        allowed_hosts: Sequence[str] | None = None,
        *,
        timeout: float = 30.0,
        view_tokens: int = 1024,
        limits: Limits | None = None,
        cache_size: int = 64,
    ) -> None:
        if search is None:
            path = default_index_path()
            engines: list[SearchEngine] = [LocalIndex(path if path.is_file() else None)]
        elif isinstance(search, SearchEngine):
            engines = [search]
        else:
            engines = list(search)
        if not engines:
            raise ToolError("BrowserTool needs at least one search engine")
        if view_tokens < 16:
            raise ToolError(f"view_tokens must be at least 16, got {view_tokens}")
        self.engines = tuple(engines)
        self.policy = AddressPolicy.allowing(allowed_hosts)
        self.timeout = timeout
        self.view_tokens = view_tokens
        self.max_results = 50
        base = limits or Limits()
        if base.deadline >= timeout:  # answer the model ourselves before the agent gives up
            base = Limits(**{**_fields(base), "deadline": max(1.0, timeout * 0.8)})
        self.limits = base
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._cache_size = cache_size
        self._shown: OrderedDict[bytes, View] = OrderedDict()
        self._lock = threading.Lock()
        self._default: BrowserSession | None = None
        self._count: Callable[[str], int] | None = None

    @property
    def namespace(self) -> ToolNamespace:
        """The reference ``browser`` declaration, exactly as the model was trained on it."""
        return ToolNamespace.browser()

    def __repr__(self) -> str:
        return f"BrowserTool(search={list(self.engines)!r})"

    def session(self) -> AbstractAsyncContextManager[Tool]:
        """A fresh page stack (and HTTP client) for one run."""
        return self._session()

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[BrowserSession]:
        async with new_client(self.limits) as client:
            yield BrowserSession(self, client)

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Serve a call outside a run's session (one shared page stack)."""
        if self._default is None:
            self._default = BrowserSession(self, None)
        return await self._default.call(call)

    # -- shared state ------------------------------------------------------------------
    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` in the harmony encoding (how the view window is sized)."""
        if self._count is None:
            from harmony_agent.format._encoding import load_encoding

            self._count = _counter(load_encoding())
        return self._count(text)

    def cached(self, url: str) -> _Cached | None:
        """The page fetched from ``url`` earlier by any run, if still in the cache."""
        with self._lock:
            entry = self._cache.get(url)
            if entry is not None:
                self._cache.move_to_end(url)
            return entry

    def remember(self, url: str, entry: _Cached) -> None:
        """Cache a fetched page for every run (the least recently used one goes)."""
        with self._lock:
            self._cache[url] = entry
            self._cache.move_to_end(url)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def record(self, text: str, view: View) -> None:
        """Keep what a display showed, so citations can be resolved from its text."""
        key = hashlib.sha1(text.encode()).digest()
        with self._lock:
            self._shown[key] = view
            while len(self._shown) > 1024:
                self._shown.popitem(last=False)

    def lookup(self, text: str) -> View | None:
        """The view a tool message of this browser showed, if it is still remembered."""
        with self._lock:
            return self._shown.get(hashlib.sha1(text.encode()).digest())


def _counter(encoding: Encoding) -> Callable[[str], int]:
    return lambda text: len(encoding.encode_ordinary(text))


def _fields(limits: Limits) -> dict[str, Any]:
    return {name: getattr(limits, name) for name in limits.__slots__}
