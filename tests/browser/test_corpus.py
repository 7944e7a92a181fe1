"""Real pages served from 127.0.0.1: the main text is there, the boilerplate is not."""

from __future__ import annotations

from typing import Any

import pytest

from harmony_agent.browser import BrowserTool, LocalIndex
from harmony_agent.browser._page import strip_links
from harmony_agent.testing.fake_web import WebServer
from tests.browser.conftest import CASES, call


def _flat(text: str) -> str:
    return " ".join(text.split())


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
async def test_page_shows_main_text_without_boilerplate(
    web: WebServer, case: dict[str, Any]
) -> None:
    tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])
    async with tool.session() as s:
        first = await call(s, "open", id=web.url(f"/corpus/{case['file']}"))
        page = s.views[-1].page
        # what the model can read by scrolling: every line, wrapped lines joined
        scrolled = [first]
        while s.views[-1].end < page.last_line:
            scrolled.append(await call(s, "open"))
    lines = [
        line.split(": ", 1)[1] if ": " in line else ""
        for shown in scrolled
        for line in shown.split("\n\n", 1)[1].split("\n")
    ]
    assert len(lines) == len(page.lines)
    shown = _flat(strip_links("".join(lines)))
    text = _flat(strip_links(page.text))
    for snippet in case["must_contain"]:
        assert _flat(snippet) in text, snippet
        assert _flat(snippet).replace(" ", "") in shown.replace(" ", ""), snippet
    for snippet in case["must_not_contain"]:
        assert _flat(snippet) not in text, snippet
    assert first.startswith("[0] ") and page.title
