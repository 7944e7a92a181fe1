"""Citations: the model's ``【{cursor}†L{a}-L{b}】`` marks resolved to sources.

:func:`citations` finds each mark in an answer and says which URL, which lines and which
text it points at, using the browser's tool messages of the run (and the browser itself,
when given, for what the messages cannot tell: the URLs behind search results). Unlike
the reference, the line range survives into what end users see::

    cited = ha.browser.citations(result, browser=tool)
    cited.markdown()   # "... ([example.com, L4-L7](https://example.com/page)) ..."
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harmony_agent.browser._page import LINK_RE, Page, domain_of, strip_links

if TYPE_CHECKING:
    from harmony_agent.browser._session import View
    from harmony_agent.browser._tool import BrowserTool
    from harmony_agent.format._messages import Message

__all__ = ["Citation", "Citations", "citations"]

#: ``【3†L9】``, ``【3†L9-L11】``, ``【3†L9-11】`` (spaces tolerated).
MARK_RE = re.compile(r"【\s*(\d+)\s*†\s*L(\d+)(?:\s*[-–]\s*L?(\d+))?\s*】")
_HEADER_RE = re.compile(r"^\[(\d+)\] (.*)$")
_LINE_RE = re.compile(r"^L(\d+): (.*)$")
_URL_RE = re.compile(r"^(.*?) \(((?:https?|file|view-source):.*)\)$")
_FIND_RE = re.compile(r"^# 【\d+†match at L(\d+)】$")


@dataclass(frozen=True, slots=True)
class Citation:
    """One resolved mark.

    Attributes:
        mark: the mark as written, e.g. ``"【6†L9-L11】"``.
        start: where it begins in the answer.
        end: where it ends in the answer.
        cursor: the cursor it names.
        first_line: the first line cited.
        last_line: the last line cited (equal to ``first_line`` for ``【6†L9】``).
        url: the source's URL (None when the cursor is unknown).
        title: the source's title.
        quote: the cited lines' text, links shown as their text ("" when not known).
    """

    mark: str
    start: int
    end: int
    cursor: int
    first_line: int
    last_line: int
    url: str | None
    title: str
    quote: str

    @property
    def lines(self) -> str:
        """``"L9-L11"`` (or ``"L9"``)."""
        if self.first_line == self.last_line:
            return f"L{self.first_line}"
        return f"L{self.first_line}-L{self.last_line}"

    @property
    def resolved(self) -> bool:
        """Whether the mark points at a known source."""
        return self.url is not None


@dataclass(frozen=True, slots=True)
class Citations:
    """An answer and its resolved citations (iterate to get each :class:`Citation`)."""

    text: str
    items: tuple[Citation, ...]

    def __iter__(self) -> Iterator[Citation]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def markdown(self) -> str:
        """The answer with each resolved mark as a Markdown link that keeps its lines."""
        return self._replace(
            lambda c: f" ([{domain_of(c.url or '') or c.title}, {c.lines}]({c.url}))"
        )

    def plain(self) -> str:
        """The answer with each resolved mark as ``(url, lines)``."""
        return self._replace(lambda c: f" ({c.url}, {c.lines})")

    def _replace(self, render: Any) -> str:
        out: list[str] = []
        last = 0
        for c in self.items:
            out.append(
                self.text[last : c.start].rstrip(" ") if c.resolved else self.text[last : c.start]
            )
            out.append(render(c) if c.resolved else c.mark)
            last = c.end
        out.append(self.text[last:])
        return "".join(out)


@dataclass(frozen=True, slots=True)
class _Shown:
    """What a cursor showed, as far as it is known."""

    url: str | None
    title: str
    lines: dict[int, str]
    page: Page | None = None


def citations(
    answer: Any,
    history: Any = None,
    *,
    browser: BrowserTool | None = None,
) -> Citations:
    """Resolve the ``【cursor†La-Lb】`` marks of ``answer``.

    Args:
        answer: the answer's text, or a :class:`~harmony_agent.RunResult` (its final
            text; its messages are the history when ``history`` is None).
        history: where the cursors come from: a ``RunResult``, a ``Conversation``, a
            sequence of messages, or a :class:`BrowserSession`.
        browser: the tool that served the run; with it, citations of search results
            resolve to the result's URL and quotes cover lines the model did not see.

    Returns:
        The answer with every mark found, resolved where its cursor is known.
    """
    text, messages = _unpack(answer)
    shown: dict[int, _Shown] = {}
    if history is not None:
        views = getattr(history, "views", None)
        if views is not None and hasattr(history, "browser"):
            shown = {i: _from_view(v) for i, v in enumerate(views)}
            messages = []
        else:
            messages = (
                _unpack(history)[1] if not isinstance(history, list | tuple) else list(history)
            )
    for message in messages:
        if message.role != "tool" or not str(message.name or "").startswith("browser"):
            continue
        body = message.text
        match = _HEADER_RE.match(body.partition("\n")[0])
        if match is None:
            continue
        view = browser.lookup(body) if browser is not None else None
        shown[int(match.group(1))] = _from_view(view) if view is not None else _from_text(body)
    items = [_resolve(m, shown) for m in MARK_RE.finditer(text)]
    return Citations(text=text, items=tuple(items))


def _unpack(value: Any) -> tuple[str, list[Message]]:
    if isinstance(value, str):
        return value, []
    if hasattr(value, "final_text") and hasattr(value, "messages"):  # RunResult
        return value.final_text or "", list(value.messages)
    if hasattr(value, "messages"):  # Conversation
        return "", list(value.messages)
    if isinstance(value, Iterable):
        return "", list(value)
    raise TypeError(
        f"expected text, a RunResult, a Conversation or messages, got {type(value).__name__}"
    )


def _from_view(view: View) -> _Shown:
    page = view.page
    return _Shown(url=page.url, title=page.title, lines={}, page=page)


def _from_text(body: str) -> _Shown:
    first, _, rest = body.partition("\n")
    header = _HEADER_RE.match(first)
    title = header.group(2) if header else ""
    url: str | None = None
    if (m := _URL_RE.match(title)) is not None:
        title, url = m.group(1), m.group(2)
    lines: dict[int, str] = {}
    for line in rest.split("\n"):
        if (m := _LINE_RE.match(line)) is not None:
            lines[int(m.group(1))] = m.group(2)
    return _Shown(url=url, title=title, lines=lines)


def _resolve(mark: re.Match[str], shown: dict[int, _Shown]) -> Citation:
    cursor, first = int(mark.group(1)), int(mark.group(2))
    last = int(mark.group(3)) if mark.group(3) else first
    first, last = min(first, last), max(first, last)
    source = shown.get(cursor)
    url: str | None = None
    title, quote = "", ""
    if source is not None:
        url, title = source.url, source.title
        if source.page is not None:
            url, title, first, last, quote = _from_page(source.page, first, last)
        else:
            quote = _join([source.lines[n] for n in range(first, last + 1) if n in source.lines])
            if url is not None and "/find?pattern=" in url:
                url, first, last = _find_origin(url, source.lines, first, last)
        if url is not None and url.startswith("search:"):
            url = None
    return Citation(mark.group(0), mark.start(), mark.end(), cursor, first, last, url, title, quote)


def _join(lines: list[str]) -> str:
    """Shown lines unwrapped: a line the wrapper broke ends in whitespace."""
    out: list[str] = []
    for line in lines:
        if out and not out[-1][-1:].isspace():
            out.append("\n")
        out.append(line)
    return strip_links("".join(out)).strip()


def _from_page(page: Page, first: int, last: int) -> tuple[str | None, str, int, int, str]:
    """URL, title, lines and quote for a citation of ``page``, following find and search."""
    if page.kind == "find" and page.origin is not None:
        mapped = [page.origin_lines[n] for n in range(first, last + 1)
                  if 0 <= n < len(page.origin_lines) and page.origin_lines[n] >= 0]  # fmt: skip
        if mapped:
            origin = page.origin
            return (
                origin.url,
                origin.title,
                min(mapped),
                max(mapped),
                origin.quote(min(mapped), max(mapped)),
            )
    quote = page.quote(first, last)
    if page.kind == "search":
        cited = "\n".join(page.lines[max(first, 0) : last + 1])
        ids = {int(m.group(0)[1:].partition("†")[0]) for m in LINK_RE.finditer(cited)}
        targets = {page.links[i].url for i in ids if i < len(page.links)}
        if len(targets) == 1:
            (url,) = targets
            link = next(page.links[i] for i in ids if i < len(page.links))
            return url, link.title, first, last, quote
        return None, page.title, first, last, quote
    return page.url, page.title, first, last, quote


def _find_origin(url: str, lines: dict[int, str], first: int, last: int) -> tuple[str, int, int]:
    """For a find page known only from its text: the searched page's URL and lines."""
    base = url.rpartition("/find?pattern=")[0]
    mapped: list[int] = []
    current: int | None = None
    for n in sorted(lines):
        m = _FIND_RE.match(lines[n])
        if m is not None:
            current = int(m.group(1))
            if first <= n <= last:
                mapped.append(current)
            current -= 1
        elif not lines[n]:
            current = None
        elif current is not None:
            current += 1
            if first <= n <= last:
                mapped.append(current)
    return (base, min(mapped), max(mapped)) if mapped else (base, first, last)
