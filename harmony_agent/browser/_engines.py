"""Search engines: the interface, and the web engines (SearXNG, Exa, You.com, Tavily, Brave).

An engine turns a query into :class:`SearchResult` objects; the browser renders them as
a search page. Web engines take their key from the environment (or ``api_key=``) and a
``base_url`` override (a proxy, a self-hosted instance, a test server). A missing key,
an HTTP error or an answer that is not the engine's JSON raises :class:`SearchError`,
which the browser reports to the model as text.
"""

from __future__ import annotations

import abc
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from harmony_agent.browser._page import Page

__all__ = [
    "Brave",
    "Exa",
    "SearXNG",
    "SearchEngine",
    "SearchError",
    "SearchResult",
    "Tavily",
    "WebEngine",
    "YouCom",
]


class SearchError(Exception):
    """A search that failed; the message is written for the model (and the developer)."""


@dataclass(frozen=True, slots=True)
class SearchResult:
    """One hit.

    Attributes:
        url: the result's address.
        title: its title.
        snippet: a short text from it.
        page: the document itself when the engine holds it (the local index), so that
            opening the result needs no fetch.
    """

    url: str
    title: str
    snippet: str = ""
    page: Page | None = None


class SearchEngine(abc.ABC):
    """What the browser needs from a search engine.

    Attributes:
        source: the name the model may pass as ``source`` to pick this engine.
    """

    source: str = "web"

    @abc.abstractmethod
    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Up to ``topn`` results for ``query``, best first.

        Raises:
            SearchError: the engine failed; the message says how.
        """

    async def document(self, url: str) -> Page | None:
        """The engine's own copy of ``url`` if it holds one (the local index does)."""
        return None

    async def add(self, page: Page) -> None:  # noqa: B027 - optional hook
        """Offer a page the browser fetched (the local index keeps it; others ignore it)."""


