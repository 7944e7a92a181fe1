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

_FAST = True  # no fallback extractors: 40% faster, equal results on our corpus
_SKIP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "iframe", "object", "select",
     "button", "canvas", "video", "audio", "head", "title", "meta", "link"}
)  # fmt: skip
_BLOCK = frozenset(
    {"p", "div", "section", "article", "main", "header", "footer", "aside", "nav", "form",
     "figure", "figcaption", "dd", "dt", "address", "details", "summary", "center", "body",
     "html", "doc", "fieldset", "caption", "hr", "note", "fw", "dl"}
)  # fmt: skip
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_LISTS = frozenset({"ul", "ol", "list", "menu"})
_ITEMS = frozenset({"li", "item"})
_ROWS = frozenset({"tr", "row"})
_CELLS = frozenset({"td", "th", "cell"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2000-\u200a\u3000]+")
_IMAGES = re.compile(r"\[Image \d+(?:: [^\]]*)?\]")
_NETLOC = re.compile(r"^[a-z][a-z0-9+.-]*://([^/?#]*)", re.I)
_ANCHORS = re.compile(r"\x00[^\x00\x01]*\x01")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)


class _Writer:
    """Walks an element tree and writes display text with link marks."""

    def __init__(self, page_url: str, base_url: str, *, xml: bool) -> None:
        self.page_url = page_url
        self.base_url = base_url
        self.xml = xml  # trafilatura's vocabulary: <head> is a heading, <ref>, <graphic>
        self.blocks: list[tuple[str, str]] = []  # (kind, text)
        self.buf: list[str] = []
        self.kind = "p"
        self.prefix = ""
        self.links: list[Link] = []
        self._ids: dict[str, int] = {}
        self._domain = urlsplit(page_url).netloc if page_url else ""
        root = urljoin(page_url or base_url, "/")
        self._here = {page_url, base_url, root, root.rstrip("/")}
        self._origin = root.rstrip("/") if root.startswith(("http://", "https://")) else ""
        self.images = 0

    # -- output ----------------------------------------------------------------------
    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        if "\x00" in text:
            if not _ANCHORS.sub("", text).strip():
                text = ""
            text = text.replace("\x00", "").replace("\x01", "")
        if self.kind == "pre":
            lines = [line.rstrip() for line in text.strip("\n").split("\n")]
        else:
            lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
            lines = [line for line in lines if line]
        if lines and any(lines):
            self.blocks.append((self.kind, "\n".join(self.prefix + line for line in lines)))
        self.kind = "p"

    def _in_page(self, url: str) -> bool:
        """A link to an anchor of this page or of the site's root ("Jump to navigation")."""
        target, _, fragment = url.partition("#")
        if not fragment:
            return False
        return target in self._here

    def text(self) -> str:
        out: list[str] = []
        previous = ""
        for kind, text in self.blocks:
            if out:
                tight = kind == previous and kind in ("item", "row")
                out.append("\n" if tight else "\n\n")
            out.append(text)
            previous = kind
        return "".join(out)

    # -- walking ---------------------------------------------------------------------
    def walk(self, el: etree._Element, inline: bool = False) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.rpartition("}")[2].lower()
        if not tag or (tag in _SKIP and not (self.xml and tag == "head")):
            return
        if tag in ("br", "lb"):
            self.buf.append(" " if inline else "\n")
            return
        if tag in ("img", "graphic"):
            self.image(el)
            return
        if tag in ("a", "ref"):
            self.link(el)
            return
        if inline:
            self.children(el, inline=True, space=tag in _BLOCK or tag in _CELLS)
            return
        level = _HEADINGS.get(tag)
        if self.xml and tag == "head":
            level = _HEADINGS.get(str(el.get("rend", "h2")).lower(), 2)
        if level:
            self.block(el, "h", "#" * level + " ")
        elif tag in _ROWS:
            self.row(el)
        elif tag in _LISTS:
            self.flush()
            old, ordered = self.prefix, tag == "ol" or el.get("rend") == "ol"
            number = 0
            if el.text and el.text.strip():
                self.buf.append(_flat(el.text))
                self.flush()
            for child in el:
                if _local(child) in _ITEMS:
                    number += 1
                    bullet = f"{number}. " if ordered else "* "
                    self.prefix = old + "  "
                    self.item(child, bullet)
                    self.prefix = old
                else:
                    self.walk(child)
                self.tail(child)
            self.flush()
        elif tag in _ITEMS:
            self.item(el, "* ")
        elif tag in ("blockquote", "quote") and not inline:
            self.flush()
            old = self.prefix
            self.prefix = old + "> "
            self.children(el)
            self.flush()
            self.prefix = old
        elif tag == "pre" or (tag == "code" and "\n" in "".join(el.itertext()).strip()):
            self.flush()
            self.kind = "pre"
            self.buf.append(escape("".join(el.itertext())))
            self.flush()
        elif tag == "table" or tag in _BLOCK or tag in _CELLS:
            self.flush()
            self.children(el)
            self.flush()
        elif tag in ("sup", "sub") and not self.xml:
            inner = _SPACES.sub(" ", "".join(el.itertext())).strip()
            if inner:
                self.buf.append(("^{" if tag == "sup" else "_{") + escape(inner) + "}")
        else:
            self.children(el)

    def children(self, el: etree._Element, *, inline: bool = False, space: bool = False) -> None:
        if space:
            self.buf.append(" ")
        if el.text:
            self.buf.append(_flat(el.text))
        for child in el:
            self.walk(child, inline)
            self.tail(child)
        if space:
            self.buf.append(" ")

    def tail(self, el: etree._Element) -> None:
        if el.tail:
            self.buf.append(_flat(el.tail))

    def block(self, el: etree._Element, kind: str, prefix: str) -> None:
        self.flush()
        self.children(el, inline=True)
        if self.buf:
            self.buf.insert(0, prefix)
        self.kind = kind
        self.flush()

    def item(self, el: etree._Element, bullet: str) -> None:
        self.flush()
        self.buf.append(bullet)
        self.kind = "item"
        if el.text:
            self.buf.append(_flat(el.text))
        for child in el:
            if _local(child) in _LISTS:
                self.kind = "item"
                self.flush()
            self.walk(child, inline=_local(child) not in _LISTS)
            self.tail(child)
        self.kind = "item"
        self.flush()

    def row(self, el: etree._Element) -> None:
        self.flush()
        cells: list[str] = []
        for cell in el:
            if _local(cell) not in _CELLS:
                continue
            saved, self.buf = self.buf, []
            self.children(cell, inline=True)
            cells.append(" ".join("".join(self.buf).split()))
            self.buf = saved
        if any(cells):
            self.buf.append("| " + " | ".join(cells) + " |")
            self.kind = "row"
            self.flush()

    def image(self, el: etree._Element) -> None:
        alt = _SPACES.sub(" ", str(el.get("alt") or el.get("title") or "")).strip()
        n = self.images
        self.images += 1
        self.buf.append(f"[Image {n}: {escape(alt)}]" if alt else f"[Image {n}]")

    def link(self, el: etree._Element) -> None:
        href = str(el.get("href") or el.get("target") or "").strip()
        saved, self.buf = self.buf, []
        self.children(el, inline=True)
        inner = " ".join("".join(self.buf).split())
        self.buf = saved
        if not inner:
            return
        url = _absolute(self.base_url, href, self._origin)
        if href.startswith("#") or (url is not None and self._in_page(url)):
            self.buf.append(f"\x00{inner}\x01")  # a skip link: dropped when alone in a block
            return
        if url is None or (inner.startswith("[Image ") and not _IMAGES.sub("", inner).strip()):
            self.buf.append(inner)
            return
        link_id = self._ids.get(url)
        if link_id is None:
            link_id = self._ids[url] = len(self.links)
            self.links.append(Link(url=url, title=inner))
        domain = _netloc(url)
        if domain and domain != self._domain:
            self.buf.append(f"【{link_id}†{inner}†{domain}】")
        else:
            self.buf.append(f"【{link_id}†{inner}】")


def _netloc(url: str) -> str:
    match = _NETLOC.match(url)
    return match.group(1) if match else ""


def _flat(text: str) -> str:
    """A text node as display text: escaped, its source line breaks made spaces."""
    return escape(text.replace("\r", " ").replace("\n", " "))


def _local(el: etree._Element) -> str:
    return el.tag.rpartition("}")[2].lower() if isinstance(el.tag, str) else ""


def _absolute(base: str, href: str, origin: str = "") -> str | None:
    """``href`` made absolute against ``base``; None for links that lead nowhere useful."""
    if not href or href.startswith("#"):
        return None
    if href.startswith(("http://", "https://")):
        return href if _netloc(href) else None
    if origin and href.startswith("/") and not href.startswith("//"):
        return origin + href  # the common case, without urljoin's cost
    try:
        url = urljoin(base, href)
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "file") or (
        parts.scheme != "file" and not parts.netloc
    ):
        return None
    return url


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
