"""Running the app: :func:`serve` (blocking, for the CLI) and :func:`running` (a thread).

Both use uvicorn: one event loop serves all requests of a process; ``serve(...,
workers=N)`` runs N such processes on one socket (the app then comes from a factory
named by an import string, built in each worker).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["running", "serve", "url_of"]


def _config(app: Any, host: str, port: int, log_level: str, workers: int = 1) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        workers=workers,
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level in ("info", "debug", "trace"),  # a line per request
        lifespan="on",
        timeout_graceful_shutdown=5,
    )


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def url_of(host: str, port: int) -> str:
    """``http://HOST:PORT`` (IPv6 addresses in brackets)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    log_level: str = "info",
    on_ready: Callable[[str], None] | None = None,
    workers: int = 1,
) -> None:
    """Serve ``app`` until interrupted (Ctrl-C or SIGTERM).

    The address is bound first, so a port in use is an :class:`OSError` saying so;
    ``on_ready(base_url)`` is called once it listens (``port=0`` picks a free port):
    connections made from then on are served. With ``workers`` > 1, ``app`` is the
    import string of a function that builds the app (``"package.module:factory"``),
    called in each worker process.
    """
    if workers > 1 and not isinstance(app, str):
        raise TypeError("serve(workers > 1) takes the app factory's import string")
    sock = _bind(host, port)
    sock.listen(2048)  # connections wait in the backlog until uvicorn accepts them
    bound = sock.getsockname()[1]
    config = _config(app, host, bound, log_level, workers)
    if on_ready is not None:
        on_ready(url_of(host, bound))
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
        else:
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()


@contextmanager
def running(
    app: Any, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> Iterator[str]:
    """Serve ``app`` in a background thread; yields its base URL (``http://HOST:PORT``).

    ``port=0`` picks a free port. For tests and benchmarks: the server stops on exit.
    """
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    server = uvicorn.Server(_config(app, host, bound, log_level))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="harmony-agent-serve", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    try:
        yield url_of(host, bound)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
