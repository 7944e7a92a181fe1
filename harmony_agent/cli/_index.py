"""``harmony-agent index DIR``: build the browser's local search index."""

from __future__ import annotations

import argparse

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import CliError

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "index a folder of HTML, Markdown and text files for the browser's search"
DESCRIPTION = """\
Index every HTML, Markdown and text file under DIR (recursively) into the browser's
local search index (SQLite full-text search with bm25 ranking), so an agent with
the browser tool can search and open them with no search API and no network.

The index goes to --output, else $HARMONY_AGENT_INDEX, else
~/.cache/harmony_agent/browser-index.sqlite, which ha.BrowserTool() uses by default.
Running it again updates the index: files already in it are replaced."""
EPILOG = """\
examples:
  harmony-agent index ./docs
  harmony-agent index ./notes --output notes.sqlite
      then in Python: ha.BrowserTool(search=ha.browser.LocalIndex("notes.sqlite"))"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``index``'s arguments."""
    parser.add_argument("dir", metavar="DIR", help="the folder to index")
    parser.add_argument(
        "--output", "-o", metavar="FILE", help="the index file (default: the browser's own)"
    )


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``index``."""
    from harmony_agent.browser import SearchError, build_index, default_index_path

    target = args.output or default_index_path()
    out.spinner(f"indexing {args.dir}…")
    try:
        stats = build_index(args.dir, target)
    except SearchError as exc:
        raise CliError(f"cannot index: {exc}") from None
    except OSError as exc:
        raise CliError(f"cannot write the index {target}: {exc.strerror or exc}") from None
    finally:
        out.stop_spinner()
    skipped = f", skipped {stats.skipped} unreadable or empty" if stats.skipped else ""
    out.write(
        f"indexed {stats.indexed} file(s){skipped} into {target} "
        f"in {stats.seconds:.2f} s ({stats.per_second:.0f} documents/s)\n"
    )
    if not stats.indexed:
        out.warn(f"no HTML, Markdown or text files under {args.dir}")
    return 0
