"""The Jupyter executor: one ipykernel process, reached through ``jupyter_client``.

The kernel listens on IPC sockets in a private directory (TCP on loopback would be the
sandbox's own loopback, not the host's). Interrupts go through the control channel, so
they reach the kernel even when a wrapper (bubblewrap) is its parent. Everything here
runs on the kernels' loop (see ``_thread``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import tempfile
from pathlib import Path
from queue import Empty
from typing import Any

from harmony_agent.errors import ToolError
from harmony_agent.tools.python._executor import Executor, Outcome, Output, Sink
from harmony_agent.tools.python._sandbox import Launch, Sandbox

__all__ = ["JupyterExecutor"]

# ipykernel, started with a group-writable umask (kernels of one tool may run as
# different uids sharing the workdir). ipykernel buffers stdout and stderr separately
# and flushes each on a timer of its own, so "print(a); print(b, file=sys.stderr)" could
# reach us as b, a: a write to one stream first flushes the other when the other was
# written last, so output arrives in the order it was written (long runs of prints pay
# nothing). Patched on the class before the kernel starts: IPython re-wraps each
# stream's write for every cell, and would undo a patch made inside one.
_LAUNCHER = """\
import os
os.umask(0o002)
from ipykernel.iostream import OutStream
_write, _last = OutStream.write, [None]
def _ordered_write(self, text):
    if _last[0] is not None and _last[0] is not self:
        _last[0].flush()
    _last[0] = self
    return _write(self, text)
