"""A small web server on 127.0.0.1 for testing the browser tool against real HTTP.

``WebServer`` serves the pages you give it plus a set of hostile ones::

    with WebServer({"/a.html": Route(b"<html>...</html>", "text/html")}) as web:
        tool = ha.BrowserTool(allowed_hosts=["127.0.0.1"])
        url = web.url("/a.html")

Built in: ``/redirect/N`` (a chain of N redirects ending at ``/redirect/0``, a page),
``/loop`` (redirects to itself), ``/to-private`` (redirects to 10.0.0.1),
``/to-metadata`` (to 169.254.169.254), ``/slow`` (answers after ``slow_seconds``),
``/trickle`` (a body that never ends, one byte at a time), ``/huge`` (``huge_bytes`` of
HTML), ``/binary`` (a PNG), ``/status/N`` (an empty answer with status N).
"""

from __future__ import annotations

import contextlib
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from harmony_agent.testing._loopback import LoopbackServer

__all__ = ["Route", "WebServer"]

_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


@dataclass(frozen=True)
class Route:
    """One page: its body, Content-Type header, status and extra headers."""

    body: bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


class WebServer(LoopbackServer):
    """A threaded HTTP server with fixed routes and hostile pages (see the module doc).

    Attributes:
        requests: the paths requested, in order.
    """

    def __init__(
        self,
        routes: dict[str, Route] | None = None,
        *,
        slow_seconds: float = 30.0,
        huge_bytes: int = 20_000_000,
    ) -> None:
        self.routes = dict(routes or {})
        self.slow_seconds = slow_seconds
        self.huge_bytes = huge_bytes
        self.requests: list[str] = []
        self._stop = threading.Event()
        self._listen()

    def url(self, path: str) -> str:
        """The full URL of ``path``."""
        return self.base_url + path

    def close(self) -> None:
        """Stop serving (slow and never-ending answers are cut off)."""
        self._stop.set()
        super().close()

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        if method != "GET":
            h.send_error(501, f"unsupported method {method}")
            return
        self.requests.append(h.path)
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._serve(h)

    # -- answers -----------------------------------------------------------------------
    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        route = self.routes.get(path)
        if route is not None:
            self._send(h, route.status, route.content_type, route.body, route.headers)
        elif path.startswith("/redirect/") and path[10:].isdigit():
            n = int(path[10:])
            if n == 0:
                self._send(h, 200, "text/html", b"<html><title>End</title><p>Arrived.</p></html>")
            else:
                self._redirect(h, f"/redirect/{n - 1}")
        elif path == "/loop":
            self._redirect(h, "/loop")
        elif path == "/to-private":
            self._redirect(h, "http://10.0.0.1/secret")
        elif path == "/to-metadata":
            self._redirect(h, "http://169.254.169.254/latest/meta-data/")
        elif path == "/slow":
            self._stop.wait(self.slow_seconds)
            self._send(h, 200, "text/plain", b"finally")
        elif path == "/trickle":
            h.send_response(200)
            h.send_header("Content-Type", "text/plain")
            h.send_header("Transfer-Encoding", "chunked")
            h.end_headers()
            while not self._stop.is_set():
                h.wfile.write(b"1\r\na\r\n")
                h.wfile.flush()
                time.sleep(0.05)
        elif path == "/huge":
            h.send_response(200)
            h.send_header("Content-Type", "text/html")
            h.send_header("Content-Length", str(self.huge_bytes))
            h.end_headers()
            row = b"<p>" + b"All work and no play makes a dull page. " * 20 + b"</p>\n"
            sent = 0
            while sent < self.huge_bytes and not self._stop.is_set():
                chunk = row[: self.huge_bytes - sent]
                h.wfile.write(chunk)
                sent += len(chunk)
        elif path == "/binary":
            self._send(h, 200, "image/png", _PNG)
        elif path.startswith("/status/") and path[8:].isdigit():
            self._send(h, int(path[8:]), "text/plain", b"status page")
        else:
            self._send(h, 404, "text/plain", b"not found")

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        content_type: str,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            h.send_header(name, value)
        h.end_headers()
        h.wfile.write(body)

    def _redirect(self, h: BaseHTTPRequestHandler, location: str) -> None:
        self._send(h, 302, "text/plain", b"", {"Location": location})
