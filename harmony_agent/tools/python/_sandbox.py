"""Where the kernel runs: inside bubblewrap (the default) or, on request, unsandboxed.

The bubblewrap sandbox: no network (a new, empty network namespace), the host's
filesystem read-only with home directories hidden, a private ``/tmp``, its own process
namespace, and one writable directory, the tool's workdir, at ``/mnt/data``. Resource
limits (address space, processes, CPU seconds, file size) are set with ``prlimit``.

The kernel ignores ``RLIMIT_NPROC`` for uid 0, so when the host runs as root the kernel
drops to an unprivileged uid of its own (``setpriv``), leased through a lock file so
that concurrent kernels, in this process or another, never share one. All those uids
share one group, which may write to the workdir.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from harmony_agent.errors import ToolError

__all__ = ["DATA_DIR", "Bubblewrap", "Launch", "NoSandbox", "Sandbox", "SandboxLimits", "resolve"]

#: Where the workdir appears inside the sandbox (what gpt-oss was trained to use).
DATA_DIR = "/mnt/data"

_GIB = 1 << 30
#: Unprivileged uids for kernels when the host is root: far above any real account.
UID_BASE = 1_600_000_000
UID_COUNT = 4096
SANDBOX_GID = UID_BASE


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Resource limits of one kernel (None: no limit). They hold under root too.

    Attributes:
        memory: address space in bytes; allocations beyond it raise ``MemoryError``.
        processes: processes and threads of the kernel's user; a fork bomb stops here.
        cpu_time: CPU seconds of the kernel process over its life (one run); past it
            the kernel is killed and the next call starts a fresh one.
        file_size: the largest file the code may write, in bytes.
    """

    memory: int | None = 4 * _GIB
    processes: int | None = 256
    cpu_time: int | None = 3600
    file_size: int | None = 1 * _GIB

    def __post_init__(self) -> None:
        for name in ("memory", "processes", "cpu_time", "file_size"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int) or value < 1):
                raise ValueError(f"SandboxLimits.{name} must be a positive int or None")

    def prlimit_args(self) -> list[str]:
        """The limits as ``prlimit`` options (soft = hard, except CPU time: a second of
        grace after the soft limit's SIGXCPU, so the death is reported as such)."""
        options: dict[str, object] = {"as": self.memory, "nproc": self.processes}
        if self.cpu_time is not None:
            options["cpu"] = f"{self.cpu_time}:{self.cpu_time + 1}"
        options["fsize"] = self.file_size
        return [f"--{key}={value}" for key, value in options.items() if value is not None]


@dataclass(frozen=True)
class Launch:
    """How to start one kernel: the command, its environment and what to undo after."""

    argv: list[str]
    env: dict[str, str]
    cwd: str
    release: Callable[[], None] = field(default=lambda: None)


class Sandbox:
    """Wraps a kernel command line; :class:`NoSandbox` and :class:`Bubblewrap` exist."""

    name: str = "none"
    sandboxed: bool = False

    def data_dir(self, workdir: Path) -> str:
        """The workdir as the code sees it."""
        return str(workdir)

    def prepare_workdir(self, workdir: Path) -> None:
        """Make ``workdir`` writable for the kernels."""

    def launch(self, argv: Sequence[str], kernel_dir: Path, workdir: Path) -> Launch:
        """The command that runs ``argv`` (a kernel using files in ``kernel_dir``)."""
        home = kernel_dir / "home"
        home.mkdir(exist_ok=True)
        env = _kernel_env(str(home), os.path.dirname(argv[0]))
        env["JPY_PARENT_PID"] = str(os.getpid())  # the kernel exits when we do
        env["TMPDIR"] = os.environ.get("TMPDIR", "/tmp")
        return Launch(list(argv), env, str(workdir))


class NoSandbox(Sandbox):
    """No isolation at all: the code runs as this user with this user's rights."""


class Bubblewrap(Sandbox):
    """The kernel inside ``bwrap`` with resource limits (see the module docstring)."""

    name = "bwrap"
    sandboxed = True

    def __init__(self, limits: SandboxLimits, *, python: str) -> None:
        self.limits = limits
        self.as_root = os.geteuid() == 0
        self.bwrap = _require("bwrap")
        self.prlimit = _require("prlimit")
        self.setpriv = _require("setpriv") if self.as_root else ""
        self._binds = _visible_paths(python)
        self._probe()

    def data_dir(self, workdir: Path) -> str:
        return DATA_DIR

    def prepare_workdir(self, workdir: Path) -> None:
        if self.as_root:  # kernels run as leased uids sharing SANDBOX_GID
            os.chown(workdir, -1, SANDBOX_GID)
            os.chmod(workdir, (workdir.stat().st_mode & 0o7777) | 0o2070)

    def launch(self, argv: Sequence[str], kernel_dir: Path, workdir: Path) -> Launch:
        env = _kernel_env("/tmp", os.path.dirname(argv[0]))
        lease: _UidLease | None = None
        inner = [self.prlimit, *self.limits.prlimit_args(), "--"]
        if self.as_root:
            lease = _UidLease.take()
            for path in (kernel_dir, *kernel_dir.iterdir()):
                os.chown(path, lease.uid, SANDBOX_GID)
            inner += [self.setpriv, *_drop_to(lease.uid)]
        command = [
            *self._wrapper(),
            *("--bind", str(workdir), DATA_DIR),
            *("--bind", str(kernel_dir), str(kernel_dir)),
            *("--chdir", DATA_DIR),
            "--",
            *inner,
            *argv,
        ]
        return Launch(command, env, "/", lease.release if lease else lambda: None)

    def _wrapper(self) -> list[str]:
        """bwrap's options up to the per-kernel binds."""
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc"]
        # /tmp writable for the kernel's uid (else bwrap makes it 0755, owned by root)
        args += ["--perms", "1777", "--tmpfs", "/tmp", "--tmpfs", "/mnt"]
        for hidden in _hidden_dirs():
            args += ["--tmpfs", hidden]
        for path in self._binds:
            args += ["--ro-bind", path, path]
        args += ["--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts"]
        args += ["--unshare-cgroup-try", "--new-session", "--die-with-parent"]
        return args

    def _probe(self) -> None:
        """Fail now, with the reason, if this machine cannot build the sandbox."""
        key = (self.bwrap, self.as_root)
        if key in _PROBED:
            return
        inner = [self.prlimit, *self.limits.prlimit_args(), "--"]
        if self.as_root:
            inner += [self.setpriv, *_drop_to(UID_BASE + UID_COUNT)]
        command = [*self._wrapper(), "--", *inner, "true"]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ToolError(_cannot(f"running bwrap failed: {exc}")) from None
        if done.returncode != 0:
            raise ToolError(_cannot(done.stderr.strip() or f"exit status {done.returncode}"))
        _PROBED.add(key)


