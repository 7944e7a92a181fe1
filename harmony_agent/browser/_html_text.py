"""The tree walker that writes a page's display text: headings as ``#``, list items as
``  * ``, table rows as ``| a | b |``, links as marks, images as ``[Image n: alt]``.

It reads lxml trees of HTML and of trafilatura's XML (see :mod:`._convert`).
"""

from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from lxml import etree

from harmony_agent.browser._page import Link, escape

__all__: list[str] = []  # helpers of _convert, imported by name

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
