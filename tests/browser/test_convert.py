"""HTML, text and PDF to pages; wrapping and the display."""

from __future__ import annotations

import pytest

from harmony_agent.browser import Page
from harmony_agent.browser._convert import html_to_page, json_to_page, pdf_to_page
from harmony_agent.browser._page import render_view, strip_links, wrap
from harmony_agent.testing.fake_web import Route, WebServer
from tests.browser.conftest import call


def tiny_pdf(text: str) -> bytes:
    """A one-page PDF with ``text`` in Helvetica (offsets computed, so it is valid)."""
    stream = f"BT /F1 18 Tf 40 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def test_wrap_keeps_link_marks_whole_and_round_trips() -> None:
    text = "word " * 14 + "【3†a short link】 and more words after it to wrap again and again."
    lines, starts = wrap(text)
    assert all(len(line.rstrip()) <= 80 for line in lines)
    assert any("【3†a short link】" in line for line in lines)
    assert "".join(lines) == text and starts == [True] + [False] * (len(lines) - 1)
    long_word, _ = wrap("x" * 200)
    assert [len(x) for x in long_word] == [80, 80, 40]


def test_page_text_and_quote() -> None:
    page = Page.build("https://a.example/", "A", "first paragraph " * 8 + "\n\nsecond 【0†link】.")
    assert page.text.endswith("second 【0†link】.")
    assert page.quote(0, page.last_line).endswith("second link.")
    shown = render_view(4, page, 0, 1)
    assert shown.startswith("[4] A (https://a.example/)\n**viewing lines [0 - 1] of 3**\n\nL0: ")


def test_html_main_content_links_images_and_skip_links() -> None:
    html = (
        """<html><head><title>T</title><base href="https://docs.example/guide/"></head><body>
    <p><a href="#content">Skip to content</a></p>
    <main><h2>Setup</h2><p>Install the <a href="pkg.html">package</a>, then read
    <a href="mailto:x@y.z">mail</a> and <a href="javascript:void(0)">js</a>.</p>
    <ol><li>one</li><li>two <ul><li>nested</li></ul></li></ol>
    <pre>code  block
      indented</pre><p>x<sup>2</sup> and H<sub>2</sub>O.</p>
    <p>"""
        + "Filler sentence for the main text. " * 10
        + "</p></main></body></html>"
    )
    page = html_to_page(html, "https://docs.example/guide/index.html")
    text = page.text
    assert page.title == "T"
    assert "【0†package】" in text and page.links[0].url == "https://docs.example/guide/pkg.html"
    assert "mail" in text and "【1†" not in text  # mailto and javascript links are text
    assert "## Setup" in text and "Skip to content" not in text


def test_full_text_fallback_when_extraction_is_thin() -> None:
    html = "<html><body><div><a href='/a'>Alpha</a> <a href='/b'>Beta</a></div></body></html>"
    page = html_to_page(html, "https://x.example/")
    assert "【0†Alpha】" in page.text and "【1†Beta】" in page.text


def test_json_and_pdf_pages() -> None:
    assert json_to_page('{"a":1}', "https://x.example/a.json").text == '{\n  "a": 1\n}'
    assert json_to_page("{broken", "https://x.example/a.json").text == "{broken"
    page = pdf_to_page(tiny_pdf("Hello from a PDF"), "https://x.example/a.pdf")
    assert "Hello from a PDF" in page.text and page.kind == "pdf"


@pytest.mark.parametrize("content_type", ["application/pdf", "application/octet-stream"])
async def test_pdf_over_http(content_type: str) -> None:
    from harmony_agent.browser import BrowserTool, LocalIndex

    routes = {"/doc.pdf": Route(tiny_pdf("Quarterly tide report"), content_type),
              "/broken.pdf": Route(b"%PDF-1.4 garbage", "application/pdf")}  # fmt: skip
    with WebServer(routes) as web:
        tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])
        async with tool.session() as s:
            text = await call(s, "open", id=web.url("/doc.pdf"))
            broken = await s.call(__import__("harmony_agent").ToolCall(
                "browser.open", f'{{"id": "{web.url("/broken.pdf")}"}}'))  # fmt: skip
    assert "L0: Quarterly tide report" in text
    assert broken[0].text.startswith("Error: ") and "PDF" in broken[0].text


def test_strip_links() -> None:
    assert strip_links("a 【1†b†c.example】 d 【2†e】") == "a b d e"
