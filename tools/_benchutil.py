"""Small helpers the benchmark scripts share: the median of timed calls, and units.

Best-of timing for whole workloads is :func:`bench.timeit`; these are for per-call
costs, where the median of many calls after a warm-up says more than the best one.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["amedian_seconds", "median_seconds", "ms", "us"]


def median_seconds(fn: Callable[[], Any], *, calls: int, warmup: int = 20) -> float:
    """Median seconds of ``calls`` calls of ``fn``, after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


async def amedian_seconds(
    fn: Callable[[], Awaitable[Any]], *, calls: int, warmup: int = 20
) -> float:
    """:func:`median_seconds` for a coroutine function."""
    for _ in range(warmup):
        await fn()
    samples = []
    for _ in range(calls):
        t = time.perf_counter()
        await fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def ms(seconds: float) -> str:
    """``seconds`` in milliseconds, right-aligned."""
    return f"{seconds * 1e3:8.2f} ms"


def us(seconds: float) -> str:
    """``seconds`` in microseconds, right-aligned."""
    return f"{seconds * 1e6:9.1f} µs"
