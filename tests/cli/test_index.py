"""``harmony-agent index DIR``: the browser's local index from a folder."""

from __future__ import annotations

from pathlib import Path

from harmony_agent.browser import LocalIndex
from tests.cli.conftest import ESCAPE, cli


def test_index_a_folder_then_search_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "tides.md").write_text("# Tides\n\nThe moon raises two tidal bulges.\n")
    (docs / "sub" / "moths.html").write_text(
        "<html><head><title>Moths</title></head><body><p>Moths navigate by the moon, "
        "keeping it at a fixed angle.</p></body></html>"
    )
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n")  # not a document: left alone
    target = tmp_path / "index.sqlite"
    done = cli(["index", str(docs), "--output", str(target)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"indexed 2 file(s) into {target} in ")
    assert not ESCAPE.search(done.stdout + done.stderr)
    index = LocalIndex(target)
    try:
        assert {r.title for r in index.query("moon")} == {"Tides", "Moths"}
    finally:
        index.close()


def test_index_of_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    done = cli(["index", str(tmp_path / "nope"), "--output", str(tmp_path / "i.sqlite")])
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "is not a folder" in done.stderr


def test_index_of_an_empty_folder_warns(tmp_path: Path) -> None:
    done = cli(["index", str(tmp_path), "--output", str(tmp_path / "i.sqlite")])
    assert done.returncode == 0
    assert "indexed 0 file(s)" in done.stdout and "no HTML, Markdown or text" in done.stderr
