"""Fetched content to pages: HTML (main content by trafilatura), text, JSON, PDF, source.

HTML goes through trafilatura's main-content extraction with links, tables and images
kept, then through one tree walker that writes the display text: headings as ``#``,
list items as ``  * ``, table rows as ``| a | b |``, links as marks, images as
``[Image n: alt]``. When the extraction keeps too little (an index page, an app shell),
the same walker renders the whole document body instead.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

from harmony_agent.browser._html_text import _Writer
from harmony_agent.browser._page import Link, Page, escape

__all__ = [
    "MIN_MAIN_TEXT",
    "html_to_page",
    "json_to_page",
    "pdf_to_page",
    "source_page",
    "text_to_page",
]

#: Below this many characters of main text, the full text of the page is shown instead.
MIN_MAIN_TEXT = 200

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
_FAST = True  # no fallback extractors: 40% faster, equal results on our corpus


def _parse(html: str) -> lxml.html.HtmlElement | None:
    html = _XML_DECL.sub("", html, count=1)
    if not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def _title(tree: lxml.html.HtmlElement | None) -> str:
    if tree is None:
        return ""
    found = tree.find(".//title")
    return "" if found is None else " ".join("".join(found.itertext()).split())


def _base(tree: lxml.html.HtmlElement | None, url: str) -> str:
    if tree is not None:
        base = tree.find(".//base[@href]")
        if base is not None:
            return urljoin(url, str(base.get("href")))
    return url


def _main(tree: lxml.html.HtmlElement) -> list[etree._Element] | None:
    """trafilatura's main content: the body (and comments) elements. Changes ``tree``."""
    import trafilatura

    try:
        doc = trafilatura.bare_extraction(
            tree,  # no url=: trafilatura would resolve relative links against the site root
            include_links=True,
            include_tables=True,
            include_images=True,
            include_comments=True,
            deduplicate=False,
            fast=_FAST,
        )
    except Exception:  # trafilatura fails on some malformed documents: use the full text
        return None
    body = getattr(doc, "body", None)
    if body is None:
        return None
    bodies = [body]
    comments = getattr(doc, "commentsbody", None)
    if comments is not None and len(comments):
        bodies.append(comments)
    return bodies


def html_to_page(html: str, url: str, *, main_content: bool = True) -> Page:
    """A page from an HTML document: its main content, or its full text when that is thin."""
    tree = _parse(html)
    base = _base(tree, url)
    title = _title(tree)
    text = ""
    links: list[Link] = []
    if main_content and tree is not None:
        bodies = _main(tree)
        if bodies is not None:
            writer = _Writer(url, base, xml=True)
            for body in bodies:
                writer.walk(body)
                writer.flush()
            text, links = writer.text(), writer.links
        if len(text) < MIN_MAIN_TEXT:
            tree = _parse(html)  # trafilatura pruned the first tree
    if len(text) < MIN_MAIN_TEXT and tree is not None:
        body = tree.find("body")
        writer = _Writer(url, base, xml=False)
        writer.walk(tree if body is None else body)
        writer.flush()
        if len(writer.text()) > len(text):
            text, links = writer.text(), writer.links
    return Page.build(url, title, text, links=links, kind="html")


def text_to_page(text: str, url: str, *, title: str = "", kind: str = "text") -> Page:
    """A page from plain text (Markdown included), shown as it is."""
    clean = escape(text.replace("\r\n", "\n").replace("\r", "\n"))
    return Page.build(url, title or urlsplit(url).path.rpartition("/")[2], clean, kind=kind)


def json_to_page(text: str, url: str) -> Page:
    """A page from a JSON document, pretty-printed (as it is when it does not parse)."""
    with contextlib.suppress(ValueError):
        text = json.dumps(json.loads(text), indent=2, ensure_ascii=False)
    return text_to_page(text, url, kind="json")


def source_page(text: str, url: str, title: str = "") -> Page:
    """The source of a document, line by line, with no link marks (``view_source``)."""
    return text_to_page(text, f"view-source:{url}", title=title or url, kind="source")


def pdf_to_page(data: bytes, url: str, *, max_pages: int = 300) -> Page:
    """A page from a PDF's text layer (pypdf); a note says when pages were left out."""
    import pypdf

    reader = pypdf.PdfReader(io.BytesIO(data))
    texts: list[str] = []
    for number, pdf_page in enumerate(reader.pages):
        if number == max_pages:
            break
        texts.append((pdf_page.extract_text() or "").strip())
    title = ""
    if reader.metadata is not None and reader.metadata.title:
        title = str(reader.metadata.title)
    note = None
    if len(reader.pages) > max_pages:
        note = f"(showing the first {max_pages} of {len(reader.pages)} PDF pages)"
    page = text_to_page("\n\n".join(t for t in texts if t), url, title=title, kind="pdf")
    return (
        page if note is None else Page.build(page.url, page.title, page.text, kind="pdf", note=note)
    )
