"""Stream only what users may see from a web handler: no chain of thought, no tool calls.

gpt-oss reasons on the ``analysis`` channel, and that text is not for end users (it is
unfiltered, and may contradict the answer). ``ha.VisibleTextFilter`` turns an agent's
event stream into the user-visible text as it arrives, so a handler can stream the
answer without ever sending reasoning or tool arguments.

The handler below is a standard-library HTTP server that streams the answer as plain
text (chunked). Offline it serves a scripted stand-in for gpt-oss; set
``HARMONY_AGENT_URL`` to a vLLM server to serve the real model::

    python examples/cot_filter_web.py          # starts the server, asks it once, stops
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import AsyncIterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import httpx

import harmony_agent as ha


def stand_in(prompt: list[int]) -> str:
    """Scripted, not a model: thinks, calls the tool, thinks again, answers."""
    if "<|start|>functions.timezone" not in ha.load_encoding().decode(prompt):
        return (
            "<|channel|>analysis<|message|>SECRET-REASONING: the user wants a time zone."
            "<|end|><|start|>assistant<|channel|>commentary to=functions.timezone "
            '<|constrain|>json<|message|>{"city": "Tokyo"}<|call|>'
        )
    return (
        "<|channel|>analysis<|message|>SECRET-REASONING: UTC+9, answer.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Tokyo is on Japan Standard Time, "
        "UTC+9, all year round.<|return|>"
    )


def timezone(city: str) -> str:
    """The time zone of a city."""
    return {"tokyo": "Asia/Tokyo (UTC+9, no daylight saving)"}.get(city.lower(), "unknown")


def make_agent() -> ha.Agent:
    url = os.environ.get("HARMONY_AGENT_URL")
    backend = ha.backends.VLLM(url) if url else ha.backends.Scripted(stand_in)
    return ha.Agent(backend, tools=[timezone], reasoning="low")


AGENT = make_agent()


async def visible_answer(question: str) -> AsyncIterator[str]:
    """Yield only the user-visible text of the run, piece by piece."""
    shown = ha.VisibleTextFilter()
    async for event in AGENT.stream(question):
        text = shown.feed(event)
        if text:
            yield text


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # GET /ask?q=...
        question = parse_qs(urlparse(self.path).query).get("q", ["Hello"])[0]
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

        async def pump() -> None:
            async for text in visible_answer(question):
                data = text.encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

        asyncio.run(pump())
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:  # keep the output clean
        pass


def main() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/ask"
    try:
        with httpx.stream("GET", url, params={"q": "What time zone is Tokyo in?"}) as reply:
            pieces = list(reply.iter_text())
        answer = "".join(pieces)
        print(f"streamed in {len(pieces)} piece(s): {answer}")
        assert "SECRET-REASONING" not in answer and "Tokyo" in answer
    finally:
        server.shutdown()
        server.server_close()


if __name__ == "__main__":
    main()
