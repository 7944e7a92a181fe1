"""browser.search / open / find against a real server on 127.0.0.1 and a real SQLite index."""

from __future__ import annotations

import asyncio
import re

import harmony_agent as ha
from harmony_agent.browser import BrowserTool, LocalIndex
from harmony_agent.testing.fake_web import WebServer
from tests.browser.conftest import answer, call

HEADER = re.compile(r"^\[(\d+)\] .*\n\*\*viewing lines \[(\d+) - (\d+)\] of (\d+)\*\*\n\n", re.M)


def test_namespace_is_the_reference_declaration() -> None:
    tool = BrowserTool(LocalIndex())
    assert tool.namespace == ha.ToolNamespace.browser()
    assert tool.placement == "system"
    assert tool.names == ("browser.search", "browser.open", "browser.find")


async def test_open_shows_the_page_format(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        text = await call(s, "open", id=web.url("/article.html"))
        page_text = s.views[0].page.text
    head = HEADER.match(text)
    assert head is not None
    assert text.startswith(f"[0] Tide pools & crabs ({web.url('/article.html')})\n")
    assert head.group(2) == "0"
    body = text[head.end() :].split("\n")
    assert body[0].startswith("L0: ")
    assert all(len(line.split(": ", 1)[1].rstrip()) <= 80 for line in body)
    assert "【0†field guide】" in text  # same site: no domain
    assert "【1†crab atlas†ocean.example.org】" in text  # another site: its domain
    assert "dagger ‡ and brackets 〖x〗" in page_text  # page text cannot forge marks
    assert "‡" in text and "〖x〗" in text
    assert "[Image 0: A hermit crab in a shell]" in text
    assert "| Animal | Zone |" in text and "  * Go at low tide." in text
    assert "Home" not in text  # the navigation is boilerplate


async def test_default_window_is_about_1024_tokens(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        text = await call(s, "open", id=web.url("/article.html"))
    tokens = len(ha.load_encoding().encode_ordinary(text))
    assert 900 < tokens < 1200
    head = HEADER.match(text)
    assert head is not None and int(head.group(3)) < int(head.group(4))


async def test_scroll_with_loc_num_lines_and_by_default(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        first = await call(s, "open", id=web.url("/article.html"))
        end = int(HEADER.match(first).group(3))  # type: ignore[union-attr]
        nxt = await call(s, "open")
        assert nxt.startswith("[1] ") and f"**viewing lines [{end + 1} - " in nxt
        exact = await call(s, "open", cursor=0, loc=10, num_lines=3)
        assert "**viewing lines [10 - 12] of" in exact
        assert exact.count("\nL") == 3
        errors = await answer(s, "open", '{"loc": 100000}')
        many = await call(s, "open", id=web.url("/many.txt"), num_lines=100000)
    assert "Invalid location parameter: `100000`" in errors[0].text
    assert "**viewing lines [0 - 399] of 419**" in many  # one view shows at most 400 lines


async def test_open_link_by_id_from_an_earlier_cursor(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        await call(s, "open", id=web.url("/article.html"))
        await call(s, "open", id=web.url("/notes.txt"))
        guide = await call(s, "open", cursor=0, id=0)
        assert guide.startswith(f"[2] Field guide ({web.url('/guide.html')})")
        bad = await answer(s, "open", '{"cursor": 0, "id": 99}')
        assert "Invalid link id `99`" in bad[0].text
        out = await answer(s, "open", '{"cursor": 7, "id": 0}')
        assert "Cursor `7` is out of range" in out[0].text


async def test_search_pages_keep_their_own_cursor(web: WebServer) -> None:
    """Reference bug: every search page had the URL "", so cursor 0 showed the latest."""
    index = LocalIndex()
    tool = BrowserTool(index, allowed_hosts=["127.0.0.1"])
    async with tool.session() as s:
        await call(s, "open", id=web.url("/article.html"))
        await call(s, "open", id=web.url("/guide.html"))  # both now in the index
        first = await call(s, "search", query="hermit crabs tide pools")
        second = await call(s, "search", query="barnacles glue")
        assert first.startswith("[2] hermit crabs tide pools\n")
        assert second.startswith("[3] barnacles glue\n")
        again = await call(s, "open", cursor=2, loc=0)
        assert "【0†Tide pools & crabs" in again  # the first search's results, not the second's
        assert await call(s, "find", pattern="glue", cursor=3)


async def test_search_honours_topn(web: WebServer) -> None:
    """Reference bug: topn was ignored (always 20)."""
    index = LocalIndex()
    for n in range(30):
        index.add_page(ha.browser.Page.build(f"https://x.example/{n}", f"Doc {n}", "kelp forest"))
    tool = BrowserTool(index)
    async with tool.session() as s:
        three = await call(s, "search", query="kelp", topn=3)
        default = await call(s, "search", query="kelp")
    assert three.count("  * 【") == 3
    assert default.count("  * 【") == 10


async def test_view_source_shows_the_real_source(web: WebServer, tool: BrowserTool) -> None:
    """Reference bug: view_source rendered the page as usual."""
    async with tool.session() as s:
        await call(s, "open", id=web.url("/guide.html"))
        source = await call(s, "open", view_source=True)
        shown = await call(s, "open", id=web.url("/guide.html"), view_source=True)
    assert f"(view-source:{web.url('/guide.html')})" in source
    assert "L0: <html><head><title>Field guide</title></head><body><main>" in source
    assert shown.split("\n", 1)[1] == source.split("\n", 1)[1]


async def test_find_is_case_insensitive_and_links_back(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        await call(s, "open", id=web.url("/many.txt"))
        capped = await call(s, "find", pattern="barnacle")
        assert capped.startswith("[1] Find results for text: `barnacle` in `many.txt`")
        assert len(s.views[-1].page.links) == 50  # capped at 50 matches
        await call(s, "open", id=web.url("/article.html"))
        found = await call(s, "find", pattern="BARNACLES")
        assert found.startswith("[3] Find results for text: `BARNACLES` in `Tide pools & crabs`")
        assert "# 【0†match at L" in found and "barnacles, mussels" in found
        line = int(re.search(r"# 【3†match at L(\d+)】", found).group(1))  # type: ignore[union-attr]
        opened = await call(s, "open", id=3)
        assert f"**viewing lines [{line - 4} - " in opened
        none = await call(s, "find", pattern="walrus", cursor=2)
        assert "No `find` results for pattern: `walrus`" in none
        refused = await answer(s, "find", '{"pattern": "x", "cursor": 1}')
    assert "find results page" in refused[0].text


async def test_every_failure_is_an_answer(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        cases = {
            "not json": ("open", "{id: 3"),
            "wrong type": ("search", '{"query": ["a"]}'),
            "missing query": ("search", "{}"),
            "bool id": ("open", '{"view_source": "yes"}'),
            "unknown function": ("scroll", "{}"),
            "no pages yet": ("find", '{"pattern": "x"}'),
            "ftp": ("open", '{"id": "ftp://example.org/file"}'),
            "binary": ("open", f'{{"id": "{web.url("/binary")}"}}'),
            "404": ("open", f'{{"id": "{web.url("/status/404")}"}}'),
            "unreachable": ("open", '{"id": "http://127.0.0.1:1/"}'),
        }
        for label, (function, raw) in cases.items():
            replies = await answer(s, function, raw)
            assert len(replies) == 1 and replies[0].text.startswith("Error: "), label
    texts = {}
    async with tool.session() as s:
        for label in ("binary", "404"):
            function, raw = cases[label]
            texts[label] = (await answer(s, function, raw))[0].text
    assert "binary (image/png" in texts["binary"]
    assert "HTTP 404" in texts["404"]


async def test_text_json_and_charsets(web: WebServer, tool: BrowserTool) -> None:
    async with tool.session() as s:
        text = await call(s, "open", id=web.url("/notes.txt"))
        data = await call(s, "open", id=web.url("/data.json"))
        latin = await call(s, "open", id=web.url("/latin1.html"))
    assert "L0: plain line one\nL1: plain line two" in text
    assert '"levels": [' in data and 'L1:   "name": "tide",' in data
    assert latin.startswith("[2] Café (") and "Un café crème, s'il vous plaît." in latin


async def test_sessions_are_isolated_and_share_the_cache(web: WebServer) -> None:
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])
    before = len(web.requests)

    async def one(path: str) -> str:
        async with tool.session() as s:
            await call(s, "open", id=web.url(path))
            await call(s, "open", id=web.url("/guide.html"))
            return await call(s, "open", cursor=0, loc=0)

    a, b = await asyncio.gather(one("/article.html"), one("/notes.txt"))
    assert a.startswith("[2] Tide pools") and b.startswith("[2] notes.txt")
    async with tool.session() as s:
        await call(s, "open", id=web.url("/article.html"))
        await call(s, "open", id=0)  # the guide, through a link: from the shared cache
    assert web.requests[before:].count("/guide.html") == 2


async def test_call_without_a_session_keeps_one_stack(web: WebServer, tool: BrowserTool) -> None:
    from harmony_agent.tools import ToolCall

    first = await tool.call(ToolCall("browser.open", f'{{"id": "{web.url("/guide.html")}"}}'))
    second = await tool.call(ToolCall("browser.find", '{"pattern": "limpets"}'))
    assert first[0].text.startswith("[0] ") and second[0].text.startswith("[1] ")
    assert second[0].name == "browser.find"


def test_browser_module_exports() -> None:
    assert ha.browser.__all__ == sorted(ha.browser.__all__)
    promised = {"LocalIndex", "SearXNG", "Exa", "YouCom", "Tavily", "Brave", "citations"}
    assert promised <= set(ha.browser.__all__)
    assert all(getattr(ha.browser, name) is not None for name in ha.browser.__all__)
    assert ha.BrowserTool is ha.browser.BrowserTool


async def test_bare_text_arguments(web: WebServer, tool: BrowserTool) -> None:
    """The model sometimes writes the query (or URL, or pattern) without JSON around it."""
    async with tool.session() as s:
        opened = await answer(s, "open", web.url("/guide.html"))
        found = await answer(s, "find", "regrow")
        searched = await answer(s, "search", "sea stars")
    assert opened[0].text.startswith("[0] Field guide")
    assert "# 【0†match at L" in found[0].text
    assert searched[0].text.startswith("[2] sea stars")
