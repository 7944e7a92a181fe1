"""The executor interface: what the python tool needs from whatever runs the code.

Four operations, so that the mechanism (a Jupyter kernel today, something else later)
can change without touching the tool::

    await executor.start()                         # ready to run code
    outcome = await executor.run(code, timeout=30, sink=outputs.append)
    await executor.interrupt()                     # stop what is running, keep the state
    await executor.close()                         # gone, with every process it started

``run`` streams what the code produces to ``sink`` as :class:`Output` items, in order,
and returns an :class:`Outcome` saying how it ended.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

__all__ = ["Executor", "Outcome", "OutcomeStatus", "Output", "OutputKind", "Sink"]

#: What one piece of output is: printed text, a value shown, an error, or an image.
OutputKind = Literal["stdout", "stderr", "result", "error", "image"]

#: How a run ended: normally, with an exception, interrupted after the timeout (state
#: kept), stuck even after the interrupt (the executor must be replaced), or with the
#: executor gone (crashed, killed for memory or CPU time).
OutcomeStatus = Literal["ok", "error", "timeout", "hung", "died"]


@dataclass(frozen=True, slots=True)
class Output:
    """One piece of what the code produced.

    Attributes:
        kind: see :data:`OutputKind`.
        text: the text (for an error, the traceback as plain text).
        data: the bytes of an ``image`` (PNG); empty otherwise.
    """

    kind: OutputKind
    text: str = ""
    data: bytes = b""


#: Where ``run`` sends outputs as they arrive.
Sink = Callable[[Output], None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a run ended; ``detail`` says more for ``died`` (e.g. ``"killed by SIGSEGV"``)."""

    status: OutcomeStatus
    detail: str = ""


class Executor(abc.ABC):
    """Runs code statefully: variables and imports survive from one ``run`` to the next."""

    @abc.abstractmethod
    async def start(self) -> None:
        """Start, and return once code can run (raise ``ToolError`` if it cannot)."""

    @abc.abstractmethod
    async def run(self, code: str, *, timeout: float, sink: Sink) -> Outcome:
        """Run ``code``; after ``timeout`` seconds interrupt it, and report how it ended."""

    @abc.abstractmethod
    async def interrupt(self) -> bool:
        """Interrupt running code; True when the executor is idle again and kept its state."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Stop for good, with every process started; safe to call more than once."""

    @abc.abstractmethod
    def kill(self) -> None:
        """Stop at once without waiting (from any thread, at exit, when cancelled)."""

    @property
    @abc.abstractmethod
    def alive(self) -> bool:
        """Whether the executor is started and still running."""
