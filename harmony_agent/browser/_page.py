"""The page model and the display gpt-oss was trained on.

A :class:`Page` is text with inline link marks ``【{id}†{text}】`` (``†{domain}`` added
for links to another site), wrapped into lines of at most 80 columns. A view of lines
``[a, b]`` renders as::

    [3] Example Domain (https://example.com/)
    **viewing lines [0 - 12] of 40**

    L0: # Example Domain
    L1: ...

Text taken from a page is escaped so it cannot forge marks: ``【】`` become ``〖〗`` and
``†`` becomes ``‡``. Wrapping never splits a link mark shorter than a line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = [
    "LINE_WIDTH",
    "Link",
    "Page",
    "domain_of",
    "escape",
    "link_mark",
    "render_view",
    "strip_links",
    "view_end",
    "wrap",
]

LINE_WIDTH = 80
_ESCAPES = str.maketrans(
    {"【": "〖", "】": "〗", "†": "‡", "\u200b": None, "\ufeff": None, "\u00ad": None}
)
#: A complete link mark; group 1 is the link's text.
LINK_RE = re.compile(r"【\d+†([^†】]*)(?:†[^†】]*)?】")
_CHUNK_RE = re.compile(r"【\d+†[^【】]*】|\s+|[^\s【]+|【")
_WORD_RE = re.compile(r"\s+|\S+")


def escape(text: str) -> str:
    """Page text made safe for the display: no characters that read as link marks."""
    return text.translate(_ESCAPES)


def strip_links(text: str) -> str:
    """``text`` with every link mark replaced by the link's text."""
    return LINK_RE.sub(r"\1", text)


def domain_of(url: str) -> str:
    """The ``host[:port]`` of ``url`` (empty for URLs without one)."""
    try:
        return urlsplit(url).netloc
    except ValueError:
        return ""


def link_mark(link_id: int, text: str, url: str, page_url: str) -> str:
    """The mark for a link: ``【id†text】``, or ``【id†text†domain】`` for another site."""
    domain = domain_of(url)
    if domain and domain != domain_of(page_url):
        return f"【{link_id}†{text}†{domain}】"
    return f"【{link_id}†{text}】"


def wrap(text: str, width: int = LINE_WIDTH) -> tuple[list[str], list[bool]]:
    """Wrap ``text`` into lines of at most ``width`` characters.

    Returns the lines and, for each, whether it starts a line of ``text`` (False for a
    continuation). Whitespace where a line is broken stays at the end of the earlier
    line, so joining a paragraph's lines with ``""`` gives it back unchanged.
    """
    lines: list[str] = []
    starts: list[bool] = []
    for source in text.split("\n"):
        if len(source) <= width:
            lines.append(source)
            starts.append(True)
            continue
        if "【" not in source and "\t" not in source:
            pieces = _wrap_plain(source, width)
            lines += pieces
            starts += [True] + [False] * (len(pieces) - 1)
            continue
        current = ""
        first = True
        chunks = _chunks(source, width)
        chunks.reverse()
        while chunks:
            chunk = chunks.pop()
            if chunk.isspace():
                current += chunk  # may overflow the width: trailing spaces are invisible
                continue
            fits = len(current) + len(chunk) <= width
            if not fits and chunk.startswith("【") and len(chunk) > width // 2:
                words = _WORD_RE.findall(chunk)
                if len(words) > 1:
                    chunks += reversed(words)  # a long mark wraps like words
                    continue
            while len(current) + len(chunk) > width:
                if current.strip() or len(current) >= width:
                    lines.append(current)
                    starts.append(first)
                    first, current = False, ""
                    continue
                room = width - len(current)
                lines.append(current + chunk[:room])  # a word longer than a line
                starts.append(first)
                first, current, chunk = False, "", chunk[room:]
            current += chunk
        if current or first:
            lines.append(current)
            starts.append(first)
    return lines, starts


def _wrap_plain(source: str, width: int) -> list[str]:
    """The fast path of :func:`wrap` for a line with no link marks: break at spaces."""
    out: list[str] = []
    pos, n = 0, len(source)
    while n - pos > width:
        end = pos + width
        cut = end if source[end] == " " else source.rfind(" ", pos, end)
        if cut <= pos:  # no space in reach: split the word
            out.append(source[pos:end])
            pos = end
            continue
        while cut < n and source[cut] == " ":
            cut += 1
        out.append(source[pos:cut])
        pos = cut
    if pos < n:
        out.append(source[pos:])
    return out


def _chunks(source: str, width: int) -> list[str]:
    """Words, runs of whitespace and whole link marks (split into words when too long)."""
    out: list[str] = []
    for chunk in _CHUNK_RE.findall(source):
        if len(chunk) > width and chunk.startswith("【"):
            out += _WORD_RE.findall(chunk)
        else:
            out.append(chunk)
    return out


