"""The python tool's sandbox holds: no network, no writes outside /mnt/data, limits bind."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import uuid
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.tools import SandboxLimits
from tests.tools.conftest import requires_sandbox, run_code

ROOT = Path(__file__).resolve().parents[2]


def _exists(path: str | Path) -> bool:
    return Path(path).exists()


def _can_start_a_process() -> bool:
    return subprocess.run(["true"]).returncode == 0


async def test_network_is_blocked(python_tool: ha.PythonTool):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=2).close()  # the host reaches it
        code = (
            "import socket\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2)\n"
            "    print('connected')\n"
            "except OSError as e:\n"
            "    print('refused', type(e).__name__)"
        )
        async with python_tool.session() as run:
            assert (await run_code(run, code)).startswith("refused")
            text = await run_code(run, "import socket\nsocket.getaddrinfo('example.com', 80)")
            assert "gaierror" in text


async def test_writes_outside_mnt_data_fail_and_leave_nothing(python_tool: ha.PythonTool):
    marker = ROOT / "tests" / f"_sandbox_probe_{uuid.uuid4().hex}"
    code = (
        "import os\n"
        f"for path in ['/etc/probe', '/usr/probe', {str(marker)!r}, os.path.expanduser('~/p')]:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('wrote', path)\n"
        "    except OSError as e:\n"
        "        print('refused', e.errno)\n"
        "open('/tmp/private', 'w').write('x')\n"
        "print(os.listdir('/root'), os.listdir('/home'))"
    )
    async with python_tool.session() as run:
        text = await run_code(run, code)
    lines = text.splitlines()
    assert lines[:3] == ["refused 30", "refused 30", "refused 30"]  # EROFS
    assert not _exists(marker) and not _exists("/etc/probe")
    assert not _exists("/tmp/private")  # the sandbox's /tmp is its own
    assert "wrote /tmp/p" in lines[3] or lines[3].startswith("refused")  # HOME is /tmp
    if os.geteuid() == 0:
        assert lines[4] in ("['.pyenv'] []", "[] []")  # home directories are hidden


async def test_mnt_data_writes_land_in_the_workdir(python_tool: ha.PythonTool):
    name = f"result_{uuid.uuid4().hex}.txt"
    async with python_tool.session() as run:
        await run_code(run, f"open('/mnt/data/{name}', 'w').write('42')")
        assert await run_code(run, f"open('{name}').read()") == "'42'"  # the working dir
    assert (python_tool.workdir / name).read_text() == "42"
    if os.geteuid() == 0:  # written by an unprivileged uid, not root
        assert (python_tool.workdir / name).stat().st_uid != 0


async def test_memory_bomb_is_contained(python_tool: ha.PythonTool):
    async with python_tool.session() as run:
        assert "MemoryError" in await run_code(run, "x = bytearray(8 * 2**30)")
        code = "chunks = []\nwhile True:\n    chunks.append(bytearray(64 * 2**20))"
        assert "MemoryError" in await run_code(run, code)
        assert await run_code(run, "del chunks\nprint('still here')") == "still here"
    assert len(bytearray(64 * 2**20)) == 64 * 2**20  # and so are we


async def test_fork_bomb_is_contained(python_tool: ha.PythonTool):
    code = (
        "import os, time\n"
        "children = 0\n"
        "try:\n"
        "    while True:\n"
        "        if os.fork() == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children += 1\n"
        "except OSError as e:\n"
        "    print('refused after', children, e.errno)"
    )
    async with python_tool.session() as run:
        text = await run_code(run, code)
        assert text.startswith("refused after ") and text.endswith(" 11")  # EAGAIN
        assert int(text.split()[2]) < 64
        text = await run_code(run, "import os\nwhile True:\n    os.fork()")  # the classic
        assert "BlockingIOError" in text
    assert _can_start_a_process()  # and we still can


def test_auto_without_bubblewrap_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ha.ToolError) as caught:
        ha.PythonTool(sandbox="auto")
    message = str(caught.value)
    assert "'bwrap'" in message and "apt-get install bubblewrap" in message
    assert "sandbox='none'" in message


def test_auto_where_namespaces_are_refused_fails_clearly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    # A bwrap that fails the way it does in a container without user namespaces.
    fake = tmp_path / "bwrap"
    fake.write_text(
        "#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n"
    )
    fake.chmod(fake.stat().st_mode | stat.S_IXUSR)
    for tool in ("prlimit", "setpriv"):
        os.symlink(f"/usr/bin/{tool}", tmp_path / tool)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ha.ToolError) as caught:
        ha.PythonTool(sandbox="bwrap")
    message = str(caught.value)
    assert "cannot sandbox its kernel here" in message
    assert "No permissions to creating new namespace" in message
    assert "sandbox='none'" in message


def test_bad_sandbox_name_is_refused():
    with pytest.raises(ha.ToolError, match="'auto', 'bwrap' or 'none'"):
        ha.PythonTool(sandbox="docker")  # type: ignore[arg-type]


@requires_sandbox
async def test_cpu_time_and_file_size_limits_bind():
    limits = SandboxLimits(cpu_time=3, file_size=1 << 20)
    tool = ha.PythonTool(timeout=20, limits=limits, pool_size=0)
    async with tool, tool.session() as run:
        text = await run_code(run, "open('/mnt/data/big', 'wb').write(b'x' * (2 << 20))")
        assert "OSError: [Errno 27] File too large" in text
        text = await run_code(run, "while True:\n    pass")
        assert "The kernel crashed while running this code (killed by SIGXCPU" in text
        assert await run_code(run, "print('fresh')") == "fresh"


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="memory"):
        SandboxLimits(memory=0)
    assert (
        SandboxLimits(memory=None, processes=None, cpu_time=None, file_size=None).prlimit_args()
        == []
    )
    assert SandboxLimits(cpu_time=5).prlimit_args()[2] == "--cpu=5:6"
