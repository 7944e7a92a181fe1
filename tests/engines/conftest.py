"""Real engines for ``make test-engines``: llama.cpp's own server and transformers on CPU.

``LLAMA_SERVER`` names the ``llama-server`` binary (``tools/engines/build_llamacpp.sh``
builds and caches it); without it the llama.cpp tests are skipped. The models are tiny,
random and built here with the real o200k_harmony vocabulary.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.engines._tiny import CACHE, write_llama_gguf


@dataclass(frozen=True)
class LlamaServer:
    """A running ``llama-server`` on loopback."""

    base_url: str
    process: subprocess.Popen[bytes]
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_binary() -> Path:
    binary = os.environ.get("LLAMA_SERVER")
    if not binary or not Path(binary).is_file():
        pytest.skip("set LLAMA_SERVER to a llama-server binary (make test-engines builds one)")
    return Path(binary)


def _gguf_module(binary: Path) -> object:
    """The ``gguf`` package vendored next to the llama.cpp sources the binary came from."""
    source = binary.parent.parent.parent / "src" / "llama.cpp" / "gguf-py"
    if source.is_dir() and str(source) not in sys.path:
        sys.path.insert(0, str(source))
    return pytest.importorskip("gguf")


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    binary = _server_binary()
    model = write_llama_gguf(CACHE / "tiny-random-harmony-llama.gguf", _gguf_module(binary))
    port = _free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    command = [
        str(binary),
        *("-m", str(model), "--host", "127.0.0.1", "--port", str(port)),
        *("-c", "8192", "-np", "4", "-t", "2", "--no-warmup"),
    ]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"llama-server exited: {log.read_text()[-3000:]}")
            try:
                if httpx.get(base_url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"llama-server not ready in 120 s: {log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield LlamaServer(base_url, process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
