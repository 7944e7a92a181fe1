"""Fixtures: a web server on 127.0.0.1 with realistic and hostile pages, and helpers."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harmony_agent.browser import BrowserSession, BrowserTool, LocalIndex
from harmony_agent.testing.fake_web import Route, WebServer

PAGES = Path(__file__).resolve().parent.parent / "data" / "pages"
CASES = [json.loads(line) for line in (PAGES / "cases.jsonl").read_text().splitlines() if line]

ARTICLE = (
    b"""<!doctype html><html><head><title>Tide pools &amp; crabs</title></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a></nav>
<article><h1>Tide pools</h1>
<p>Tide pools hold sea stars, anemones and hermit crabs. Read the
<a href="/guide.html">field guide</a> or the <a href="https://ocean.example.org/crabs">crab
atlas</a> before you go. A literal dagger \xe2\x80\xa0 and brackets \xe3\x80\x90x\xe3\x80\x91
stay text.</p>
<p><img src="/crab.png" alt="A hermit crab in a shell"> Hermit crabs change shells as they grow.</p>
<table><tr><th>Animal</th><th>Zone</th></tr><tr><td>Sea star</td><td>Low</td></tr></table>
<ul><li>Go at low tide.</li><li>Step on bare rock.</li></ul>
"""
    + b"".join(
        b"<p>Paragraph %d about the intertidal zone, barnacles, mussels and limpets that cling to "
        b"rocks when the water leaves them exposed to sun and wind.</p>\n" % i
        for i in range(60)
    )
    + b"</article></body></html>"
)

GUIDE = b"""<html><head><title>Field guide</title></head><body><main>
<h1>Field guide</h1><p>Sea stars regrow lost arms. Anemones sting small fish. Hermit crabs
are not true crabs. Limpets return to the same spot on the rock after every tide.</p>
<p>Mussels filter water. Barnacles glue themselves head first to rocks.</p></main></body></html>"""


def routes() -> dict[str, Route]:
    table = {
        "/article.html": Route(ARTICLE),
        "/guide.html": Route(GUIDE),
        "/notes.txt": Route(b"plain line one\nplain line two\n", "text/plain; charset=utf-8"),
        "/many.txt": Route(
            "".join(f"line {n}: a Barnacle here\n" for n in range(420)).encode(), "text/plain"
        ),
        "/data.json": Route(b'{"name": "tide", "levels": [1, 2]}', "application/json"),
        "/latin1.html": Route(
            "<html><head><meta charset='iso-8859-1'><title>Caf\xe9</title></head>"
            "<body><p>Un caf\xe9 cr\xe8me, s'il vous pla\xeet.</p></body></html>".encode("latin-1"),
            "text/html",
        ),
    }
    for case in CASES:
        charset = case.get("charset")
        content_type = f"text/html; charset={charset}" if charset else "text/html"
        body = gzip.decompress((PAGES / f"{case['file']}.gz").read_bytes())
        table[f"/corpus/{case['file']}"] = Route(body, content_type)
    return table


@pytest.fixture(scope="module")
def web() -> Iterator[WebServer]:
    with WebServer(routes(), slow_seconds=20.0, huge_bytes=12_000_000) as server:
        yield server


@pytest.fixture
def tool() -> BrowserTool:
    return BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])


async def call(session: BrowserSession, function: str, **arguments: Any) -> str:
    """One call's answer text, as the model would see it."""
    return await session.run(function, arguments)


def answer(session: BrowserSession, function: str, raw: str) -> Any:
    """A call with raw argument text (what the model wrote), through the Tool interface."""
    from harmony_agent.tools import ToolCall

    return session.call(ToolCall(f"browser.{function}", raw))
