"""Each web engine against a local server speaking its JSON API, errors included."""

from __future__ import annotations

import httpx
import pytest

from harmony_agent.browser import Brave, BrowserTool, Exa, SearchError, SearXNG, Tavily, YouCom
from harmony_agent.browser._engines import WebEngine
from harmony_agent.testing.fake_search import ENGINES, FakeSearchServer, Hit
from tests.browser.conftest import answer, call

HITS = [
    Hit(f"https://site{n}.example/page", f"Result <b>{n}</b>", f"about &amp; {n}")
    for n in range(12)
]


def engine_for(name: str, server: FakeSearchServer, key: str | None = None) -> WebEngine:
    key = server.api_key if key is None else key
    if name == "searxng":
        return SearXNG(server.base_url)
    cls = {"exa": Exa, "youcom": YouCom, "tavily": Tavily, "brave": Brave}[name]
    return cls(api_key=key, base_url=server.base_url)


@pytest.mark.parametrize("name", ENGINES)
async def test_results_and_count(name: str) -> None:
    with FakeSearchServer(name, HITS) as server:
        engine = engine_for(name, server)
        async with httpx.AsyncClient() as client:
            results = await engine.search("tide pools", 4, client=client)
    assert [r.url for r in results] == [h.url for h in HITS[:4]]
    assert results[0].title == "Result <b>0</b>" and "0" in results[0].snippet
    request = server.requests[-1]
    assert request.params.get("q", request.params.get("query")) or request.body["query"]


@pytest.mark.parametrize("name", ENGINES)
async def test_results_page_through_the_tool(name: str) -> None:
    with FakeSearchServer(name, HITS) as server:
        tool = BrowserTool(engine_for(name, server))
        async with tool.session() as s:
            text = await call(s, "search", query="tide pools", topn=3)
    assert text.startswith("[0] tide pools\n**viewing lines [0 - ")
    assert "  * 【0†Result 0†site0.example】 about & 0" in text
    assert text.count("  * 【") == 3


@pytest.mark.parametrize("name", [n for n in ENGINES if n != "searxng"])
@pytest.mark.parametrize("status", [401, 429, 500])
async def test_error_answers(name: str, status: int) -> None:
    with FakeSearchServer(name, HITS, fail=status) as server:
        engine = engine_for(name, server)
        async with httpx.AsyncClient() as client:
            with pytest.raises(SearchError, match=f"HTTP {status}: simulated failure"):
                await engine.search("q", 3, client=client)


@pytest.mark.parametrize("name", [n for n in ENGINES if n != "searxng"])
async def test_wrong_key_and_missing_key(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeSearchServer(name, HITS) as server:
        async with httpx.AsyncClient() as client:
            with pytest.raises(SearchError, match="HTTP 401: invalid API key"):
                await engine_for(name, server, key="wrong").search("q", 3, client=client)
            engine = engine_for(name, server, key="")
            monkeypatch.delenv(engine.env_var, raising=False)
            with pytest.raises(SearchError, match=f"set {engine.env_var}"):
                await engine.search("q", 3, client=client)
            monkeypatch.setenv(engine.env_var, server.api_key)
            assert len(await engine.search("q", 2, client=client)) == 2


async def test_searxng_errors_and_garbage() -> None:
    with FakeSearchServer("searxng", HITS, fail=429) as server:
        async with httpx.AsyncClient() as client:
            with pytest.raises(SearchError, match="SearXNG answered HTTP 429"):
                await SearXNG(server.base_url).search("q", 3, client=client)
    with FakeSearchServer("brave", HITS, fail="garbage") as server:
        async with httpx.AsyncClient() as client:
            with pytest.raises(SearchError, match="not JSON"):
                await engine_for("brave", server).search("q", 3, client=client)


async def test_unreachable_engine_is_an_answer_to_the_model() -> None:
    tool = BrowserTool(Tavily(api_key="k", base_url="http://127.0.0.1:1"))
    async with tool.session() as s:
        out = await answer(s, "search", '{"query": "tides"}')
    assert out[0].text.startswith("Error: Error during search for `tides`: Tavily could not")


def test_searxng_needs_a_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SEARXNG_URL", raising=False)
    with pytest.raises(SearchError, match="SEARXNG_URL"):
        SearXNG()


async def test_source_picks_an_engine() -> None:
    with FakeSearchServer("brave", HITS) as brave, FakeSearchServer("exa", HITS[5:]) as exa:
        tool = BrowserTool([engine_for("brave", brave), engine_for("exa", exa)])
        async with tool.session() as s:
            default = await call(s, "search", query="q", topn=1, source="web")
            picked = await call(s, "search", query="q", topn=1, source="exa")
            bad = await answer(s, "search", '{"query": "q", "source": "news"}')
    assert "site0.example" in default and "site5.example" in picked
    assert "unknown source 'news'" in bad[0].text
