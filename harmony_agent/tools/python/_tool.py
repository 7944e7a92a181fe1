"""``PythonTool``: gpt-oss's ``python`` tool, a stateful Jupyter kernel in a sandbox."""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import weakref
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Literal

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Message, ToolNamespace
from harmony_agent.tools._base import Placement, Tool, ToolCall
from harmony_agent.tools.python import _thread
from harmony_agent.tools.python._jupyter import JupyterExecutor
from harmony_agent.tools.python._output import ImageSaver
from harmony_agent.tools.python._pool import KernelPool
from harmony_agent.tools.python._sandbox import SandboxLimits, resolve
from harmony_agent.tools.python._session import KernelSession, SessionConfig

__all__ = ["PythonTool", "SandboxMode"]

#: ``"auto"``: the best sandbox available (bubblewrap), or a clear error; ``"bwrap"``:
#: bubblewrap or an error; ``"none"``: no sandbox (an explicit opt-out).
SandboxMode = Literal["auto", "bwrap", "none"]

_DESCRIPTION = (
    "Use this tool to execute Python code in your chain of thought. The code will not be shown"
    " to the user. This tool should be used for internal reasoning, but not for code that is"
    " intended to be visible to the user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a"
    " stateful Jupyter notebook environment. python will respond with the output of the"
    " execution or time out after {timeout} seconds. The drive at '{data_dir}' can be used to"
    " save and persist user files. {internet}"
)
_SANDBOXED = "Internet access for this session is disabled."
_UNSANDBOXED = "Internet access for this session is not restricted by the tool."
_FENCE = re.compile(r"^```[\w+-]*[ \t]*\n(.*?)\n?```\s*$", re.DOTALL)


