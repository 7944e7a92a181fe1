"""The embedded search engine: SQLite FTS5 with bm25 over local files and fetched pages.

``LocalIndex(path)`` opens (or creates) an index file; ``LocalIndex()`` keeps one in
memory. :func:`build_index` fills one from a folder of HTML, Markdown and text files
(HTML through the same extractor the browser uses). Pages the browser fetches are added
as they come, so the index also finds what earlier runs read. The index stores each
document's display text and links, so opening a result needs no network.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from harmony_agent.browser._convert import html_to_page, text_to_page
from harmony_agent.browser._engines import SearchEngine, SearchError, SearchResult
from harmony_agent.browser._fetch import decode
from harmony_agent.browser._page import Link, Page, strip_links

__all__ = ["SUFFIXES", "IndexStats", "LocalIndex", "build_index", "default_index_path"]

#: File suffixes :func:`build_index` reads, and how.
SUFFIXES = {".html": "html", ".htm": "html", ".md": "text", ".markdown": "text", ".txt": "text",
            ".rst": "text"}  # fmt: skip
_TERM = re.compile(r"\w+", re.UNICODE)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY, url TEXT UNIQUE NOT NULL, title TEXT NOT NULL,
    text TEXT NOT NULL, links TEXT NOT NULL, kind TEXT NOT NULL, added REAL NOT NULL);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_fts USING fts5(
    title, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE IF NOT EXISTS docs_vocab USING fts5vocab(docs_fts, 'row');
"""
#: Words in more than this share of the documents are dropped from a query that has
#: rarer ones (they barely change bm25's order and make the query scan everything).
COMMON = 0.1


def default_index_path() -> Path:
    """Where ``harmony-agent index`` writes by default: ``$HARMONY_AGENT_INDEX``, else
    ``$XDG_CACHE_HOME/harmony_agent/browser-index.sqlite`` (``~/.cache`` by default)."""
    explicit = os.environ.get("HARMONY_AGENT_INDEX")
    if explicit:
        return Path(explicit).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "harmony_agent" / "browser-index.sqlite"


@dataclass(frozen=True, slots=True)
class IndexStats:
    """What :func:`build_index` did."""

    indexed: int
    skipped: int
    seconds: float

    @property
    def per_second(self) -> float:
        """Documents indexed per second."""
        return self.indexed / self.seconds if self.seconds > 0 else float(self.indexed)


