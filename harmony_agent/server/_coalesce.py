"""Send what is ready together: stream frames produced at the same moment in one write.

A token stream makes one SSE frame per token, and each frame the ASGI server sends is a
socket write (a system call, and a wake-up of the reader). When the engine delivers
tokens faster than they can be written, several frames are ready at once; sending them
joined costs one write instead of many. The first frame of a burst is never held back:
latency is the same, only the number of writes drops.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

__all__ = ["coalesced"]

_END = object()
_RUNNING: set[asyncio.Task[None]] = set()  # pumps still closing their source

#: Seconds a pump whose consumer left may take to reach its next frame (and stop there,
#: closing its source) before it is cancelled.
STOP_GRACE = 2.0


async def coalesced(frames: AsyncGenerator[str, None]) -> AsyncIterator[str]:
    """``frames`` with the frames that are ready at once joined into one string.

    ``frames`` runs in a task of its own. When the consumer stops early (the client
    disconnected), the task stops at the next frame and closes ``frames`` from its own,
    uncancelled, control flow, so the engine request behind it is closed cleanly.
    """
    queue: asyncio.Queue[object] = asyncio.Queue()
    stop = asyncio.Event()

    async def pump() -> None:
        try:
            async for frame in frames:
                if stop.is_set():
                    break
                queue.put_nowait(frame)
        except BaseException as exc:  # handed to the consumer, which raises it
            queue.put_nowait(exc)
            return
        finally:
            await frames.aclose()
        queue.put_nowait(_END)

    task = asyncio.create_task(pump())
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    try:
        while True:
            item = await queue.get()
            batch: list[str] = []
            while True:
                if item is _END:
                    if batch:
                        yield "".join(batch)
                    return
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, str)
                batch.append(item)
                if queue.empty():
                    break
                item = queue.get_nowait()
            yield "".join(batch)
    finally:
        if not task.done():
            stop.set()
            asyncio.get_running_loop().call_later(STOP_GRACE, task.cancel)