class PythonTool(Tool):
    """A stateful Jupyter kernel per run, sandboxed, with a wall-clock timeout per call.

    Args:
        timeout: seconds one call may run; then the code is interrupted (state kept),
            and if it does not stop the kernel is restarted (state lost).
        sandbox: ``"auto"`` (bubblewrap; a :class:`~harmony_agent.ToolError` saying how
            to install it if it cannot run), ``"bwrap"``, or ``"none"`` to run the code
            unsandboxed as this user (an explicit opt-out).
        workdir: the one writable directory, ``/mnt/data`` inside the sandbox; files
            there persist (default: a new temporary directory).
        limits: memory, processes, CPU time and file size of each kernel.
        pool_size: kernels kept started ahead of time, so a run's first call is quick.
        max_kernels: the most kernels at once; further runs wait for one to be freed.
        output_limit: characters of output returned per call (head and tail kept).
        python: the interpreter that runs the kernel (needs ``ipykernel``; default: this
            one).
        startup_timeout: seconds a kernel may take to start.
        interrupt_grace: seconds interrupted code has to stop before the kernel is
            restarted.

    Each run of an agent (each :meth:`session`) gets its own kernel, closed at the end of
    the run. Call :meth:`close` (or use ``with`` / ``async with``) to stop the warm
    kernels; they are also killed when the tool is garbage collected or the process
    exits.
    """

    placement: ClassVar[Placement] = "system"

    def __init__(
        self,
        timeout: float = 120.0,
        sandbox: SandboxMode = "auto",
        workdir: str | os.PathLike[str] | None = None,
        *,
        limits: SandboxLimits | None = None,
        pool_size: int = 1,
        max_kernels: int = 16,
        output_limit: int = 10_000,
        python: str | None = None,
        startup_timeout: float = 60.0,
        interrupt_grace: float = 2.0,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be positive, got {timeout!r}")
        if not 0 <= pool_size <= max_kernels or output_limit < 100:
            raise ValueError(
                "need 0 <= pool_size <= max_kernels and output_limit >= 100, got "
                f"pool_size={pool_size}, max_kernels={max_kernels}, output_limit={output_limit}"
            )
        if not (startup_timeout > 0 and interrupt_grace > 0):
            raise ValueError("startup_timeout and interrupt_grace must be positive")
        self.limits = limits or SandboxLimits()
        self.python = python or sys.executable
        self._sandbox = resolve(sandbox, self.limits, python=self.python)
        #: The sandbox in use: ``"bwrap"`` or ``"none"``.
        self.sandbox: Literal["bwrap", "none"] = "bwrap" if self._sandbox.sandboxed else "none"
        if workdir is None:
            self.workdir = Path(tempfile.mkdtemp(prefix="harmony-agent-python-"))
        else:
            self.workdir = Path(workdir).resolve()
            self.workdir.mkdir(parents=True, exist_ok=True)
        self._sandbox.prepare_workdir(self.workdir)
        self.code_timeout = float(timeout)
        # The agent's own limit on the call: past the tool's interrupt and restart, so
        # that the model gets the tool's message rather than a generic one.
        self.timeout = self.code_timeout + interrupt_grace + startup_timeout + 5.0
        data_dir = self._sandbox.data_dir(self.workdir)
        self._namespace = ToolNamespace(
            name="python",
            description=_DESCRIPTION.format(
                timeout=self.code_timeout,
                data_dir=data_dir,
                internet=_SANDBOXED if self._sandbox.sandboxed else _UNSANDBOXED,
            ),
        )
        self._config = SessionConfig(self.code_timeout, output_limit, data_dir, _limits(self))
        self._images = ImageSaver(self.workdir, data_dir)
        sandbox_, workdir_, python_ = self._sandbox, self.workdir, self.python

        def factory() -> JupyterExecutor:
            return JupyterExecutor(
                sandbox_,
                workdir_,
                python=python_,
                startup_timeout=startup_timeout,
                interrupt_grace=interrupt_grace,
            )

        self._pool = KernelPool(factory, size=pool_size, max_kernels=max_kernels)
        self._default: KernelSession | None = None
        self._closed = False
        self._finalizer = weakref.finalize(self, self._pool.kill_all)
        _thread.loop().call_soon_threadsafe(self._pool.fill)

    # -- Tool -----------------------------------------------------------------------------
    @property
    def namespace(self) -> ToolNamespace:
        return self._namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Run the call's code in the tool's own kernel (shared by direct calls)."""
        if self._default is None:
            self._default = self._new_session()
        return await _answer(self._default, call)

    def session(self) -> AbstractAsyncContextManager[Tool]:
        """A tool whose calls share one fresh kernel, closed when the run ends."""
        return self._run()

    # -- lifetime -------------------------------------------------------------------------
    def close(self) -> None:
        """Stop every kernel of this tool (warm ones and those of runs still going)."""
        if self._closed:
            return
        self._closed = True
        self._pool.kill_all()
        _thread.call_blocking(self._pool.close(), timeout=30)

    async def aclose(self) -> None:
        """:meth:`close` from async code."""
        if self._closed:
            return
        self._closed = True
        self._pool.kill_all()
        await _thread.call(self._pool.close(), shield=True)

    def __enter__(self) -> PythonTool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> PythonTool:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"PythonTool(timeout={self.code_timeout:g}, sandbox={self.sandbox!r}, "
            f"workdir={str(self.workdir)!r})"
        )

    # -- details --------------------------------------------------------------------------
    def _new_session(self) -> KernelSession:
        if self._closed:
            raise ToolError("the python tool is closed")
        return KernelSession(self._pool, self._config, self._images)

    @asynccontextmanager
    async def _run(self) -> AsyncIterator[Tool]:
        state = self._new_session()
        try:
            yield _RunTool(self, state)
        finally:
            state.kill()  # at once, even when the run is being cancelled
            await _thread.call(state.close(), shield=True)


class _RunTool(Tool):
    """The python tool as one run sees it: its own kernel."""

    placement: ClassVar[Placement] = "system"

    def __init__(self, parent: PythonTool, state: KernelSession) -> None:
        self.parent, self.state = parent, state  # the parent keeps the pool alive
        self.timeout = parent.timeout

    @property
    def namespace(self) -> ToolNamespace:
        return self.parent.namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        return await _answer(self.state, call)


async def _answer(state: KernelSession, call: ToolCall) -> list[Message]:
    code = code_of(call)
    text = await _thread.call(state.execute(code))
    return [call.reply(text)]


def code_of(call: ToolCall) -> str:
    """The source code a call carries.

    The message body as written; also accepted: code in a Markdown fence, and, for a
    call made like a function call (to ``functions.python`` or with a JSON content type),
    a JSON object with a ``code`` field.
    """
    text = call.arguments.strip()
    like_a_function = call.namespace == "functions" or "json" in (call.content_type or "")
    if like_a_function and text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, dict):
            code = value.get("code", value.get("source"))
            if isinstance(code, str):
                text = code.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1).strip()
    if not text:
        raise ToolError("the message carries no code: send the Python source to run")
    return text


def _limits(tool: PythonTool) -> str:
    if tool.sandbox == "none":
        return "the code runs unsandboxed"
    parts = []
    if tool.limits.memory:
        parts.append(f"memory is limited to {tool.limits.memory / (1 << 30):g} GiB")
    if tool.limits.cpu_time:
        parts.append(f"CPU time to {tool.limits.cpu_time} s per session")
    return ", ".join(parts) or "no limits are set"