OutStream.write = _ordered_write
from ipykernel.kernelapp import launch_new_instance
launch_new_instance()
"""
_KERNEL_OPTIONS = (
    "--HistoryManager.enabled=False",
    "--InteractiveShell.xmode=Plain",
    "--InteractiveShell.colors=nocolor",
    "--IPKernelApp.quiet=True",
)
_POLL = 0.1  # seconds between checks that the process is still there
_STDERR_TAIL = 4000


class JupyterExecutor(Executor):
    """A stateful IPython kernel, possibly in a sandbox.

    Args:
        sandbox: wraps the kernel's command line.
        workdir: the kernel's working directory (writable).
        python: the interpreter that runs ipykernel.
        startup_timeout: seconds to wait for the kernel to answer.
        interrupt_grace: seconds an interrupted kernel has to become idle again.
    """

    def __init__(
        self,
        sandbox: Sandbox,
        workdir: Path,
        *,
        python: str,
        startup_timeout: float = 30.0,
        interrupt_grace: float = 2.0,
    ) -> None:
        self.sandbox = sandbox
        self.workdir = workdir
        self.python = python
        self.startup_timeout = startup_timeout
        self.interrupt_grace = interrupt_grace
        self._dir: Path | None = None
        self._launch: Launch | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._client: Any = None
        self._stderr = ""
        self._stderr_task: asyncio.Task[None] | None = None
        self._current: str | None = None
        self._closed = False  # killed or closing: no more code runs
        self._finished = False  # close() has run

    # -- Executor ---------------------------------------------------------------------
    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.returncode is None and not self._closed

    @property
    def pid(self) -> int | None:
        """The pid of the process started (bubblewrap's when sandboxed)."""
        return None if self._proc is None else self._proc.pid

    async def start(self) -> None:
        from jupyter_client.asynchronous.client import AsyncKernelClient
        from jupyter_client.connect import write_connection_file

        _sweep_once()
        self._dir = Path(tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-"))
        conn_file, info = write_connection_file(
            str(self._dir / "kernel.json"),
            transport="ipc",
            ip=str(self._dir / "k"),
            key=secrets.token_hex(16).encode(),
        )
        argv = [self.python, "-c", _LAUNCHER, "-f", conn_file, *_KERNEL_OPTIONS]
        self._launch = self.sandbox.launch(argv, self._dir, self.workdir)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._launch.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE,
                env=self._launch.env,
                cwd=self._launch.cwd,
                start_new_session=True,
            )
        except OSError as exc:
            await self.close()
            raise ToolError(f"the Python kernel could not be started: {exc}") from None
        self._stderr_task = asyncio.ensure_future(self._read_stderr())
        client = AsyncKernelClient()
        client.load_connection_info(info)
        client.start_channels()
        self._client = client
        try:
            await self._wait_ready()
        except BaseException:
            await self.close()
            raise

    async def run(self, code: str, *, timeout: float, sink: Sink) -> Outcome:
        if not self.alive:
            return Outcome("died", self.exit_reason())
        client = self._client
        await self._drain(client.shell_channel)
        msg_id: str = client.execute(code, store_history=True, allow_stdin=False)
        self._current = msg_id
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        failed = False
        try:
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    interrupted = await self._interrupt(msg_id, sink)
                    return Outcome("timeout" if interrupted else "hung")
                msg = await self._next(client.iopub_channel, min(remaining, _POLL))
                if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if _is_idle(msg):
                    return Outcome("error" if failed else "ok")
                output = _to_output(msg)
                if output is not None:
                    failed = failed or output.kind == "error"
                    sink(output)
        except _Died:
            return Outcome("died", self.exit_reason())
        finally:
            self._current = None

    async def interrupt(self) -> bool:
        if self._current is None:
            return self.alive
        return await self._interrupt(self._current, lambda output: None)

    async def close(self) -> None:
        if self._finished:
            return
        self._finished = True
        self.kill()
        if self._proc is not None:
            with contextlib.suppress(asyncio.TimeoutError, ProcessLookupError):
                await asyncio.wait_for(self._proc.wait(), 10)
        if self._stderr_task is not None:
            self._stderr_task.cancel()
        if self._client is not None:
            client, self._client = self._client, None
            with contextlib.suppress(Exception):
                client.stop_channels()
        self._cleanup()

    def kill(self) -> None:
        # Any thread may call this: only a signal and file removal, no socket is touched
        # (close() stops the client's channels on the kernels' loop).
        self._closed = True
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        if self._dir is not None:  # the connection files; the uid is released by close()
            shutil.rmtree(self._dir, ignore_errors=True)

    # -- details ----------------------------------------------------------------------
    def exit_reason(self) -> str:
        """Why the process ended, as words (``"killed by SIGSEGV"``), or ``""``."""
        code = None if self._proc is None else self._proc.returncode
        if code is None:
            return ""
        if code < 0 or code > 128:  # a signal; bubblewrap reports it as 128 + signal
            number = -code if code < 0 else code - 128
            try:
                name = signal.Signals(number).name
            except ValueError:
                name = f"signal {number}"
            return f"killed by {name}{_MEANING.get(name, '')}"
        return f"exited with status {code}"

    def _cleanup(self) -> None:
        if self._launch is not None:
            self._launch.release()
            self._launch = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None

    async def _wait_ready(self) -> None:
        """Until the kernel answers on shell and its output reaches us on iopub."""
        client = self._client
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_timeout
        while loop.time() < deadline:
            msg_id = client.kernel_info()
            try:
                if await self._reply(client.shell_channel, msg_id, deadline) and (
                    await self._reply(client.iopub_channel, msg_id, loop.time() + 0.25)
                ):
                    await self._drain(client.iopub_channel)
                    await self._warm_up(deadline)
                    return
            except _Died:
                await asyncio.sleep(0)  # let the stderr reader catch up
                raise ToolError(
                    f"the Python kernel failed to start ({self.exit_reason()}): "
                    f"{self._stderr.strip()[-1500:] or 'no error output'}"
                ) from None
        raise ToolError(f"the Python kernel did not start within {self.startup_timeout:g} s")

    async def _warm_up(self, deadline: float) -> None:
        """Run one silent cell, so the first real call does not pay IPython's first-run costs."""
        msg_id = self._client.execute("None", silent=True, store_history=False)
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            msg = await self._next(self._client.iopub_channel, _POLL)
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id and _is_idle(msg):
                break
        await self._drain(self._client.shell_channel)

    async def _reply(self, channel: Any, msg_id: str, deadline: float) -> bool:
        """Wait for a message whose parent is ``msg_id``; False at the deadline."""
        loop = asyncio.get_running_loop()
        while (remaining := deadline - loop.time()) > 0:
            msg = await self._next(channel, min(remaining, _POLL))
            if msg is not None and msg["parent_header"].get("msg_id") == msg_id:
                return True
        return False

    async def _interrupt(self, msg_id: str, sink: Sink) -> bool:
        """Send an interrupt and wait ``interrupt_grace`` seconds for the run to end."""
        client = self._client
        if client is None or not self.alive:
            return False
        client.control_channel.send(client.session.msg("interrupt_request", {}))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.interrupt_grace
        try:
            while (remaining := deadline - loop.time()) > 0:
                msg = await self._next(client.iopub_channel, min(remaining, _POLL))
                if msg is None or msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if _is_idle(msg):
                    await self._drain(client.control_channel)
                    return True
                output = _to_output(msg)
                if output is not None:
                    sink(output)
        except _Died:
            pass
        return False

    async def _next(self, channel: Any, timeout: float) -> dict[str, Any] | None:
        """The next message on ``channel`` within ``timeout``; raises _Died if gone."""
        try:
            msg: dict[str, Any] = await channel.get_msg(timeout=timeout)
            return msg
        except Empty:
            if not self.alive:
                raise _Died from None
            return None
        except Exception:
            if self._closed:  # closed under our feet (the tool was closed mid-call)
                raise _Died from None
            raise

    async def _drain(self, channel: Any) -> None:
        with contextlib.suppress(Empty):
            while True:
                await channel.get_msg(timeout=0)

    async def _read_stderr(self) -> None:
        assert self._proc is not None and self._proc.stderr is not None
        while chunk := await self._proc.stderr.read(4096):
            self._stderr = (self._stderr + chunk.decode(errors="replace"))[-_STDERR_TAIL:]


_MEANING = {
    "SIGXCPU": ": its CPU time limit was reached",
    "SIGKILL": ", e.g. for using too much memory",
    "SIGSEGV": ": a segmentation fault",
    "SIGXFSZ": ": a file grew past the file size limit",
}


_PREFIX = "harmony-agent-kernel-"
_swept = False


def _sweep_once() -> None:
    """Remove the kernel directories of processes that are gone (killed, so no clean-up)."""
    global _swept
    if _swept:
        return
    _swept = True
    for entry in Path(tempfile.gettempdir()).glob(f"{_PREFIX}*-*"):
        owner = entry.name[len(_PREFIX) :].split("-", 1)[0]
        if not owner.isdigit():
            continue
        try:
            os.kill(int(owner), 0)
        except ProcessLookupError:
            shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass  # alive (someone else's)


class _Died(Exception):
    """The kernel process is gone."""


def _is_idle(msg: dict[str, Any]) -> bool:
    return bool(msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle")


_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour and cursor codes."""
    return _ANSI.sub("", text)


def _to_output(msg: dict[str, Any]) -> Output | None:
    """A kernel message as an :class:`Output`, or None for messages that show nothing."""
    kind, content = msg["msg_type"], msg["content"]
    if kind == "stream":
        return Output("stderr" if content.get("name") == "stderr" else "stdout", content["text"])
    if kind in ("execute_result", "display_data"):
        data = content.get("data", {})
        png = data.get("image/png")
        if isinstance(png, str):
            return Output("image", data.get("text/plain", ""), base64.b64decode(png))
        text = data.get("text/plain")
        return None if text is None else Output("result", strip_ansi(text))
    if kind == "error":
        lines = [strip_ansi(line) for line in content.get("traceback") or ()]
        text = "\n".join(lines) or f"{content.get('ename')}: {content.get('evalue')}"
        return Output("error", text)
    return None
