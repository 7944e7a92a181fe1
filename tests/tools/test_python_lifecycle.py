"""Kernels never leak: after close, cancellation, errors and process exit; runs in parallel."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.tools import ToolCall
from tests.tools._kernels import kernel_dir, processes_mentioning, wait_gone
from tests.tools.conftest import requires_sandbox, run_code

pytestmark = requires_sandbox

ROOT = Path(__file__).resolve().parents[2]


def _exists(path: str | Path) -> bool:
    return Path(path).exists()


async def _started(tool: ha.Tool) -> tuple[str, set[int]]:
    """Start the kernel of a run's tool; its directory and the pids of its processes."""
    await run_code(tool, "pass")
    where = kernel_dir(tool.state)  # type: ignore[attr-defined]
    pids = processes_mentioning(where)
    assert len(pids) >= 2  # bubblewrap and the kernel (when sandboxed)
    return where, pids


async def test_no_kernel_left_after_a_run(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        where, pids = await _started(run)
    assert not wait_gone(pids)
    assert not _exists(where)  # its connection files are gone too


async def test_no_kernel_left_after_an_error_in_the_run(python_tool: ha.PythonTool):
    with pytest.raises(RuntimeError, match="boom"):
        async with python_tool.session() as run:
            _, pids = await _started(run)
            raise RuntimeError("boom")
    assert not wait_gone(pids)


async def test_no_kernel_left_when_a_run_is_cancelled(python_tool: ha.PythonTool):
    started: asyncio.Queue[set[int]] = asyncio.Queue()

    async def long_run() -> None:
        async with python_tool.session() as run:
            _, pids = await _started(run)
            await started.put(pids)
            await run_code(run, "import time\ntime.sleep(60)")

    task = asyncio.ensure_future(long_run())
    pids = await asyncio.wait_for(started.get(), 30)
    await asyncio.sleep(0.3)  # the sleep is running in the kernel now
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not wait_gone(pids)


def test_no_kernel_left_when_an_agent_run_fails():
    calls = 0

    def backend(prompt: list[int], params: ha.SamplingParams) -> list[int]:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise RuntimeError("engine down")
        enc = ha.load_encoding()
        return enc.encode(
            "<|channel|>analysis to=python code<|message|>import os\nos.getpid()<|call|>",
            allowed_special="all",
        )

    with ha.PythonTool(timeout=5, pool_size=0) as tool:
        before = processes_mentioning(str(tool.workdir))
        with pytest.raises(RuntimeError, match="engine down"):
            ha.Agent(backend, tools=[tool]).run("go")
        assert not wait_gone(processes_mentioning(str(tool.workdir)) - before)
        assert tool._pool.live == 0


async def test_eight_runs_in_parallel_each_with_its_own_kernel():
    async with ha.PythonTool(timeout=20, pool_size=0, max_kernels=8) as tool:

        async def one(i: int) -> tuple[str, str]:
            async with tool.session() as run:
                await run_code(run, f"x = {i}")
                await asyncio.sleep(0.1)
                return await run_code(run, "x"), kernel_dir(run.state)  # type: ignore[attr-defined]

        results = await asyncio.gather(*(one(i) for i in range(8)))
        assert [value for value, _ in results] == [str(i) for i in range(8)]
        assert len({where for _, where in results}) == 8
        assert tool._pool.live <= 8


async def test_runs_beyond_the_cap_wait_for_a_kernel():
    async with ha.PythonTool(timeout=20, pool_size=0, max_kernels=1) as tool:
        seen: list[int] = []

        async def one(i: int) -> str:
            async with tool.session() as run:
                answer = await run_code(run, f"{i} * 2")
                seen.append(tool._pool.live)
                await asyncio.sleep(0.2)  # the other run waits meanwhile
                return answer

        assert await asyncio.gather(one(1), one(2)) == ["2", "4"]
        assert max(seen) == 1


async def test_close_stops_warm_kernels_and_refuses_new_calls():
    tool = ha.PythonTool(timeout=5, pool_size=1)
    async with tool.session() as run:
        await run_code(run, "pass")
    await asyncio.sleep(0.5)
    pids = processes_mentioning(str(tool.workdir))
    await tool.aclose()
    assert not wait_gone(pids)
    with pytest.raises(ha.ToolError, match="closed"):
        await tool.call(ToolCall("python", "1"))


def test_a_forgotten_tool_kills_its_kernels_when_collected():
    import gc

    tool = ha.PythonTool(timeout=5, pool_size=1)
    workdir = str(tool.workdir)
    deadline = time.monotonic() + 30
    while len(processes_mentioning(workdir)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the warm kernel starting
    pids = processes_mentioning(workdir)
    assert pids
    del tool
    gc.collect()
    assert not wait_gone(pids)


_CHILD = """
import asyncio, os, signal, sys
import harmony_agent as ha
from harmony_agent.tools import ToolCall

async def main():
    tool = ha.PythonTool(timeout=5, sandbox=sys.argv[1], pool_size=1)
    async with tool.session() as run:
        await run.call(ToolCall("python", "x = 1"))
        print(run.state.kernel._dir, flush=True)
        sys.stdin.readline()  # the test has seen the kernel's processes
        if sys.argv[2] == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
    print(tool.workdir, flush=True)
    await asyncio.sleep(0.5)  # the warm kernel is up; exit without closing the tool

asyncio.run(main())
"""


@pytest.mark.parametrize(
    ("sandbox", "how"), [("auto", "exit"), ("auto", "kill"), ("none", "exit"), ("none", "kill")]
)
def test_no_kernel_left_when_the_process_exits(sandbox: str, how: str):
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_CHILD), sandbox, how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
    )
    assert child.stdout is not None
    where = child.stdout.readline().strip()
    assert where, "the child did not start a kernel"
    pids = processes_mentioning(where)
    assert pids
    assert child.stdin is not None
    child.stdin.write("\n")
    child.stdin.flush()
    workdir = child.stdout.readline().strip()
    if workdir:
        pids |= processes_mentioning(workdir)
    child.communicate(timeout=30)
    assert child.returncode == (-signal.SIGKILL if how == "kill" else 0)
    assert not wait_gone(pids, timeout=10)
