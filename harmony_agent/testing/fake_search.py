"""Fake search APIs on 127.0.0.1: SearXNG, Exa, You.com, Tavily and Brave at the wire level.

Each server answers the engine's real endpoint with the engine's JSON shape, checks the
engine's key header, and can be told to fail the way the vendor does (401 for a bad
key, 429 when rate limited, 500, or a body that is not JSON)::

    with FakeSearchServer("brave", [Hit("https://a.example/", "A", "about a")]) as api:
        engine = ha.browser.Brave(api_key=api.api_key, base_url=api.base_url)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from harmony_agent.testing._loopback import LoopbackServer

__all__ = ["ENGINES", "FakeSearchServer", "Hit", "Request"]

Engine = Literal["searxng", "exa", "youcom", "tavily", "brave"]
ENGINES: tuple[Engine, ...] = ("searxng", "exa", "youcom", "tavily", "brave")
_PATHS = {"searxng": ("GET", "/search"), "exa": ("POST", "/search"),
          "youcom": ("GET", "/v1/search"), "tavily": ("POST", "/search"),
          "brave": ("GET", "/res/v1/web/search")}  # fmt: skip


@dataclass(frozen=True)
class Hit:
    """One result the fake engine returns."""

    url: str
    title: str
    snippet: str = ""


@dataclass
class Request:
    """What the fake engine received."""

    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    body: Any = None


@dataclass
class FakeSearchServer(LoopbackServer):
    """A fake of one engine's search API (see the module docstring).

    Attributes:
        engine: which API to speak.
        hits: the results, best first (the request's count is honoured).
        api_key: the key the server accepts.
        fail: answer every request with this status and the engine's error body
            (``"garbage"``: 200 with a body that is not JSON).
        requests: every request received.
    """

    engine: Engine
    hits: list[Hit] = field(default_factory=list)
    api_key: str = "test-key"
    fail: int | Literal["garbage"] | None = None
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; known: {', '.join(ENGINES)}")
        self._listen()

    # -- the wire ----------------------------------------------------------------------
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(h.path)
        params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        body: Any = None
        length = int(h.headers.get("Content-Length") or 0)
        if length:
            try:
                body = json.loads(h.rfile.read(length))
            except ValueError:
                self._send(h, 400, {"error": "invalid JSON body"})
                return
        self.requests.append(Request(method, parts.path, params, dict(h.headers.items()), body))
        want_method, want_path = _PATHS[self.engine]
        if (method, parts.path) != (want_method, want_path):
            self._send(h, 404, {"error": f"no route {method} {parts.path}"})
            return
        if self.engine == "searxng" and params.get("format") != "json":
            self._send(h, 403, None, text="<html><body>403 Forbidden</body></html>")
            return
        if self.fail == "garbage":
            self._send(h, 200, None, text="<html>surprise</html>")
            return
        if self.fail is not None:
            self._send(h, self.fail, self._error(self.fail, "simulated failure"))
            return
        if not self._authorized(h):
            self._send(h, 401, self._error(401, "invalid API key"))
            return
        query = params.get("q") or params.get("query") or (body or {}).get("query", "")
        if not query:
            self._send(
                h, 422 if self.engine == "brave" else 400, self._error(400, "query is required")
            )
            return
        count = self._count(params, body)
        self._send(h, 200, self._answer(query, self.hits[:count]))

    def _authorized(self, h: BaseHTTPRequestHandler) -> bool:
        key = {
            "searxng": None,
            "exa": h.headers.get("x-api-key"),
            "youcom": h.headers.get("X-API-Key"),
            "tavily": (h.headers.get("Authorization") or "").removeprefix("Bearer "),
            "brave": h.headers.get("X-Subscription-Token"),
        }[self.engine]
        return self.engine == "searxng" or key == self.api_key

    def _count(self, params: dict[str, str], body: Any) -> int:
        body = body or {}
        raw = {"searxng": 20, "exa": body.get("numResults", 10),
               "youcom": params.get("count", 10), "tavily": body.get("max_results", 5),
               "brave": params.get("count", 20)}[self.engine]  # fmt: skip
        return int(raw)

    def _answer(self, query: str, hits: list[Hit]) -> Any:
        if self.engine == "searxng":
            return {"query": query, "number_of_results": len(hits), "answers": [],
                    "results": [{"url": x.url, "title": x.title, "content": x.snippet,
                                 "engine": "fake", "score": 1.0} for x in hits]}  # fmt: skip
        if self.engine == "exa":
            results = [{"id": x.url, "url": x.url, "title": x.title,
                        "highlights": [x.snippet] if x.snippet else []} for x in hits]  # fmt: skip
            return {"requestId": "fake", "resolvedSearchType": "neural", "results": results}
        if self.engine == "youcom":
            return {"results": {"web": [{"url": x.url, "title": x.title, "description": x.snippet,
                                         "snippets": [x.snippet] if x.snippet else []}
                                        for x in hits], "news": []},
                    "metadata": {"query": query, "search_uuid": "fake"}}  # fmt: skip
        if self.engine == "tavily":
            return {"query": query, "answer": None, "response_time": 0.01,
                    "results": [{"url": x.url, "title": x.title, "content": x.snippet,
                                 "score": 0.9} for x in hits]}  # fmt: skip
        results = [{"url": x.url, "title": x.title, "description": x.snippet,
                    "type": "search_result"} for x in hits]  # fmt: skip
        return {"type": "search", "query": {"original": query},
                "web": {"type": "search", "results": results}}  # fmt: skip

    def _error(self, status: int, message: str) -> Any:
        if self.engine == "brave":
            code = {401: "SUBSCRIPTION_TOKEN_INVALID", 429: "RATE_LIMITED"}.get(status, "ERROR")
            return {"type": "ErrorResponse", "error": {"id": "fake", "status": status,
                    "code": code, "detail": message}}  # fmt: skip
        if self.engine == "tavily":
            return {"detail": {"error": message}}
        if self.engine == "exa":
            return {"requestId": "fake", "error": message}
        if self.engine == "youcom":
            return {"detail": message}
        return {"error": message}

    def _send(self, h: BaseHTTPRequestHandler, status: int, data: Any, text: str = "") -> None:
        body = (json.dumps(data) if data is not None else text).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json" if data is not None else "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)
