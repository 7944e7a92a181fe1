"""One run's browser: the page stack behind the cursors, and search, open and find.

:class:`BrowserSession` answers the model's calls; every display it makes (search
results, a page, a scroll, find results) is pushed as a new cursor, and old cursors keep
pointing at what they showed. What runs share (engines, policy, page cache) lives in
:class:`~harmony_agent.browser.BrowserTool`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import html
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote

import httpx
from lxml import etree
from pydantic import AliasChoices, BaseModel, ConfigDict, Field, StrictBool, ValidationError

from harmony_agent.browser import _convert
from harmony_agent.browser._engines import SearchEngine, SearchError, SearchResult
from harmony_agent.browser._fetch import (
    Fetched,
    FetchError,
    classify,
    decode,
    fetch,
    new_client,
)
from harmony_agent.browser._page import (
    Link,
    Page,
    escape,
    link_mark,
    render_view,
    strip_links,
    view_end,
)
from harmony_agent.format._messages import Message, ToolNamespace
from harmony_agent.tools._base import Placement, Tool, ToolCall

if TYPE_CHECKING:
    from harmony_agent.browser._tool import BrowserTool

__all__ = ["BrowserSession", "View"]

_TAGS = re.compile(r"<[^>]{0,200}>")
FIND_MAX = 50
#: The most lines one view shows, whatever ``num_lines`` asks (about 8-10k tokens).
MAX_LINES = 400
logger = logging.getLogger("harmony_agent.browser")
FIND_LINES = 4


@dataclass(frozen=True, slots=True)
class View:
    """What one cursor showed: lines ``start`` to ``end`` of ``page``."""

    page: Page
    start: int
    end: int


class _Args(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class _Search(_Args):
    query: str = Field(min_length=1)
    topn: int = Field(default=10, validation_alias=AliasChoices("topn", "top_n"))
    source: str | None = None


class _Open(_Args):
    id: int | str = -1
    cursor: int = -1
    loc: int = -1
    num_lines: int = -1
    view_source: StrictBool = False
    source: str | None = None


class _Find(_Args):
    pattern: str = Field(min_length=1)
    cursor: int = -1


class _Problem(Exception):
    """A call the browser cannot serve; the text goes back to the model."""


@dataclass(frozen=True, slots=True)
class _Cached:
    page: Page
    source: str | None  # the decoded document, for view_source


class BrowserSession(Tool):
    """One run's browser: the page stack behind the cursors.

    Attributes:
        views: what each cursor showed; cursor ``i`` is ``views[i]``.
    """

    placement: ClassVar[Placement] = "system"

    def __init__(self, browser: BrowserTool, client: httpx.AsyncClient | None) -> None:
        self.browser = browser
        self.timeout = browser.timeout
        self.views: list[View] = []
        self._client = client

    @property
    def namespace(self) -> ToolNamespace:
        """The browser's declaration."""
        return self.browser.namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Serve ``browser.search``, ``browser.open`` or ``browser.find``; errors are answers."""
        try:
            text = await self.run(call.name or call.recipient, call.arguments)
        except _Problem as exc:
            return [call.error(str(exc))]
        except Exception as exc:  # a bug or a library failure: still an answer, logged
            logger.warning("browser.%s failed", call.name, exc_info=True)
            return [call.error(f"browser.{call.name} failed ({type(exc).__name__}: {exc})")]
        return [call.reply(text)]

    async def run(self, function: str, arguments: str | dict[str, Any]) -> str:
        """The display for one call (raises ``_Problem`` with the text of an error)."""
        if self._client is None:
            async with new_client(self.browser.limits) as client:
                self._client = client
                try:
                    return await self._dispatch(function, arguments)
                finally:
                    self._client = None
        return await self._dispatch(function, arguments)

    async def _dispatch(self, function: str, arguments: str | dict[str, Any]) -> str:
        if function == "search":
            return await self._search(_parse(_Search, function, arguments))
        if function == "open":
            return await self._open(_parse(_Open, function, arguments))
        if function == "find":
            return await self._find(_parse(_Find, function, arguments))
        raise _Problem(f"the browser has no function {function!r}: use search, open or find")

    # -- the three functions ---------------------------------------------------------------
    async def _search(self, args: _Search) -> str:
        engine = self._engine(args.source)
        topn = max(1, min(args.topn, self.browser.max_results))
        assert self._client is not None
        try:
            results = await asyncio.wait_for(
                engine.search(args.query, topn, client=self._client), self.browser.limits.deadline
            )
        except SearchError as exc:
            raise _Problem(f"Error during search for `{args.query}`: {exc}") from None
        except asyncio.TimeoutError:
            raise _Problem(f"Error during search for `{args.query}`: it timed out") from None
        page = _results_page(args.query, results[:topn], len(self.views))
        return self._show(page, 0, -1)

    async def _open(self, args: _Open) -> str:
        link_id = args.id
        if isinstance(link_id, str) and link_id.strip().lstrip("-").isdigit():
            link_id = int(link_id)
        loc = args.loc
        if isinstance(link_id, str):
            page = (await self._load(link_id.strip(), fresh=True)).page
        else:
            here = self._view(args.cursor)
            if link_id >= 0:
                if link_id >= len(here.page.links):
                    raise _Problem(_bad_link(link_id, here.page, self._cursor(args.cursor)))
                link = here.page.links[link_id]
                if link.page is not None and not args.view_source:
                    page = link.page
                    if loc < 0 and link.line is not None:
                        loc = max(0, link.line - FIND_LINES)
                else:
                    page = (await self._load(link.url, fresh=False)).page
            else:
                page = here.page
                if loc < 0 and not args.view_source:
                    loc = here.end + 1 if here.end < page.last_line else here.start
        if args.view_source:
            page = await self._source(page)
        return self._show(page, max(loc, 0), args.num_lines)

    async def _find(self, args: _Find) -> str:
        view = self._view(args.cursor)
        page = view.page
        if page.kind == "find":
            raise _Problem("Cannot run `find` on a find results page: pass the page's cursor")
        needle = args.pattern.casefold()
        chunks: list[str] = []
        links: list[Link] = []
        origin: list[int] = []
        n = 0
        plain = [strip_links(line) for line in page.lines]
        while n < len(plain) and len(links) < FIND_MAX:
            if needle not in plain[n].casefold():
                n += 1
                continue
            k = len(links)
            links.append(Link(url=page.url, title=f"match at L{n}", page=page, line=n))
            snippet = plain[n : n + FIND_LINES]
            chunks.append("\n".join([f"# 【{k}†match at L{n}】", *snippet]))
            origin += [n, *range(n, n + len(snippet)), -1]
            n += FIND_LINES
        if chunks:
            text = "\n\n".join(chunks)
        else:
            text = f"No `find` results for pattern: `{escape(args.pattern)}`"
        result = Page.build(
            f"{page.url}/find?pattern={quote(args.pattern)}",
            f"Find results for text: `{args.pattern}` in `{page.title}`",
            text,
            links=links,
            kind="find",
        )
        result = _with_origin(result, page, origin)
        return self._show(result, 0, -1)

    # -- helpers -----------------------------------------------------------------------
    def _engine(self, source: str | None) -> SearchEngine:
        engines = self.browser.engines
        if source is None or source.strip().lower() in ("", "web", "default"):
            return engines[0]
        for engine in engines:
            if engine.source == source or type(engine).__name__.lower() == source.lower():
                return engine
        known = ", ".join(sorted({e.source for e in engines}))
        raise _Problem(f"unknown source {source!r}; available: {known}")

    def _cursor(self, cursor: int) -> int:
        if not self.views:
            raise _Problem("No pages to access! Search or open a URL first.")
        if cursor == -1:
            return len(self.views) - 1
        if not 0 <= cursor < len(self.views):
            raise _Problem(
                f"Cursor `{cursor}` is out of range. "
                f"Available cursor indices: [0 - {len(self.views) - 1}]."
            )
        return cursor

    def _view(self, cursor: int) -> View:
        return self.views[self._cursor(cursor)]

    def _show(self, page: Page, loc: int, num_lines: int) -> str:
        if loc > page.last_line:
            raise _Problem(
                f"Invalid location parameter: `{loc}`. "
                f"Cannot exceed page maximum of {page.last_line}."
            )
        browser = self.browser
        end = view_end(page, loc, num_lines, tokens=browser.view_tokens,
                       count=browser.count_tokens, max_lines=MAX_LINES)  # fmt: skip
        view = View(page, loc, end)
        self.views.append(view)
        text = render_view(len(self.views) - 1, page, loc, end)
        browser.record(text, view)
        return text

    async def _load(self, url: str, *, fresh: bool) -> _Cached:
        if not fresh and (entry := self.browser.cached(url)) is not None:
            return entry
        for engine in self.browser.engines:
            if not url.startswith(("http://", "https://")):
                stored = await engine.document(url)
                if stored is not None:
                    return _Cached(stored, None)
        assert self._client is not None
        try:
            fetched = await fetch(
                self._client, url, policy=self.browser.policy, limits=self.browser.limits
            )
            entry = await asyncio.to_thread(_convert_fetched, fetched)
        except FetchError as exc:
            raise _Problem(f"Error fetching URL `{url}`: {exc}") from None
        except (ValueError, LookupError, etree.LxmlError) as exc:
            raise _Problem(f"Error reading `{url}`: {type(exc).__name__}: {exc}") from None
        self.browser.remember(url, entry)
        for engine in self.browser.engines:
            await engine.add(entry.page)
        return entry

    async def _source(self, page: Page) -> Page:
        if page.kind == "source":
            return page
        if page.kind in ("search", "find"):
            raise _Problem("view_source works on fetched pages, not on search or find results")
        entry = self.browser.cached(page.url)
        if entry is None or entry.source is None:
            entry = await self._load(page.url, fresh=True)
        if entry.source is None:
            raise _Problem(f"no source to show for `{page.url}` ({page.kind})")
        return _convert.source_page(entry.source, page.url, page.title)


def _convert_fetched(fetched: Fetched) -> _Cached:
    url, content_type, body, truncated = (
        fetched.url,
        fetched.content_type,
        fetched.body,
        fetched.truncated,
    )
    charset = fetched.charset
    kind = classify(content_type, body)
    if kind == "binary":
        raise FetchError(
            f"the content is binary ({content_type or 'unknown type'}, {len(body):,} bytes) "
            "and cannot be shown as text"
        )
    if kind == "pdf":
        if truncated:
            raise FetchError(f"the PDF is larger than the {len(body):,}-byte limit")
        try:
            return _Cached(_convert.pdf_to_page(body, url), None)
        except Exception as exc:  # pypdf raises many types on broken files
            raise FetchError(f"the PDF could not be read ({type(exc).__name__})") from None
    text = decode(body, charset, html=kind == "html")
    if kind == "html":
        page = _convert.html_to_page(text, url)
    elif kind == "json":
        page = _convert.json_to_page(text, url)
    else:
        page = _convert.text_to_page(text, url)
    if truncated:
        note = f"(the page was cut off after {len(body):,} bytes)"
        page = Page.build(page.url, page.title, page.text, links=page.links, kind=page.kind,
                          note=note)  # fmt: skip
    return _Cached(page, text)


def _results_page(query: str, results: Sequence[SearchResult], number: int) -> Page:
    lines = ["# Search Results", ""]
    links: list[Link] = []
    for result in results:
        title = escape(" ".join(html.unescape(_TAGS.sub("", result.title)).split())) or result.url
        snippet = escape(" ".join(html.unescape(_TAGS.sub("", result.snippet)).split()))
        mark = link_mark(len(links), title, result.url, "")
        links.append(Link(url=result.url, title=title, page=result.page))
        lines.append(f"  * {mark} {snippet}".rstrip())
    if not results:
        lines.append(f"No results for `{escape(query)}`.")
    return Page.build(f"search:{number}:{quote(query)}", query, "\n".join(lines), links=links,
                      kind="search", show_url=False)  # fmt: skip


def _with_origin(result: Page, source: Page, origin: list[int]) -> Page:
    """A find page that knows which line of ``source`` each of its lines shows."""
    lines = len(result.lines)
    mapped = tuple((origin + [-1] * lines)[:lines]) if origin else ()
    return dataclasses.replace(result, origin=source, origin_lines=mapped)


def _bad_link(link_id: int, page: Page, cursor: int) -> str:
    count = len(page.links)
    valid = f"valid ids are 0-{count - 1}" if count else "it has no links"
    return f"Invalid link id `{link_id}`: the page at cursor {cursor} has {count} links ({valid})."


_A = TypeVar("_A", bound=_Args)


#: The argument a call may carry as bare text instead of JSON (``hermit crabs``).
_BARE = {"search": "query", "open": "id", "find": "pattern"}


def _parse(model: type[_A], function: str, arguments: str | dict[str, Any]) -> _A:
    try:
        if isinstance(arguments, dict):
            return model.model_validate(arguments)
        text = arguments.strip()
        if text and text[0] not in '{["':  # the model wrote the value alone
            return model.model_validate({_BARE[function]: text})
        return model.model_validate_json(text or "{}")
    except ValidationError as exc:
        raise _Problem(f"invalid arguments for browser.{function}: {_explain(exc)}") from None


def _explain(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts) + ". Fix the arguments and try again."
