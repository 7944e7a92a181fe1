"""The embedded index: SQLite FTS5 with bm25 over a folder and the pages fetched."""

from __future__ import annotations

from pathlib import Path

import pytest

from harmony_agent.browser import BrowserTool, LocalIndex, Page, SearchError, build_index
from harmony_agent.testing.fake_web import WebServer
from tests.browser.conftest import call


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "kelp.md").write_text(
        "# Kelp forests\n\nKelp grows fast in cold water. Otters eat urchins.\n"
    )
    (docs / "sub" / "reef.html").write_text(
        "<html><head><title>Coral reefs</title></head><body><main><p>Coral reefs are built by "
        "polyps. See <a href='../kelp.md'>kelp</a>. "
        + "Reefs shelter fish. " * 20
        + "</p></main></body></html>"
    )
    (docs / "notes.txt").write_bytes("Gezeiten und Meeresströmungen.".encode("cp1252"))
    (docs / "image.png").write_bytes(b"\x89PNG")
    return docs


def test_build_index_counts_and_ranks(folder: Path, tmp_path: Path) -> None:
    stats = build_index(folder, tmp_path / "index.sqlite")
    assert (stats.indexed, stats.skipped) == (3, 0) and stats.per_second > 0
    index = LocalIndex(tmp_path / "index.sqlite")
    assert len(index) == 3
    results = index.query("coral reef fish")
    assert results[0].title == "Coral reefs" and results[0].url.startswith("file://")
    assert "Reefs shelter fish" in results[0].snippet
    assert index.query("Meeresströmungen")[0].url.endswith("notes.txt")
    assert index.query("otters")[0].title == "Kelp forests"
    assert index.query("?!") == [] and index.query("zeppelin") == []
    build_index(folder, tmp_path / "index.sqlite")  # again: documents replaced, not doubled
    assert len(LocalIndex(tmp_path / "index.sqlite")) == 3


def test_build_index_needs_a_folder(tmp_path: Path) -> None:
    with pytest.raises(SearchError, match="not a folder"):
        build_index(tmp_path / "missing", tmp_path / "i.sqlite")


async def test_search_and_open_local_documents_offline(folder: Path, tmp_path: Path) -> None:
    build_index(folder, tmp_path / "index.sqlite")
    tool = BrowserTool(LocalIndex(tmp_path / "index.sqlite"))
    async with tool.session() as s:
        results = await call(s, "search", query="coral polyps")
        assert "【0†Coral reefs" in results
        reef = await call(s, "open", id=0)
        assert reef.startswith("[1] Coral reefs (file://") and "【0†kelp】" in reef
        kelp = await call(s, "open", id=0)
    assert kelp.startswith("[2] Kelp forests (file://") and "Otters eat urchins." in kelp


async def test_fetched_pages_join_the_index(web: WebServer) -> None:
    index = LocalIndex()
    tool = BrowserTool(index, allowed_hosts=["127.0.0.1"])
    async with tool.session() as s:
        await call(s, "open", id=web.url("/guide.html"))
        found = await call(s, "search", query="limpets")
    assert "【0†Field guide†127.0.0.1:" in found
    assert index.get(web.url("/guide.html")) is not None
    assert index.get("https://nowhere.example/") is None


def test_default_engine_is_an_empty_index_or_the_built_one(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HARMONY_AGENT_INDEX", str(tmp_path / "default.sqlite"))
    empty = BrowserTool()
    assert isinstance(empty.engines[0], LocalIndex) and empty.engines[0].path is None
    build_index(folder)
    built = BrowserTool()
    assert built.engines[0].path == tmp_path / "default.sqlite"  # type: ignore[attr-defined]
    assert len(built.engines[0]) == 3  # type: ignore[arg-type]


def test_pages_replace_by_url() -> None:
    index = LocalIndex()
    index.add_page(Page.build("https://a.example/", "Old", "walrus"))
    index.add_page(Page.build("https://a.example/", "New", "narwhal"))
    assert len(index) == 1 and index.query("walrus") == []
    assert index.query("narwhal")[0].title == "New"


def test_common_words_do_not_drown_rare_ones() -> None:
    index = LocalIndex()
    pages = [
        Page.build(f"https://x.example/{n}", f"Doc {n}", "the tide and the moon") for n in range(80)
    ]
    pages.append(Page.build("https://x.example/narwhal", "Narwhal", "the narwhal has a tusk"))
    index.add_pages(pages)
    assert index.query("the narwhal")[0].title == "Narwhal"
    assert len(index.query("the moon", 5)) == 5
