"""Helpers for the python tool's tests: find the processes of a kernel on this machine."""

from __future__ import annotations

import os
import time
from pathlib import Path

from harmony_agent.tools.python._session import KernelSession


def processes_mentioning(text: str) -> set[int]:
    """Pids of live (not zombie) processes whose command line contains ``text``."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.add(int(entry.name))
    return found


def kernel_dir(state: KernelSession) -> str:
    """The private directory of a session's kernel (named in all its processes)."""
    kernel = state.kernel
    assert kernel is not None, "the session has not started a kernel yet"
    return str(kernel._dir)  # type: ignore[attr-defined]


def wait_gone(pids: set[int], timeout: float = 10.0) -> set[int]:
    """Wait until none of ``pids`` is alive; the ones still alive at the deadline."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        alive = {pid for pid in alive if _alive(pid)}
        if alive:
            time.sleep(0.05)
    return alive


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z" and os.path.exists(f"/proc/{pid}")
