"""One background thread with its own event loop, owning every kernel of the process.

Kernels outlive the event loop of any single run (``Agent.run`` starts a new loop each
time, the warm pool starts kernels before any run), so their processes and sockets live
on this loop and callers reach them through :func:`call`. It also matters for clean-up:
bubblewrap's ``--die-with-parent`` fires when the *thread* that started it ends, so every
kernel is started from this thread, which lives as long as the process.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from typing import Any, TypeVar

__all__ = ["call", "call_blocking", "loop", "submit"]

_T = TypeVar("_T")
_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_pid = 0


def loop() -> asyncio.AbstractEventLoop:
    """The kernels' event loop, started on first use (and again in a forked child)."""
    global _loop, _pid
    with _lock:
        if _loop is None or _pid != os.getpid():
            new = asyncio.new_event_loop()
            ready = threading.Event()

            def serve() -> None:
                asyncio.set_event_loop(new)
                new.call_soon(ready.set)
                new.run_forever()

            threading.Thread(target=serve, name="harmony-agent-kernels", daemon=True).start()
            ready.wait()
            _loop, _pid = new, os.getpid()
        return _loop


def submit(coro: Coroutine[Any, Any, _T]) -> Future[_T]:
    """Schedule ``coro`` on the kernels' loop; the result arrives in the returned future."""
    return asyncio.run_coroutine_threadsafe(coro, loop())


async def call(coro: Coroutine[Any, Any, _T], *, shield: bool = False) -> _T:
    """Run ``coro`` on the kernels' loop and await its result from the caller's loop.

    Cancelling the caller cancels ``coro`` too, unless ``shield`` is set: then ``coro``
    runs to its end on its own.
    """
    future = asyncio.wrap_future(submit(coro))
    if shield:
        return await asyncio.shield(future)
    return await future


def call_blocking(coro: Coroutine[Any, Any, _T], timeout: float | None = None) -> _T:
    """Run ``coro`` on the kernels' loop and wait for it from synchronous code."""
    if _loop is not None and threading.current_thread().name == "harmony-agent-kernels":
        coro.close()
        raise RuntimeError("call_blocking() called from the kernels' own loop")
    return submit(coro).result(timeout)
