"""Server benchmark: what ``harmony-agent serve`` adds on top of calling the backend directly.

    .venv/bin/python tools/bench_server.py [--requests 30] [--tokens 256]

Three processes, as in production: a fake vLLM engine (``harmony_agent.testing``,
streaming a fixed ~256-token completion, no delay), ``harmony-agent serve`` in front of it,
and this client. Streaming requests, measured from the client at concurrency 1 and 64:

- direct: ``ha.backends.VLLM(...).stream(prompt, params)``, the raw token stream;
- server: ``POST /v1/chat/completions`` with ``stream: true`` read with httpx (SSE lines),
  and once more with the official ``openai`` client (its own parsing included).

Per request: median latency, median time to first token (first token chunk / first
content-bearing SSE chunk). The server's overhead is the difference. The machine is
shared and loaded: compare the columns, not the absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HARMONY_AGENT_OFFLINE": "1"}
MODEL = "openai/gpt-oss-20b"


def completion(tokens: int) -> str:
    """A harmony completion of about ``tokens`` tokens: half analysis, half answer."""
    words = max(8, tokens // 2 - 6)
    thought = " ".join(f"step{i % 10}" for i in range(words // 2))
    answer = " ".join(f"word{i % 10}" for i in range(words // 2))
    return (
        f"<|channel|>analysis<|message|>{thought}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{answer}<|return|>"
    )


class _Tokens:
    """A zero-latency backend: the completion in chunks of ``size`` tokens."""

    def __init__(self, tokens: list[int], size: int) -> None:
        self.chunks = [tuple(tokens[i : i + size]) for i in range(0, len(tokens), size)]

    async def stream(self, prompt: list[int], params: ha.SamplingParams) -> Any:
        for chunk in self.chunks:
            yield chunk


def in_process(tokens: int, repeat: int = 30) -> None:
    """Per-token cost without HTTP: the agent alone vs the agent + the server's layer."""
    from harmony_agent.server._app import create_app
    from harmony_agent.server._chat import _Chunks, _stream
    from harmony_agent.server._chat_request import ChatRequest, to_generation
    from harmony_agent.server._generate import open_generation

    enc = ha.load_encoding()
    ids = enc.encode(completion(tokens), allowed_special="all")
    request = ChatRequest.model_validate(
        {"messages": [{"role": "user", "content": "Hi"}], "stream": True}
    )
    for size in (len(ids), 1):
        backend = _Tokens(ids, size)
        agent = ha.Agent(backend)
        state = create_app(backend).state.harmony

        async def agent_only(agent: ha.Agent = agent) -> None:
            async for _ in agent.stream("Hi"):
                pass

        async def served(state: Any = state) -> None:
            events = await open_generation(state, to_generation(request))
            async for _ in _stream(events, _Chunks("id", 0, "m"), False):
                pass

        figures = []
        for fn in (agent_only, served):

            async def loop(fn: Callable[[], Awaitable[None]] = fn) -> float:
                for _ in range(3):
                    await fn()
                t = time.process_time()
                for _ in range(repeat):
                    await fn()
                return (time.process_time() - t) / repeat

            figures.append(asyncio.run(loop()))
        label = "whole completion" if size > 1 else "one token per chunk"
        agent_us, served_us = (f / len(ids) * 1e6 for f in figures)
        print(
            f"  in process, {label:<20} agent.stream {agent_us:6.1f} us/token   "
            f"+ server layer (items, SSE frames) {served_us:6.1f} us/token"
        )


def engine_main(tokens: int) -> None:
    """Run the fake engine until stdin closes (a subprocess of the benchmark)."""
    from harmony_agent.testing import FakeVLLMServer

    with FakeVLLMServer(completion(tokens), model_name=MODEL) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