class LocalIndex(SearchEngine):
    """A search engine in one SQLite file (FTS5, ranked by bm25, titles weighted 5x).

    Args:
        path: the index file (created when missing); None keeps the index in memory.

    Queries match any of their words; documents with more and rarer matches rank first.
    Safe to share between concurrent runs (one connection behind a lock).
    """

    source = "web"

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(
            ":memory:" if self.path is None else str(self.path), check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock, self._db:
            self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return f"LocalIndex({str(self.path) if self.path else None!r}, {len(self)} documents)"

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM docs").fetchone()[0])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    # -- writing -----------------------------------------------------------------------
    def add_page(self, page: Page) -> None:
        """Add or replace the document at ``page.url``."""
        self.add_pages([page])

    def add_pages(self, pages: list[Page]) -> None:
        """Add or replace several documents in one transaction."""
        rows = [
            (p.url, p.title, p.text, json.dumps([link.url for link in p.links]), p.kind)
            for p in pages
        ]
        now = time.time()
        with self._lock, self._db:
            for url, title, text, links, kind in rows:
                old = self._db.execute("SELECT id FROM docs WHERE url = ?", (url,)).fetchone()
                if old is not None:
                    self._db.execute("DELETE FROM docs_fts WHERE rowid = ?", old)
                    self._db.execute("DELETE FROM docs WHERE id = ?", old)
                cur = self._db.execute(
                    "INSERT INTO docs (url, title, text, links, kind, added) VALUES (?,?,?,?,?,?)",
                    (url, title, text, links, kind, now),
                )
                self._db.execute(
                    "INSERT INTO docs_fts (rowid, title, body) VALUES (?, ?, ?)",
                    (cur.lastrowid, title, strip_links(text)),
                )

    async def add(self, page: Page) -> None:
        """Keep a page the browser fetched (only web pages, not the browser's own)."""
        if page.kind in ("html", "text", "json", "pdf") and page.url.startswith("http"):
            await asyncio.to_thread(self.add_page, page)

    # -- reading -----------------------------------------------------------------------
    def query(self, query: str, topn: int = 10) -> list[SearchResult]:
        """The best ``topn`` documents for ``query`` (blocking; see :meth:`search`).

        Documents with all of the query's informative words come first, then those with
        any of them, each group ranked by bm25.
        """
        words = list(dict.fromkeys(w.lower() for w in _TERM.findall(query)))
        if not words:
            return []
        sql = (
            "SELECT d.id, d.url, d.title, snippet(docs_fts, 1, '', '', '…', 24) "
            "FROM docs_fts JOIN docs d ON d.id = docs_fts.rowid "
            "WHERE docs_fts MATCH ? ORDER BY bm25(docs_fts, 5.0, 1.0) LIMIT ?"
        )
        try:
            with self._lock:
                terms = self._informative(words)
                quoted = ['"' + t.replace('"', "") + '"' for t in terms]
                rows = self._db.execute(sql, (" ".join(quoted), topn)).fetchall()
                if len(rows) < topn and len(quoted) > 1:
                    seen = {row[0] for row in rows}
                    more = self._db.execute(sql, (" OR ".join(quoted), topn + len(rows)))
                    rows += [row for row in more.fetchall() if row[0] not in seen]
        except sqlite3.Error as exc:
            raise SearchError(f"the local index failed: {exc}") from None
        return [
            SearchResult(url, title, " ".join(snip.split())) for _, url, title, snip in rows[:topn]
        ]

    def _informative(self, words: list[str]) -> list[str]:
        """``words`` less the very common ones (the rarest is always kept)."""
        if len(words) == 1:
            return words
        total = self._db.execute("SELECT count(*) FROM docs").fetchone()[0]
        if total < 50:
            return words
        marks = ",".join("?" * len(words))
        found = dict(
            self._db.execute(f"SELECT term, doc FROM docs_vocab WHERE term IN ({marks})", words)
        )
        df = {w: found.get(w, 0) for w in words}
        kept = [w for w in words if df[w] <= COMMON * total]
        return kept or [min(words, key=lambda w: df[w])]

    async def search(
        self, query: str, topn: int, *, client: httpx.AsyncClient
    ) -> list[SearchResult]:
        """Ranked results; opening one serves the stored document."""
        return await asyncio.to_thread(self.query, query, topn)

    def get(self, url: str) -> Page | None:
        """The stored document at ``url`` (blocking; see :meth:`document`)."""
        with self._lock:
            row = self._db.execute(
                "SELECT title, text, links, kind FROM docs WHERE url = ?", (url,)
            ).fetchone()
        if row is None:
            return None
        title, text, links, kind = row
        return Page.build(url, title, text, links=[Link(u) for u in json.loads(links)], kind=kind)

    async def document(self, url: str) -> Page | None:
        """The stored document at ``url``, if any."""
        return await asyncio.to_thread(self.get, url)


def _file_page(path: Path, kind: str) -> Page:
    data = path.read_bytes()
    url = path.resolve().as_uri()
    if kind == "html":
        return html_to_page(decode(data, html=True), url)
    text = decode(data)
    title = next((line.lstrip("# ").strip() for line in text.splitlines() if line.strip()), "")
    return text_to_page(text, url, title=title[:200] or path.name)


def build_index(
    source_dir: str | os.PathLike[str],
    index_path: str | os.PathLike[str] | None = None,
    *,
    batch: int = 200,
) -> IndexStats:
    """Index every HTML, Markdown and text file under ``source_dir`` (recursively).

    Args:
        source_dir: the folder to read.
        index_path: the index file to create or update (default: :func:`default_index_path`).
        batch: documents per transaction.

    Returns:
        How many files were indexed and skipped (unreadable or empty), and how long it took.

    Raises:
        SearchError: ``source_dir`` is not a folder.
    """
    root = Path(source_dir)
    if not root.is_dir():
        raise SearchError(f"{str(root)!r} is not a folder")
    start = time.perf_counter()
    index = LocalIndex(index_path if index_path is not None else default_index_path())
    indexed = skipped = 0
    pending: list[Page] = []
    try:
        for path in sorted(root.rglob("*")):
            kind = SUFFIXES.get(path.suffix.lower())
            if kind is None or not path.is_file():
                continue
            try:
                page = _file_page(path, kind)
            except (OSError, ValueError):
                skipped += 1
                continue
            pending.append(page)
            indexed += 1
            if len(pending) >= batch:
                index.add_pages(pending)
                pending = []
        if pending:
            index.add_pages(pending)
    finally:
        index.close()
    return IndexStats(indexed=indexed, skipped=skipped, seconds=time.perf_counter() - start)
