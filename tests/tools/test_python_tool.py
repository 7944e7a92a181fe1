"""PythonTool with a real sandboxed kernel: state, timeouts, crashes, output, the agent."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.tools import Tool, ToolCall
from harmony_agent.tools.python._output import NO_OUTPUT
from tests.tools.conftest import run_code

# A 1x1 PNG, shown the way matplotlib's inline backend shows figures.
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


async def test_state_persists_across_calls_of_a_run(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        assert await run_code(run, "x = 41\nimport math") == NO_OUTPUT
        assert await run_code(run, "print(x + 1, math.sqrt(16))") == "42 4.0"
        assert await run_code(run, "x") == "41"
    async with python_tool.session() as other:  # each run has a kernel of its own
        assert "NameError: name 'x' is not defined" in await run_code(other, "x")


async def test_output_in_order_with_results_and_errors(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        text = await run_code(
            run, "import sys\nprint('out')\nprint('err', file=sys.stderr)\ndisplay(7)\n8"
        )
        assert text == "out\nerr\n7\n8"
        # ipykernel flushes the two streams on timers of their own: still in order
        text = await run_code(
            run, "import sys\nfor i in range(6):\n    print(i)\n    print(-i, file=sys.stderr)"
        )
        assert text.split() == ["0", "0", "1", "-1", "2", "-2", "3", "-3", "4", "-4", "5", "-5"]
        text = await run_code(run, "print('before')\n1/0")
        assert text.startswith("before\nTraceback (most recent call last):")
        assert text.endswith("ZeroDivisionError: division by zero")
        assert "\x1b[" not in text and text.count("ZeroDivisionError") == 1


async def test_tracebacks_keep_what_matters(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        text = await run_code(run, "def f(n):\n    return f(n + 1)\nf(0)")
        assert "RecursionError" in text and "repeated" in text and len(text) < 1000
        text = await run_code(run, "input('name? ')")
        assert "StdinNotImplementedError" in text  # answered at once, no waiting
        assert "ipykernel" not in text  # the kernel's own frames are left out
        text = await run_code(run, "def broken(:\n    pass")
        assert "SyntaxError" in text and "Traceback" not in text


async def test_huge_output_keeps_head_and_tail(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        text = await run_code(run, "print('\\n'.join(map(str, range(200_000))))")
        assert text.startswith("0\n1\n2\n") and text.endswith("199998\n199999")
        assert "characters omitted ...]" in text
        assert len(text) < 2000 + 100
        text = await run_code(run, "for i in range(20_000): print(i)")  # many small writes
        assert text.startswith("0\n1\n2\n") and text.endswith("19998\n19999")


async def test_images_are_saved_in_the_workdir(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        code = f"display({{'image/png': '{PNG}', 'text/plain': '<Figure>'}}, raw=True)"
        text = await run_code(run, code)
        assert text.startswith("[image saved to /mnt/data/output_") and "<Figure>" not in text
        name = text.split("/mnt/data/")[1].rstrip("]")
        assert (python_tool.workdir / name).read_bytes() == base64.b64decode(PNG)
        assert await run_code(run, f"len(open('/mnt/data/{name}', 'rb').read())") == "67"


async def test_timeout_interrupts_and_state_survives(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        await run_code(run, "x = 'kept'")
        text = await run_code(run, "import time\nprint('started')\ntime.sleep(60)")
        assert text.startswith("started")
        assert "KeyboardInterrupt" in text
        assert text.endswith(
            "[Execution timed out after 5 seconds and was interrupted. Variables and "
            "imports are kept.]"
        )
        assert await run_code(run, "x") == "'kept'"


async def test_code_that_ignores_the_interrupt_restarts_the_kernel(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        await run_code(run, "x = 1")
        code = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass"
        text = await run_code(run, code)
        assert "did not stop when interrupted, so the kernel was restarted" in text
        assert "all variables and imports are lost; files in /mnt/data are kept" in text
        assert "NameError" in await run_code(run, "x")
        assert await run_code(run, "print('fresh')") == "fresh"


async def test_a_crashed_kernel_restarts_with_a_clear_message(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        await run_code(run, "x = 1")
        text = await run_code(run, "import ctypes\nctypes.string_at(0)")
        assert "The kernel crashed while running this code (killed by SIGSEGV" in text
        assert "all variables and imports are lost" in text
        assert "NameError" in await run_code(run, "x")
        # A kernel that dies between calls: the next call says so, then runs.
        await run_code(
            run,
            "import os, signal, threading\n"
            "threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGKILL)).start()",
        )
        await asyncio.sleep(1.0)
        text = await run_code(run, "print('again')")
        assert text.startswith("[The kernel had stopped (killed by SIGKILL")
        assert text.endswith("again")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("```python\nprint(3)\n```", "print(3)"),
        ('{"code": "print(3)"}', "print(3)"),
        ("  print(3)\n", "print(3)"),
    ],
)
def test_code_of_accepts_what_the_model_writes(body: str, code: str):
    from harmony_agent.tools.python import code_of

    assert code_of(ToolCall("functions.python", body, "<|constrain|>json")) == code


def test_a_dict_sent_to_python_as_code_stays_code():
    from harmony_agent.tools.python import code_of

    assert code_of(ToolCall("python", '{"code": "x"}', "code")) == '{"code": "x"}'


async def test_empty_code_is_an_error_for_the_model(python_tool: ha.PythonTool):
    with pytest.raises(ha.ToolError, match="no code"):
        await python_tool.call(ToolCall("python", "   "))


def test_system_message_declares_the_truth(python_tool: ha.PythonTool):
    assert python_tool.placement == "system" and python_tool.names == ("python",)
    text = python_tool.namespace.description or ""
    assert "time out after 5.0 seconds" in text
    assert "The drive at '/mnt/data' can be used to save and persist user files." in text
    assert text.endswith("Internet access for this session is disabled.")
    assert "UNKNOWN" not in text
    assert python_tool.timeout is not None and python_tool.timeout > 5 + 1.5


def test_agent_end_to_end_with_a_scripted_model(python_tool: ha.PythonTool):
    backend = ha.backends.Scripted(
        [
            "<|channel|>analysis to=python code<|message|>print(1+1)<|call|>",
            "<|channel|>commentary to=functions.python<|message|>40 + 2<|call|>",
            "<|channel|>final<|message|>It is 2, and then 42.<|return|>",
        ]
    )
    agent = ha.Agent(backend, tools=[python_tool])
    assert "## python" in agent.encoding.decode(agent.encoding.render(agent.system_message))
    result = agent.run("What is 1+1?")
    assert result.stop_reason == "final" and result.final_text == "It is 2, and then 42."
    tool_messages = [m for m in result.messages if m.role is ha.Role.TOOL]
    assert [(m.name, m.channel, m.text) for m in tool_messages] == [
        ("python", "analysis", "2"),
        ("functions.python", "commentary", "42"),
    ]


def test_the_tools_own_timeout_wins_over_the_agents(python_tool: ha.PythonTool):
    backend = ha.backends.Scripted(
        [
            "<|channel|>analysis to=python code<|message|>import time\ntime.sleep(60)<|call|>",
            "<|channel|>final<|message|>Too slow.<|return|>",
        ]
    )
    result = ha.Agent(backend, tools=[python_tool], tool_timeout=1).run("Wait.")
    answer = next(m for m in result.messages if m.role is ha.Role.TOOL).text
    assert answer.endswith(
        "[Execution timed out after 5 seconds and was interrupted. Variables and imports are kept.]"
    )


def test_functions_python_goes_to_a_function_of_that_name_first(python_tool: ha.PythonTool):
    from harmony_agent.tools._base import resolve, route_table

    @ha.tool
    def python(code: str) -> str:
        """A function that happens to be called python."""
        return code

    tools: list[Tool] = [python_tool]
    assert resolve(route_table(tools), "functions.python") == 0
    tools = [python_tool, python]
    assert resolve(route_table(tools), "functions.python") == 1
    assert resolve(route_table(tools), "python") == 0


def test_unsandboxed_mode_says_so_and_runs_in_the_workdir(tmp_path: Path):
    with ha.PythonTool(timeout=5, sandbox="none", workdir=tmp_path, pool_size=0) as tool:
        text = tool.namespace.description or ""
        assert f"The drive at '{tmp_path}' can be used" in text
        assert "not restricted" in text
        assert tool.sandbox == "none"

        async def go() -> str:
            async with tool.session() as run:
                return await run_code(run, "import os\nopen('f.txt', 'w').write('x')\nos.getcwd()")

        assert asyncio.run(go()) == repr(str(tmp_path))
        assert (tmp_path / "f.txt").read_text() == "x"


@pytest.mark.parametrize(
    "options",
    [
        {"timeout": 0},
        {"pool_size": 3, "max_kernels": 2},
        {"output_limit": 5},
        {"interrupt_grace": 0},
    ],
)
def test_bad_options_are_refused(options: dict[str, float]):
    with pytest.raises(ValueError):
        ha.PythonTool(sandbox="none", **options)  # type: ignore[arg-type]


def test_a_kernel_that_cannot_start_is_reported_to_the_model(tmp_path: Path):
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho 'No module named ipykernel' >&2\nexit 3\n")
    fake.chmod(0o755)
    backend = ha.backends.Scripted(
        [
            "<|channel|>analysis to=python code<|message|>print(1)<|call|>",
            "<|channel|>final<|message|>No Python today.<|return|>",
        ]
    )
    with ha.PythonTool(sandbox="none", python=str(fake), pool_size=0) as tool:
        result = ha.Agent(backend, tools=[tool]).run("Run it.")
    answer = next(m for m in result.messages if m.role is ha.Role.TOOL).text
    assert answer == (
        "Error: the Python kernel failed to start (exited with status 3): No module named ipykernel"
    )
    assert result.final_text == "No Python today."