def _start(cmd: list[str], pattern: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(pattern, line)
    if not found:
        process.kill()
        raise RuntimeError(f"did not start: {cmd}: {line!r}")
    return process, found.group(1)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and its live descendants (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    total = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            children = (task / "children").read_text().split()
        except FileNotFoundError:  # a thread that just ended
            continue
        total += sum(cpu_seconds(int(child)) for child in children)
    return total


async def timed(
    fn: Callable[[], Awaitable[float]], n: int, concurrency: int, pid: int
) -> tuple[float, float, float]:
    """Median request latency, median time to first token, and CPU seconds per request
    of process ``pid`` (the engine for direct calls, the server through it)."""
    latencies: list[float] = []
    firsts: list[float] = []

    async def one() -> None:
        t = time.perf_counter()
        first = await fn()
        latencies.append(time.perf_counter() - t)
        firsts.append(first - t)

    for _ in range(3):  # warm-up: connections, caches
        await one()
    latencies.clear()
    firsts.clear()
    rounds = max(1, n // concurrency) if concurrency > 1 else n
    cpu = cpu_seconds(pid)
    for _ in range(rounds):
        await asyncio.gather(*(one() for _ in range(concurrency)))
    cpu = (cpu_seconds(pid) - cpu) / (rounds * concurrency)
    return statistics.median(latencies), statistics.median(firsts), cpu


async def main(requests: int, tokens: int, workers: int = 1) -> None:
    import httpx
    import openai

    from harmony_agent.backends import VLLM

    engine, engine_url = _start(
        [sys.executable, __file__, "--engine", "--tokens", str(tokens)], r"(http://\S+)"
    )
    server, server_url = _start(
        [sys.executable, "-m", "harmony_agent.cli", "serve", "--url", engine_url,
         "--model", MODEL, "--port", "0", "--log-level", "warning",
         "--workers", str(workers)],
        r"(http://\S+/v1)",
    )  # fmt: skip
    try:
        enc = ha.load_encoding()
        agent = ha.Agent(lambda p, s: [])  # only for the prompt the server renders
        prompt = enc.render_conversation_for_completion(
            agent.conversation_for("Hi"), ha.Role.ASSISTANT
        )
        params = ha.SamplingParams(max_tokens=4096, stop_tokens=(200002, 200012))
        backend = VLLM(engine_url, model=MODEL)
        body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
        http = httpx.AsyncClient(timeout=120, limits=httpx.Limits(max_connections=None))
        client = openai.AsyncOpenAI(base_url=server_url, api_key="none", max_retries=0)

        async def direct() -> float:
            first = 0.0
            async for chunk in backend.stream(list(prompt), params):
                if chunk and not first:
                    first = time.perf_counter()
            return first

        async def via_httpx() -> float:
            first = 0.0
            async with http.stream("POST", server_url + "/chat/completions", json=body) as r:
                async for line in r.aiter_lines():
                    text = '"reasoning_content"' in line or '"content":"' in line
                    if not first and text and '"content":""' not in line:
                        first = time.perf_counter()
            return first

        async def via_openai() -> float:
            first = 0.0
            stream = await client.chat.completions.create(
                model=MODEL, messages=[{"role": "user", "content": "Hi"}], stream=True
            )
            async for chunk in stream:
                delta = chunk.choices[0].delta if chunk.choices else None
                if not first and delta is not None and (delta.content or delta.model_extra):
                    first = time.perf_counter()
            return first

        # one request's shape, for the record
        async with http.stream("POST", server_url + "/chat/completions", json=body) as r:
            lines = [line async for line in r.aiter_lines() if line.startswith("data: {")]
        generated = len([t async for c in backend.stream(list(prompt), params) for t in c])
        print(f"  completion: {generated} tokens; the server sends {len(lines)} SSE chunks")
        rows = []
        for concurrency in (1, 64):
            n = requests if concurrency == 1 else 64 * 3
            base = await timed(direct, n, concurrency, engine.pid)
            for name, fn in (("httpx SSE", via_httpx), ("openai client", via_openai)):
                got = await timed(fn, n, concurrency, server.pid)
                rows.append((concurrency, name, base, got))
        print(
            "  latency and time to first token per request (medians, ms); CPU ms per request "
            "of the engine (direct) and of the server process"
        )
        print(
            f"  {'conc':>4}  {'client':<14} {'direct':>8} {'server':>8} {'added':>8}   "
            f"{'TTFT dir':>8} {'TTFT srv':>8} {'added':>7}   {'engine CPU':>10} {'server CPU':>10}"
        )
        for concurrency, name, (lat0, ttft0, cpu0), (lat, ttft, cpu) in rows:
            print(
                f"  {concurrency:>4}  {name:<14} {lat0 * 1e3:8.1f} {lat * 1e3:8.1f} "
                f"{(lat - lat0) * 1e3:8.1f}   {ttft0 * 1e3:8.1f} {ttft * 1e3:8.1f} "
                f"{(ttft - ttft0) * 1e3:7.1f}   {cpu0 * 1e3:10.1f} {cpu * 1e3:10.1f}"
            )
        print(f"  server CPU per streamed token: {rows[0][3][2] / generated * 1e6:.0f} us")
        await http.aclose()
        await client.close()
        await backend.aclose()
    finally:
        for process in (server, engine):
            if process is server:
                process.send_signal(2)
            else:
                assert process.stdin is not None
                process.stdin.close()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30, help="requests at concurrency 1")
    parser.add_argument("--tokens", type=int, default=256, help="tokens per completion")
    parser.add_argument("--workers", type=int, default=1, help="server processes")
    parser.add_argument("--engine", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        engine_main(args.tokens)
    else:
        in_process(args.tokens)
        asyncio.run(main(args.requests, args.tokens, args.workers))