_PROBED: set[tuple[str, bool]] = set()


def resolve(mode: str, limits: SandboxLimits, *, python: str) -> Sandbox:
    """The sandbox for ``mode`` (``"auto"``, ``"bwrap"`` or ``"none"``), or a ToolError."""
    if mode == "none":
        return NoSandbox()
    if mode in ("auto", "bwrap"):
        return Bubblewrap(limits, python=python)
    raise ToolError(f"sandbox must be 'auto', 'bwrap' or 'none', got {mode!r}")


# -- helpers --------------------------------------------------------------------------------
_INSTALL = (
    "Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install "
    "bubblewrap; Arch: pacman -S bubblewrap), or pass sandbox='none' to run model-written "
    "code unsandboxed on this machine"
)


def _cannot(reason: str) -> str:
    return (
        f"the python tool cannot sandbox its kernel here: {reason}. bubblewrap needs "
        "permission to create namespaces (unprivileged user namespaces, or root). "
        "Pass sandbox='none' to run model-written code unsandboxed instead."
    )


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ToolError(
            f"the python tool's sandbox needs {program!r}, which is not installed. {_INSTALL}."
        )
    return path


def _drop_to(uid: int) -> list[str]:
    return [
        f"--reuid={uid}",
        f"--regid={SANDBOX_GID}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--",
    ]


def _kernel_env(home: str, bin_dir: str) -> dict[str, str]:
    """A small environment: nothing of the host's (no API keys), private config dirs."""
    return {
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": home,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "IPYTHONDIR": f"{home}/.ipython",
        "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
        "JUPYTER_DATA_DIR": f"{home}/.local/share/jupyter",
        "JUPYTER_RUNTIME_DIR": f"{home}/.local/share/jupyter/runtime",
        "MPLCONFIGDIR": f"{home}/.config/matplotlib",
        "XDG_CACHE_HOME": f"{home}/.cache",
        "XDG_CONFIG_HOME": f"{home}/.config",
        "PYTHONDONTWRITEBYTECODE": "1",
        "MALLOC_ARENA_MAX": "2",  # glibc reserves 64 MiB of address space per arena
    }


def _hidden_dirs() -> list[str]:
    """Home directories: hidden inside the sandbox (their files are not the model's)."""
    candidates = ["/root", "/home", os.path.expanduser("~")]
    seen: list[str] = []
    for path in candidates:
        real = os.path.realpath(path)
        masked = real in ("/", "/tmp", "/mnt") or any(_under(real, s) for s in seen)
        if not masked and os.path.isdir(real):
            seen.append(real)
    return seen


def _visible_paths(python: str) -> list[str]:
    """The interpreter's directories that lie under a hidden one, to bind back read-only."""
    # sys.path[0] is the directory of the running script (or ''): not the interpreter's.
    if os.path.realpath(python) == os.path.realpath(sys.executable):
        paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, *sys.path[1:]]
    else:
        code = "import sys, json; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path[1:]]))"
        try:
            out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ToolError(f"cannot run the kernel's interpreter {python!r}: {exc}") from None
        import json

        paths = json.loads(out.stdout)
    paths.append(os.path.dirname(os.path.dirname(os.path.realpath(python))))
    hidden = ["/tmp", *_hidden_dirs()]  # /tmp is the sandbox's own too
    needed = sorted(
        {
            real
            for real in (os.path.realpath(p) for p in paths if p and os.path.isdir(p))
            if real not in hidden and any(_under(real, h) for h in hidden)
        }
    )
    kept: list[str] = []
    for path in needed:  # sorted: a parent comes before its children
        if not any(_under(path, k) for k in kept):
            kept.append(path)
    return kept


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


class _UidLease:
    """An unprivileged uid held by this process (a lock file) until released."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid, self._fd = uid, fd

    @classmethod
    def take(cls) -> _UidLease:
        lock_dir = Path("/run/lock" if os.access("/run/lock", os.W_OK) else "/tmp")
        lock_dir = lock_dir / "harmony-agent-uids"
        lock_dir.mkdir(mode=0o755, exist_ok=True)
        for uid in range(UID_BASE + 1, UID_BASE + UID_COUNT):
            fd = os.open(lock_dir / f"{uid}.lock", os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            return cls(uid, fd)
        raise ToolError(f"all {UID_COUNT} sandbox uids are in use: too many kernels")

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1
