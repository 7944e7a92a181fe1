"""A warm pool: kernels started ahead of time, handed out one per run, under a cap.

A run takes a started kernel (no start-up wait), the pool starts a replacement in the
background, and a kernel that was used is closed, never reused: each run begins from a
clean state. At most ``max_kernels`` exist at once (warm or in use); beyond that a run
waits for one to be released. Runs on the kernels' loop (see ``_thread``).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable

from harmony_agent.errors import ToolError
from harmony_agent.tools.python._executor import Executor

__all__ = ["KernelPool"]


class KernelPool:
    """Hands out started executors made by ``factory``, keeping ``size`` warm.

    Args:
        factory: makes a new, unstarted executor.
        size: executors kept started and idle, ready for the next run.
        max_kernels: the most executors alive at once.
    """

    def __init__(self, factory: Callable[[], Executor], *, size: int, max_kernels: int) -> None:
        self.factory = factory
        self.size = size
        self.max_kernels = max_kernels
        self._warm: deque[Executor] = deque()
        self._live = 0  # started, starting or handed out
        self._booting = 0
        self._waiting = 0
        self._failures = 0
        self._last_error: BaseException | None = None
        self._closed = False
        self._all: set[Executor] = set()
        self._all_lock = threading.Lock()  # kill_all() may run on another thread
        self._tasks: set[asyncio.Task[None]] = set()
        self._cond: asyncio.Condition | None = None

    @property
    def live(self) -> int:
        """Executors alive now, warm or in use."""
        return self._live

    def _condition(self) -> asyncio.Condition:
        if self._cond is None:
            self._cond = asyncio.Condition()
        return self._cond

    def fill(self) -> None:
        """Start executors until ``size`` are warm or booting (and callers are served)."""
        want = self.size + self._waiting
        while (
            not self._closed
            and len(self._warm) + self._booting < want
            and self._live < self.max_kernels
        ):
            self._live += 1
            self._booting += 1
            task = asyncio.get_running_loop().create_task(self._boot())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def acquire(self) -> Executor:
        """A started executor for one caller; waits while ``max_kernels`` are in use."""
        cond = self._condition()
        async with cond:
            self._waiting += 1
            failures = self._failures
            try:
                while True:
                    if self._closed:
                        raise ToolError("the python tool is closed")
                    while self._warm:
                        executor = self._warm.popleft()
                        if executor.alive:
                            return executor
                        self._forget(executor)
                        self._live -= 1
                    if self._failures != failures:
                        raise ToolError(str(self._last_error)) from self._last_error
                    self.fill()
                    await cond.wait()
            finally:
                self._waiting -= 1
                self.fill()

    async def release(self, executor: Executor) -> None:
        """Close an executor a caller is done with and start its replacement."""
        try:
            await executor.close()
        finally:
            self._forget(executor)
            cond = self._condition()
            async with cond:
                self._live -= 1
                self.fill()
                cond.notify_all()

    async def close(self) -> None:
        """Close every executor, warm or in use, and start no more."""
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        with self._all_lock:
            executors = list(self._all)
        for executor in executors:
            with contextlib.suppress(Exception):
                await executor.close()
        cond = self._condition()
        async with cond:
            cond.notify_all()

    def kill_all(self) -> None:
        """Kill every executor now, from any thread (at exit, when garbage collected)."""
        self._closed = True
        with self._all_lock:
            executors = list(self._all)
        for executor in executors:
            with contextlib.suppress(Exception):
                executor.kill()

    # -- details --------------------------------------------------------------------------
    def _forget(self, executor: Executor) -> None:
        with self._all_lock:
            self._all.discard(executor)

    async def _boot(self) -> None:
        executor = self.factory()
        with self._all_lock:
            self._all.add(executor)
        cond = self._condition()
        try:
            await executor.start()
        except BaseException as exc:
            self._forget(executor)
            with contextlib.suppress(Exception):
                await executor.close()
            async with cond:
                self._live -= 1
                self._booting -= 1
                if not isinstance(exc, asyncio.CancelledError):
                    self._failures += 1
                    self._last_error = exc
                cond.notify_all()
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        async with cond:
            self._booting -= 1
            if self._closed:
                self._forget(executor)
                self._live -= 1
                executor.kill()
            else:
                self._warm.append(executor)
            cond.notify_all()
