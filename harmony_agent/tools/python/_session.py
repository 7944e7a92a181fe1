"""One run's kernel: calls in order, timeouts, crashes and restarts turned into words.

A :class:`KernelSession` lives on the kernels' loop. It takes a kernel from the pool at
its first call, runs each call's code with the tool's timeout, and tells the model
plainly what happened when the code ran too long or the kernel died. A lost kernel is
replaced at the next call, and that call's answer says the state was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from harmony_agent.tools.python._executor import Executor
from harmony_agent.tools.python._output import ImageSaver, Transcript
from harmony_agent.tools.python._pool import KernelPool

__all__ = ["KernelSession", "SessionConfig"]


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """What every session of one tool shares."""

    timeout: float
    output_limit: int
    data_dir: str  # the workdir as the code sees it
    limits_text: str  # e.g. "memory is limited to 4 GiB"


class KernelSession:
    """The kernel of one run (or of a tool used without a run)."""

    def __init__(self, pool: KernelPool, config: SessionConfig, images: ImageSaver) -> None:
        self.pool, self.config, self.images = pool, config, images
        self._kernel: Executor | None = None
        self._lock: asyncio.Lock | None = None
        self._pending_note = ""
        self._closed = False

    @property
    def kernel(self) -> Executor | None:
        """The kernel in use, if one was taken."""
        return self._kernel

    async def execute(self, code: str) -> str:
        """Run ``code`` and return what the model reads."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._closed:
                return "Error: this python session is closed."
            transcript = Transcript(self.config.output_limit, self.images)
            if self._pending_note:
                transcript.preface(self._pending_note)
                self._pending_note = ""
            if self._kernel is not None and not self._kernel.alive:
                transcript.preface(self._lost(f"The kernel had stopped ({self._why()})"))
                await self._drop()
            if self._kernel is None:
                self._kernel = await self.pool.acquire()
            try:
                outcome = await self._kernel.run(
                    code, timeout=self.config.timeout, sink=transcript.add
                )
            except asyncio.CancelledError:
                # The caller gave up while the code ran: the kernel may still be busy.
                self._kill()
                self._pending_note = self._lost("The previous call was cancelled")
                raise
            seconds = f"{self.config.timeout:g} seconds"
            if outcome.status == "timeout":
                transcript.note(
                    f"[Execution timed out after {seconds} and was interrupted. "
                    "Variables and imports are kept.]"
                )
            elif outcome.status == "hung":
                self._kill()
                transcript.note(
                    self._lost(
                        f"Execution timed out after {seconds} and did not stop when "
                        "interrupted, so the kernel was restarted"
                    )
                )
            elif outcome.status == "died":
                detail = outcome.detail or "it exited"
                transcript.note(
                    self._lost(
                        f"The kernel crashed while running this code ({detail}; "
                        f"{self.config.limits_text}) and was restarted"
                    )
                )
                await self._drop()
            return transcript.text()

    async def close(self) -> None:
        """Give the kernel back (it is closed, not reused)."""
        self._closed = True
        await self._drop()

    def kill(self) -> None:
        """Kill the kernel now, from any thread; :meth:`close` still tidies up."""
        self._closed = True
        if self._kernel is not None:
            self._kernel.kill()

    # -- details --------------------------------------------------------------------------
    def _lost(self, what: str) -> str:
        return (
            f"[{what}: all variables and imports are lost; "
            f"files in {self.config.data_dir} are kept.]"
        )

    def _why(self) -> str:
        reason = getattr(self._kernel, "exit_reason", None)
        return (reason() if callable(reason) else "") or "it exited"

    def _kill(self) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.kill()
            task = asyncio.get_running_loop().create_task(self.pool.release(kernel))
            _BACKGROUND.add(task)
            task.add_done_callback(_BACKGROUND.discard)

    async def _drop(self) -> None:
        kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.kill()
            with contextlib.suppress(Exception):
                await self.pool.release(kernel)


_BACKGROUND: set[asyncio.Task[None]] = set()
