"""The life of a small test server: listen on an ephemeral port of 127.0.0.1, serve from
a daemon thread, stop on ``close`` or at the end of a ``with`` block.

:class:`~harmony_agent.testing.fake_search.FakeSearchServer` and
:class:`~harmony_agent.testing.fake_web.WebServer` answer requests in ``_handle``; this
base holds the rest.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["LoopbackServer"]


class LoopbackServer:
    """A threaded HTTP server on loopback; subclasses call :meth:`_listen` once."""

    _httpd: ThreadingHTTPServer
    _thread: threading.Thread

    def _listen(self) -> None:
        """Bind the port (serving starts with :meth:`start`)."""
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server._handle(self, "GET")

            def do_POST(self) -> None:
                server._handle(self, "POST")

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        """Answer one request (``method`` is ``"GET"`` or ``"POST"``)."""
        raise NotImplementedError

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> Self:
        """Start serving in a daemon thread."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
