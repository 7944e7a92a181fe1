"""Browser tool benchmarks: open a 1 MB page on loopback; the local index at 10,000 documents.

    .venv/bin/python tools/bench_browser.py

``open``: end to end through a BrowserSession (HTTP on 127.0.0.1, charset, trafilatura
extraction, wrapping, the ~1,024-token window, rendering), a fresh tool each time so no
cache helps. ``LocalIndex``: 10,000 synthetic documents of ~300 words from a 5,000-word
vocabulary with a Zipf-like spread; indexing throughput, then search latency over 200
queries of 1-4 words (median and p95). Not a test: numbers depend on the machine.
"""

from __future__ import annotations

import asyncio
import gzip
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harmony_agent.browser import BrowserTool, LocalIndex, Page  # noqa: E402
from harmony_agent.testing.fake_web import Route, WebServer  # noqa: E402


def _page_1mb() -> bytes:
    local = ROOT / "tests" / "data" / "pages" / "049.html.gz"  # a 1 MB Wikipedia page
    if local.exists():
        return gzip.decompress(local.read_bytes())
    para = b"<p>" + b"Tide pools hold sea stars and <a href='/x'>crabs</a>. " * 40 + b"</p>\n"
    return b"<html><body><article>" + para * (1_000_000 // len(para)) + b"</article></body></html>"


def bench_open(repeat: int = 7) -> None:
    body = _page_1mb()
    with WebServer({"/big.html": Route(body)}) as web:

        async def once() -> tuple[float, float]:
            tool = BrowserTool(LocalIndex(), allowed_hosts=["127.0.0.1"])
            async with tool.session() as s:
                t, cpu = time.perf_counter(), time.process_time()
                await s.run("open", {"id": web.url("/big.html")})
                return time.perf_counter() - t, time.process_time() - cpu

        async def all_runs() -> list[tuple[float, float]]:
            await once()  # imports, encoding tables
            return [await once() for _ in range(repeat)]

        runs = asyncio.run(all_runs())
    wall = [w for w, _ in runs]
    cpu = [c for _, c in runs]
    print(
        f"open, {len(body) / 1e6:.2f} MB HTML on loopback, end to end: wall median "
        f"{statistics.median(wall) * 1000:.0f} ms (best {min(wall) * 1000:.0f} ms), "
        f"CPU median {statistics.median(cpu) * 1000:.0f} ms; load average {os.getloadavg()[0]:.1f}"
    )


def _documents(n: int, rng: random.Random) -> tuple[list[Page], list[str]]:
    vocabulary = [
        f"w{i}" + "".join(rng.choice("aeioulnrst") for _ in range(4)) for i in range(5000)
    ]
    weights = [1 / (i + 1) for i in range(len(vocabulary))]
    pages = []
    for d in range(n):
        words = rng.choices(vocabulary, weights, k=300)
        text = "\n\n".join(" ".join(words[i : i + 60]) for i in range(0, 300, 60))
        pages.append(Page.build(f"https://docs.example/{d}", " ".join(words[:6]), text))
    return pages, vocabulary


def bench_index(n: int = 10_000) -> None:
    rng = random.Random(7)
    pages, vocabulary = _documents(n, rng)
    with tempfile.TemporaryDirectory() as tmp:
        index = LocalIndex(Path(tmp) / "bench.sqlite")
        t = time.perf_counter()
        for start in range(0, n, 500):
            index.add_pages(pages[start : start + 500])
        indexed = time.perf_counter() - t
        queries = [
            " ".join(rng.choices(vocabulary[:2000], k=rng.randint(1, 4))) for _ in range(200)
        ]
        index.query(queries[0])
        times = []
        for query in queries:
            t = time.perf_counter()
            index.query(query, 10)
            times.append(time.perf_counter() - t)
        index.close()
    times.sort()
    print(f"LocalIndex: indexed {n:,} documents (~300 words) at {n / indexed:,.0f} docs/s")
    p95 = times[int(len(times) * 0.95)]
    print(
        f"LocalIndex search over {n:,} documents, top 10: median "
        f"{statistics.median(times) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )


if __name__ == "__main__":
    bench_open()
    bench_index()
