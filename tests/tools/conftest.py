"""One sandboxed python tool shared by the python tool's tests (its warm pool saves time)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import harmony_agent as ha
from harmony_agent.tools import SandboxLimits, Tool, ToolCall


@pytest.fixture(scope="session")
def python_tool() -> Iterator[ha.PythonTool]:
    """Sandboxed, 5 s per call, 1 GiB of memory, 64 processes, two kernels kept warm."""
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
