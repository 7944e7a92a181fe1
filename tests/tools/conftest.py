"""One sandboxed python tool shared by the python tool's tests (its warm pool saves time)."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

import harmony_agent as ha
from harmony_agent.tools import SandboxLimits, Tool, ToolCall
from harmony_agent.tools.python._sandbox import resolve


def _sandbox_problem() -> str:
    """Why this machine cannot run a sandboxed kernel ('' when it can)."""
    try:
        resolve("auto", SandboxLimits(), python=sys.executable)
    except ha.ToolError as exc:
        return str(exc)
    return ""


_PROBLEM = _sandbox_problem()
#: For tests that need a real sandboxed kernel: skipped, saying why, where none can run
#: (``make test`` installs bubblewrap when it runs as root).
requires_sandbox = pytest.mark.skipif(bool(_PROBLEM), reason=f"no sandbox here: {_PROBLEM}")


@pytest.fixture(scope="session")
def python_tool() -> Iterator[ha.PythonTool]:
    """Sandboxed, 5 s per call, 1 GiB of memory, 64 processes, two kernels kept warm."""
    if _PROBLEM:
        pytest.skip(f"no sandbox here: {_PROBLEM}")
    tool = ha.PythonTool(
        timeout=5,
        limits=SandboxLimits(memory=1 << 30, processes=64),
        pool_size=2,
        max_kernels=12,
        output_limit=2000,
        interrupt_grace=1.5,
    )
    with tool:
        yield tool


async def run_code(tool: Tool, code: str, recipient: str = "python") -> str:
    """What the model reads back after sending ``code`` to ``tool``."""
    (reply,) = await tool.call(ToolCall(recipient, code, "code", "analysis"))
    assert reply.name == recipient and reply.channel == "analysis"
    return reply.text