@dataclass(frozen=True, slots=True)
class Link:
    """Where a link id leads: a URL, or a line of a page the browser already holds.

    Attributes:
        url: the target's absolute URL.
        title: the link's text (or a search result's title).
        page: the page to show instead of fetching ``url`` (find results, documents a
            search engine holds).
        line: the line to show first when the link is opened.
    """

    url: str
    title: str = ""
    page: Page | None = None
    line: int | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page as the model reads it.

    Build pages with :meth:`build`; ``lines`` are the wrapped lines the model sees and
    cites (``L0`` is ``lines[0]``).

    Attributes:
        url: the page's address (``view-source:``, ``search:`` and ``find:`` for the
            pages the browser makes itself).
        title: the title shown in the header.
        lines: the wrapped lines.
        starts: for each line, whether it starts a paragraph line (False: continuation).
        links: link ``i`` of the marks is ``links[i]``.
        kind: ``"html"``, ``"text"``, ``"json"``, ``"pdf"``, ``"source"``, ``"search"`` or
            ``"find"``.
        show_url: whether the header shows the URL (search pages do not).
        note: a remark shown under the header (e.g. that the page was truncated).
        display_url: the URL as the header shows it (unquoted, at most 1,024 characters).
        origin: for find results, the page searched; ``origin_lines[i]`` is the line of
            ``origin`` that line ``i`` shows (-1 for none).
    """

    url: str
    title: str
    lines: tuple[str, ...]
    starts: tuple[bool, ...]
    links: tuple[Link, ...] = ()
    kind: str = "html"
    show_url: bool = True
    note: str | None = None
    display_url: str = field(default="", compare=False)
    origin: Page | None = field(default=None, compare=False, repr=False)
    origin_lines: tuple[int, ...] = field(default=(), compare=False, repr=False)

    @classmethod
    def build(
        cls,
        url: str,
        title: str,
        text: str,
        *,
        links: Sequence[Link] = (),
        kind: str = "html",
        show_url: bool = True,
        note: str | None = None,
    ) -> Page:
        """A page from its text (link marks already in place); wraps the text."""
        text = unicodedata.normalize("NFC", text.strip("\n")) or "(this page has no text)"
        lines, starts = wrap(text)
        return cls(
            url=url,
            title=" ".join(title.split()) or domain_of(url) or url,
            lines=tuple(lines),
            starts=tuple(starts),
            links=tuple(links),
            kind=kind,
            show_url=show_url,
            note=note,
            display_url=unquote(url) if len(url) <= 1024 else unquote(url[:1021]) + "...",
        )

    @property
    def text(self) -> str:
        """The page's text, unwrapped, link marks included."""
        out: list[str] = []
        for line, start in zip(self.lines, self.starts, strict=True):
            if start and out:
                out.append("\n")
            out.append(line)
        return "".join(out)

    @property
    def last_line(self) -> int:
        """The number of the last line (what ``of N`` shows)."""
        return len(self.lines) - 1

    def quote(self, first: int, last: int) -> str:
        """Lines ``first`` to ``last`` (inclusive) unwrapped, links shown as their text."""
        first, last = max(first, 0), min(last, self.last_line)
        out: list[str] = []
        for n in range(first, last + 1):
            if self.starts[n] and out:
                out.append("\n")
            out.append(self.lines[n])
        return strip_links("".join(out)).strip()


def view_end(
    page: Page,
    start: int,
    num_lines: int,
    *,
    tokens: int,
    count: Callable[[str], int],
    max_lines: int,
) -> int:
    """The last line of a view beginning at ``start`` (inclusive).

    ``num_lines > 0`` asks for that many lines (at most ``max_lines``); otherwise the
    view holds as many lines as fit in ``tokens`` tokens, and at least one.
    """
    last = page.last_line
    if num_lines > 0:
        return min(start + min(num_lines, max_lines) - 1, last)
    used, end = 0, start
    for n in range(start, min(last, start + max_lines - 1) + 1):
        used += count(f"L{n}: {page.lines[n]}\n")
        if used > tokens and n > start:
            break
        end = n
    return end


def render_view(cursor: int, page: Page, start: int, end: int) -> str:
    """The tool message showing lines ``start`` to ``end`` of ``page`` under ``cursor``."""
    header = f"[{cursor}] {escape(page.title)}"
    if page.show_url and page.display_url:
        header += f" ({page.display_url})"
    parts = [header, f"**viewing lines [{start} - {end}] of {page.last_line}**"]
    if page.note:
        parts.append(page.note)
    body = "\n".join(f"L{n}: {page.lines[n]}" for n in range(start, end + 1))
    return "\n".join(parts) + "\n\n" + body