class WebEngine(SearchEngine):
    """Base of the engines behind an HTTP API: key, base URL and error handling."""

    env_var: ClassVar[str] = ""
    default_url: ClassVar[str] = ""
    name: ClassVar[str] = ""

    def __init__(
        self, *, api_key: str | None = None, base_url: str | None = None, timeout: float = 15.0
    ) -> None:
        self._api_key = api_key
        self.base_url = (base_url or self.default_url).rstrip("/")
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    @property
    def api_key(self) -> str:
        """The key: ``api_key=`` or the engine's environment variable."""
        key = self._api_key or os.environ.get(self.env_var, "")
        if not key:
            raise SearchError(
                f"{self.name} needs an API key: set {self.env_var} or pass api_key= "
                f"to {type(self).__name__}()"
            )
        return key

    async def _request(
        self,
        client: httpx.AsyncClient,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> Any:
        try:
            response = await client.request(
                method,
                f"{self.base_url}{path}",
                headers=dict(headers),
                params=params,
                json=body,
                timeout=self.timeout,
            )
        except httpx.TimeoutException:
            raise SearchError(f"{self.name} did not answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise SearchError(f"{self.name} could not be reached: {exc}") from None
        if response.status_code >= 400:
            raise SearchError(
                f"{self.name} answered HTTP {response.status_code}: {_error_detail(response)}"
            )
        try:
            return response.json()
        except ValueError:
            raise SearchError(f"{self.name} answered something that is not JSON") from None

    def _results(self, items: Any, title: str, url: str, *snippets: str) -> list[SearchResult]:
        if not isinstance(items, list):
            raise SearchError(f"{self.name} answered JSON without a list of results")
        out: list[SearchResult] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get(url), str):
                continue
            snippet = ""
            for key in snippets:
                value = item.get(key)
                if isinstance(value, list):
                    value = " … ".join(str(v) for v in value if v)
                if value:
                    snippet = str(value)
                    break
            out.append(SearchResult(item[url], str(item.get(title) or item[url]), snippet))
        return out


def _error_detail(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return response.text[:300] or response.reason_phrase
    for path in (("error", "detail"), ("detail", "error"), ("error", "message"), ("error",),
                 ("detail",), ("message",)):  # fmt: skip
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and value:
            return value[:300]
    return str(data)[:300]


def _clip(topn: int, most: int) -> int:
    return max(1, min(topn, most))


class SearXNG(WebEngine):
    """A self-hosted SearXNG instance (no key; its settings must enable the JSON format).

    Args:
        url: the instance's base URL (default: ``$SEARXNG_URL``).
    """

    env_var = "SEARXNG_URL"
    name = "SearXNG"

    def __init__(self, url: str | None = None, *, timeout: float = 15.0) -> None:
        base = url or os.environ.get("SEARXNG_URL", "")
        if not base:
            raise SearchError("SearXNG needs the instance's URL: SearXNG(url) or $SEARXNG_URL")
        super().__init__(base_url=base, timeout=timeout)

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Results from ``GET /search?format=json``."""
        data = await self._request(
            client, "GET", "/search", headers={}, params={"q": query, "format": "json"}
        )
        items = data.get("results") if isinstance(data, dict) else None
        return self._results(items, "title", "url", "content")[: _clip(topn, 50)]


class Exa(WebEngine):
    """Exa's search API (``EXA_API_KEY``)."""

    env_var = "EXA_API_KEY"
    default_url = "https://api.exa.ai"
    name = "Exa"

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Results from ``POST /search`` with highlights as snippets."""
        body = {"query": query, "numResults": _clip(topn, 100), "contents": {"highlights": True}}
        data = await self._request(
            client, "POST", "/search", headers={"x-api-key": self.api_key}, body=body
        )
        items = data.get("results") if isinstance(data, dict) else None
        return self._results(items, "title", "url", "highlights", "summary", "text")


class YouCom(WebEngine):
    """You.com's search API (``YDC_API_KEY``), the reference browser's engine."""

    env_var = "YDC_API_KEY"
    default_url = "https://ydc-index.io"
    name = "You.com"

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Web then news results from ``GET /v1/search``."""
        data = await self._request(
            client,
            "GET",
            "/v1/search",
            headers={"X-API-Key": self.api_key},
            params={"query": query, "count": _clip(topn, 100)},
        )
        results = data.get("results") if isinstance(data, dict) else None
        if not isinstance(results, dict):
            raise SearchError(f"{self.name} answered JSON without results")
        web = self._results(results.get("web", []), "title", "url", "snippets", "description")
        news = self._results(results.get("news", []), "title", "url", "description")
        return (web + news)[: _clip(topn, 100)]


class Tavily(WebEngine):
    """Tavily's search API (``TAVILY_API_KEY``)."""

    env_var = "TAVILY_API_KEY"
    default_url = "https://api.tavily.com"
    name = "Tavily"

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Results from ``POST /search``."""
        data = await self._request(
            client,
            "POST",
            "/search",
            headers={"Authorization": f"Bearer {self.api_key}"},
            body={"query": query, "max_results": _clip(topn, 20), "search_depth": "basic"},
        )
        items = data.get("results") if isinstance(data, dict) else None
        return self._results(items, "title", "url", "content")


class Brave(WebEngine):
    """Brave's web search API (``BRAVE_API_KEY``)."""

    env_var = "BRAVE_API_KEY"
    default_url = "https://api.search.brave.com"
    name = "Brave"

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Results from ``GET /res/v1/web/search``."""
        data = await self._request(
            client,
            "GET",
            "/res/v1/web/search",
            headers={"X-Subscription-Token": self.api_key, "Accept": "application/json"},
            params={"q": query, "count": _clip(topn, 20)},
        )
        web = data.get("web") if isinstance(data, dict) else None
        items = web.get("results", []) if isinstance(web, dict) else []
        return self._results(items, "title", "url", "description", "extra_snippets")
