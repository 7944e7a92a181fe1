"""The HTTP side of the fake engine servers: requests in, (possibly broken) streams out.

:class:`FakeServer` (in ``_fake_base``) holds the scripted model and the engine hooks;
this module reads requests, answers JSON and streams the engine's events, and breaks
those streams the ways real networks and servers do when a :class:`Cut` says so.
"""

from __future__ import annotations

import json
import select
import socket
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harmony_agent.testing._fake_base import Cut, FakeServer, Generation

__all__ = ["FakeHTTPServer"]


class FakeHTTPServer(ThreadingHTTPServer):
    """A threading HTTP server that hands every request to its :class:`FakeServer`."""

    daemon_threads = True
    request_queue_size = 128
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a client hanging up is not news
            super().handle_error(request, client_address)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass

    # -- plumbing ------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Any) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _client_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _reset(self) -> None:
        """Drop the connection mid-reply, the way a crashed server or proxy does."""
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def do_GET(self) -> None:
        fake = self.server.fake
        fake._counted("requests_seen", 1)
        if not self._authorized():
            return
        answer = fake.handle_get(self.path.split("?")[0])
        if answer is None:
            self._send_json(404, {"error": f"no route for GET {self.path}"})
        else:
            self._send_json(*answer)

    def _authorized(self) -> bool:
        from harmony_agent.testing._fake_base import RequestError

        fake = self.server.fake
        if fake.api_key is None or self.headers.get("Authorization") == f"Bearer {fake.api_key}":
            return True
        self._send_json(401, fake.error_body(RequestError(401, "invalid or missing API key")))
        return False

    def do_POST(self) -> None:
        from harmony_agent.testing._fake_base import RequestError

        fake = self.server.fake
        with fake._cond:
            fake.requests_seen += 1
            number = fake.requests_seen
            fake._cond.notify_all()
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.split("?")[0] != fake.path:
            self._send_json(404, fake.error_body(RequestError(404, f"no route for {self.path}")))
            return
        if not self._authorized():
            return
        try:
            body = json.loads(raw)
        except json.JSONDecodeError as exc:
            self._send_json(400, fake.error_body(RequestError(400, f"invalid JSON: {exc}")))
            return
        with fake._cond:
            fake.bodies.append(body)
            fake.last_request = body
        if number <= fake.fail_first:
            error = RequestError(fake.fail_status, "injected failure")
            self._send_json(fake.fail_status, fake.error_body(error))
            return
        if number <= fake.fail_first + fake.drop_first:
            self._reset()
            return
        try:
            if not isinstance(body, dict):
                raise RequestError(400, "the body must be a JSON object")
            prompt, options = fake.parse(body)
            generation = fake.run(prompt, options)
        except RequestError as error:
            self._send_json(error.status, fake.error_body(error))
            return
        if not options.get("stream"):
            self._send_json(200, fake.full_reply(generation, options))
            return
        self._stream(fake, generation, options)

    # -- streaming, and breaking streams -------------------------------------------------
    def _stream(self, fake: FakeServer, generation: Generation, options: Any) -> None:
        from harmony_agent.testing._fake_base import RequestError

        fake._counted("active", 1)
        try:
            if not fake._wait_barrier():
                self._send_json(500, fake.error_body(RequestError(500, "barrier timed out")))
                return
            cut = fake._cut_for(generation)
            chunked = cut is None or cut.how != "eof"
            self.send_response(200)
            self.send_header("Content-Type", fake.content_type)
            if chunked:
                self.send_header("Transfer-Encoding", "chunked")
            else:  # a body that ends when the connection closes (HTTP/1.0 style)
                self.send_header("Connection", "close")
                self.close_connection = True
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            write = self._write_chunk if chunked else self.wfile.write
            sent = 0
            for event, n_tokens in fake.events(generation, options):
                data = fake.encode_event(event)
                if cut is not None and _cut_here(cut, sent, n_tokens):
                    self._break(cut, fake, write, data, chunked)
                    return
                if self._client_gone():
                    fake._counted("disconnects", 1)
                    self.close_connection = True
                    return
                write(data)
                sent += n_tokens
                if n_tokens and fake.token_delay:
                    time.sleep(fake.token_delay)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            fake._counted("completed", 1)
        except (BrokenPipeError, ConnectionResetError):
            fake._counted("disconnects", 1)
            self.close_connection = True
        finally:
            fake._counted("active", -1)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _break(self, cut: Cut, fake: FakeServer, write: Any, data: bytes, chunked: bool) -> None:
        """Break the stream before ``data`` (the next event) the way ``cut`` says."""
        fake._counted("cuts", 1)
        self.wfile.flush()
        if cut.how == "reset":
            self._reset()
        elif cut.how in ("end", "partial", "garbage"):  # the body ends well, the stream not
            if cut.how == "partial":
                write(data[: max(1, len(data) // 2)])
            elif cut.how == "garbage":  # what a confused proxy sends: not the engine's JSON
                sse = fake.content_type == "text/event-stream"
                write(b"data: <html>502</html>\n\n" if sse else b"<html>502</html>\n")
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        elif cut.how == "eof":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_WR)
        elif cut.how == "stall":
            deadline = time.monotonic() + cut.stall
            while time.monotonic() < deadline and not self._client_gone():
                time.sleep(0.01)
            self._reset()
        else:  # "die": the whole server goes away
            fake._die()
            self._reset()


def _cut_here(cut: Cut, sent: int, n_tokens: int) -> bool:
    """Whether the next event (carrying ``n_tokens``) is the first one past the cut.

    Cutting after ``k`` tokens sends the events of the first ``k`` tokens; with ``k``
    equal to the completion's length, the events after the last token (``[DONE]``, the
    final ``stop``/``done`` object) are what is cut.
    """
    if n_tokens:
        return sent + n_tokens > cut.after
    return sent >= cut.after
