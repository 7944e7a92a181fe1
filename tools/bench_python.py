"""Python tool benchmarks: per-call overhead against bare jupyter_client, warm first
calls, and kernel start-up with and without the sandbox.

    .venv/bin/python tools/bench_python.py
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _benchutil import amedian_seconds, median_seconds, ms  # noqa: E402

import harmony_agent as ha  # noqa: E402
from harmony_agent.tools import ToolCall  # noqa: E402
from harmony_agent.tools.python import _thread  # noqa: E402
from harmony_agent.tools.python._jupyter import _KERNEL_OPTIONS, JupyterExecutor  # noqa: E402
from harmony_agent.tools.python._sandbox import SandboxLimits, resolve  # noqa: E402

CALLS = 200
CODE = "print(1)"


def bare_per_call() -> float:
    """jupyter_client as documented: a local unsandboxed kernel, execute_interactive."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(stderr=subprocess.DEVNULL)
    try:
        return median_seconds(
            lambda: client.execute_interactive(CODE, output_hook=lambda msg: None, timeout=10),
            calls=CALLS,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _same_kernel() -> tuple[Any, Any]:
    """A bare kernel started like ours (IPC transport, history off), without a sandbox."""
    from jupyter_client.manager import KernelManager

    manager = KernelManager(transport="ipc", ip=str(Path(tempfile.mkdtemp()) / "k"))
    manager.start_kernel(extra_arguments=list(_KERNEL_OPTIONS), stderr=subprocess.DEVNULL)
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    return manager, client


def bare_minimal_per_call(same_options: bool = False) -> float:
    """jupyter_client at its leanest: execute, then read iopub until the kernel is idle."""
    from jupyter_client.manager import start_new_kernel

    if same_options:
        manager, client = _same_kernel()
    else:
        manager, client = start_new_kernel(stderr=subprocess.DEVNULL)

    def once() -> None:
        msg_id = client.execute(CODE)
        while True:
            msg = client.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") == msg_id and (
                msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle"
            ):
                break

    try:
        return median_seconds(once, calls=CALLS)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


async def ours_per_call(sandbox: str) -> float:
    mode: ha.tools.python.SandboxMode = "none" if sandbox == "none" else "auto"
    tool = ha.PythonTool(timeout=30, sandbox=mode, pool_size=1)
    async with tool, tool.session() as run:
        call = ToolCall("python", CODE)
        (reply,) = await run.call(call)
        assert reply.text == "1"
        return await amedian_seconds(lambda: run.call(call), calls=CALLS)


async def first_call_warm(rounds: int = 10) -> float:
    async with ha.PythonTool(timeout=30, pool_size=1) as tool:
        samples = []
        for _ in range(rounds):
            await _thread.call(_until_warm(tool))
            await asyncio.sleep(0.3)  # let the new kernel settle
            async with tool.session() as run:
                t = time.perf_counter()
                (reply,) = await run.call(ToolCall("python", CODE))
                samples.append(time.perf_counter() - t)
            assert reply.text == "1"
    return statistics.median(samples)


async def _until_warm(tool: ha.PythonTool) -> None:
    """Wait on the kernels' loop until the pool holds a started kernel."""
    pool = tool._pool
    async with pool._condition():
        await pool._condition().wait_for(lambda: bool(pool._warm))


async def startup(sandbox: str, rounds: int = 5) -> float:
    workdir = Path(tempfile.mkdtemp(prefix="bench-python-"))
    box = resolve(sandbox, SandboxLimits(), python=sys.executable)
    box.prepare_workdir(workdir)

    async def once() -> float:
        kernel = JupyterExecutor(box, workdir, python=sys.executable)
        t = time.perf_counter()
        await kernel.start()
        elapsed = time.perf_counter() - t
        await kernel.close()
        return elapsed

    samples = [await _thread.call(once()) for _ in range(rounds)]
    return statistics.median(samples)


def bare_startup(rounds: int = 5) -> float:
    from jupyter_client.manager import start_new_kernel

    samples = []
    for _ in range(rounds):
        t = time.perf_counter()
        manager, client = start_new_kernel(stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - t)
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return statistics.median(samples)


def main() -> None:
    bare = bare_per_call()
    lean = bare_minimal_per_call()
    same = bare_minimal_per_call(same_options=True)
    sandboxed = asyncio.run(ours_per_call("auto"))
    plain = asyncio.run(ours_per_call("none"))
    rows = [
        (f"per call, {CODE!r}, median of {CALLS}", None),
        ("bare jupyter_client, unsandboxed kernel (execute_interactive)", bare),
        ("bare jupyter_client, unsandboxed kernel (execute + read iopub)", lean),
        ("bare jupyter_client, kernel options as ours (IPC, no history)", same),
        ("PythonTool, bubblewrap sandbox", sandboxed),
        ("  overhead vs bare (execute_interactive)", sandboxed - bare),
        ("  overhead vs bare (execute + read iopub)", sandboxed - lean),
        ("  overhead vs bare with our kernel options", sandboxed - same),
        ("PythonTool, sandbox='none'", plain),
        ("first call of a run, warm pool (median of 10)", None),
        ("PythonTool, bubblewrap sandbox", asyncio.run(first_call_warm())),
        ("kernel start-up until it answers (median of 5)", None),
        ("bubblewrap sandbox + limits", asyncio.run(startup("auto"))),
        ("no sandbox", asyncio.run(startup("none"))),
        ("bare jupyter_client start_new_kernel()", bare_startup()),
    ]
    for label, value in rows:
        print(label if value is None else f"  {label:<64} {ms(value)}")


if __name__ == "__main__":
    main()
