"""The event-loop plumbing of the agent: timeouts, closing streams, the blocking entry."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from harmony_agent.agent._backend import Backend

__all__ = ["Expired", "closing", "released", "run_sync", "within"]

_T = TypeVar("_T")


class Expired(Exception):
    """A tool call ran out of time (unlike a ``TimeoutError`` the tool raised itself)."""


if sys.version_info >= (3, 11):

    async def within(seconds: float | None, awaitable: Awaitable[_T]) -> _T:
        if seconds is None:
            return await awaitable
        try:
            async with asyncio.timeout(seconds) as scope:
                return await awaitable
        except TimeoutError:
            if scope.expired():
                raise Expired from None
            raise

else:  # pragma: no cover - Python 3.10

    async def within(seconds: float | None, awaitable: Awaitable[_T]) -> _T:
        try:
            return await asyncio.wait_for(awaitable, seconds)
        except asyncio.TimeoutError:
            raise Expired from None


@asynccontextmanager
async def closing(iterator: AsyncIterator[_T]) -> AsyncIterator[AsyncIterator[_T]]:
    """Close an async iterator on exit, aborting a backend request still in flight."""
    try:
        yield iterator
    finally:
        close = getattr(iterator, "aclose", None)
        if close is not None:
            await close()


async def released(backend: Backend, awaitable: Awaitable[_T]) -> _T:
    """Await ``awaitable``, then let ``backend`` release what it holds for this event loop.

    The blocking entry points (``run``, ``run_many``) end their event loop when they
    return; an HTTP backend's client belongs to that loop and is closed here, not left
    to the garbage collector.
    """
    try:
        return await awaitable
    finally:
        release = getattr(backend, "release_loop", None)
        if release is not None:
            await release()


def run_sync(make: Callable[[], Coroutine[Any, Any, _T]], *, entry: str, instead: str) -> _T:
    """``asyncio.run(make())``; a clear error when this thread already runs an event loop.

    Blocking here would stall that loop (a notebook's, a web server's), so the caller
    is pointed to the coroutine to await. The coroutine is made only once it can run.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    raise RuntimeError(
        f"{entry}() blocks, and this thread already runs an event loop; "
        f"use `await {instead}(...)` instead"
    )
