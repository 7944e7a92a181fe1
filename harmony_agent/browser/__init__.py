"""gpt-oss's browser tool and its parts: search engines, pages, citations.

``ha.BrowserTool(search=None, allowed_hosts=None, ...)`` serves ``browser.search``,
``browser.open`` and ``browser.find`` in the page format gpt-oss was trained on. Search
engines: :class:`LocalIndex` (embedded, the default), :class:`SearXNG`, :class:`Exa`,
:class:`YouCom`, :class:`Tavily`, :class:`Brave`. :func:`citations` resolves the
``【cursor†La-Lb】`` marks of an answer to URLs, line ranges and quoted text.
"""

from harmony_agent.browser._cite import Citation, Citations, citations
from harmony_agent.browser._engines import (
    Brave,
    Exa,
    SearchEngine,
    SearchError,
    SearchResult,
    SearXNG,
    Tavily,
    WebEngine,
    YouCom,
)
from harmony_agent.browser._fetch import Limits
from harmony_agent.browser._local import IndexStats, LocalIndex, build_index, default_index_path
from harmony_agent.browser._page import Link, Page
from harmony_agent.browser._session import BrowserSession, View
from harmony_agent.browser._tool import BrowserTool

__all__ = [
    "Brave",
    "BrowserSession",
    "BrowserTool",
    "Citation",
    "Citations",
    "Exa",
    "IndexStats",
    "Limits",
    "Link",
    "LocalIndex",
    "Page",
    "SearXNG",
    "SearchEngine",
    "SearchError",
    "SearchResult",
    "Tavily",
    "View",
    "WebEngine",
    "YouCom",
    "build_index",
    "citations",
    "default_index_path",
]
