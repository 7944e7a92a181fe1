"""Real MCP servers for the tests: the SDK server in tests/mcp/_server.py over stdio and HTTP."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

SERVER = Path(__file__).with_name("_server.py")


@pytest.fixture(scope="session")
def server_command() -> list[str]:
    """The launch command of the test server over stdio."""
    return [sys.executable, str(SERVER)]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_in_thread(app: object) -> Iterator[int]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 in a thread; yields the port."""
    import uvicorn

    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the MCP test server did not start")
        time.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


@pytest.fixture(scope="module")
def http_url() -> Iterator[str]:
    """The test server over streamable HTTP on loopback (in this process, a thread)."""
    sys.path.insert(0, str(SERVER.parent))
    try:
        import _server  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(SERVER.parent))
    for port in serve_in_thread(_server.app.streamable_http_app()):
        yield f"http://127.0.0.1:{port}/mcp"
