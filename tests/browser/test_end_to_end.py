"""search → open by id → scroll → find → cite, through ha.Agent with a scripted model."""

from __future__ import annotations

import json
import re

import harmony_agent as ha
from harmony_agent.browser import BrowserTool, LocalIndex, citations
from harmony_agent.browser._convert import html_to_page
from harmony_agent.testing.fake_web import WebServer
from tests.browser.conftest import ARTICLE, GUIDE


def call(function: str, **arguments: object) -> str:
    return (
        f"<|channel|>analysis to=browser.{function} <|constrain|>json"
        f"<|message|>{json.dumps(arguments)}<|call|>"
    )


def line_of(prompt: str, cursor: int, needle: str) -> int:
    """The line number a display at ``cursor`` showed ``needle`` on (as the model reads it)."""
    display = prompt.split(f"<|message|>[{cursor}] ", 1)[1].split("<|end|>", 1)[0]
    match = re.search(rf"^L(\d+): .*{re.escape(needle)}", display, re.M)
    assert match is not None, needle
    return int(match.group(1))


def test_search_open_scroll_find_and_cite(web: WebServer) -> None:
    index = LocalIndex()
    index.add_page(html_to_page(ARTICLE.decode(), web.url("/article.html")))
    index.add_page(html_to_page(GUIDE.decode(), web.url("/guide.html")))
    tool = BrowserTool(search=index, allowed_hosts=["127.0.0.1"])
    encoding = ha.load_encoding()
    steps = [
        call("search", query="hermit crabs shells"),
        call("open", id=0),
        call("open", loc=20, num_lines=5),
        call("find", pattern="Sea Star"),
    ]

    def model(prompt_tokens: list[int]) -> str:
        if steps:
            return steps.pop(0)
        prompt = encoding.decode(prompt_tokens)
        shells = line_of(prompt, 1, "Hermit crabs change shells")
        star = line_of(prompt, 3, "| Sea star")
        result = line_of(prompt, 0, "Tide pools & crabs")
        return (
            "<|channel|>final<|message|>Hermit crabs swap shells as they grow "
            f"【1†L{shells}-L{shells + 1}】; sea stars live low on the shore 【3†L{star}】 "
            f"(see the article 【0†L{result}】, and 【9†L1】).<|return|>"
        )

    agent = ha.Agent(ha.backends.Scripted(model, encoding=encoding), tools=[tool])
    system = agent.system_message.text
    assert "namespace browser {" in system and "type find = (_: {" in system
    result = agent.run("How do hermit crabs grow?")

    assert result.stop_reason == "final"
    answers = [m for m in result.messages if m.role == "tool"]
    assert [m.name for m in answers] == ["browser.search", "browser.open", "browser.open",
                                         "browser.find"]  # fmt: skip
    assert [m.text[:4] for m in answers] == ["[0] ", "[1] ", "[2] ", "[3] "]
    assert "**viewing lines [20 - 24] of" in answers[2].text
    assert "# 【0†match at L" in answers[3].text

    cited = citations(result, browser=tool)
    shells, star, article, unknown = cited.items
    assert shells.url == web.url("/article.html") and shells.title == "Tide pools & crabs"
    assert "Hermit crabs change shells as they grow." in shells.quote
    assert shells.lines == f"L{shells.first_line}-L{shells.first_line + 1}"
    # a find result is cited as the line of the page it was found on
    assert star.url == web.url("/article.html") and star.quote == "| Sea star | Low |"
    # a search result line is cited as the result it lists
    assert article.url == web.url("/article.html")
    assert not unknown.resolved and unknown.url is None
    # end users get links that keep the line range (the reference dropped it)
    rendered = cited.markdown()
    assert f"grow ([127.0.0.1:{web.base_url.rsplit(':', 1)[1]}, {shells.lines}]" in rendered
    assert f"]({web.url('/article.html')}))" in rendered and "【9†L1】" in rendered
    assert f"({web.url('/article.html')}, L{star.first_line})" in cited.plain()

    # from the messages alone (a saved run), pages and find results still resolve
    offline = citations(result.final_text, result.messages)
    assert [c.url for c in offline][:2] == [web.url("/article.html")] * 2
    assert offline.items[0].quote == shells.quote
    assert offline.items[1].first_line == star.first_line
    assert offline.items[2].url is None  # a search page's URLs are not in its text


async def test_citations_from_a_session(web: WebServer) -> None:
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])
    async with tool.session() as s:
        await s.run("open", {"id": web.url("/guide.html")})
        cited = citations("Sea stars regrow arms 【0†L2】.", s)
    (only,) = cited
    assert only.url == web.url("/guide.html") and "Sea stars regrow lost arms" in only.quote
    assert len(cited) == 1 and cited.items[0].mark == "【0†L2】"
