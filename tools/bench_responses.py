"""Benchmark: what ``POST /v1/responses`` adds on top of calling the backend directly.

    .venv/bin/python tools/bench_responses.py [--requests 32] [--tokens 256]

Three processes: a fake vLLM engine (``harmony_agent.testing``, a fixed completion of
about ``--tokens`` tokens, half analysis and half answer, no delay), the server
(``create_app`` on uvicorn) in front of it, and this client. Streaming, at concurrency 1
and 64:

- direct: ``ha.backends.VLLM(...).stream(prompt, params)``, the raw token stream;
- responses: ``POST /v1/responses`` with ``stream: true``, read with httpx line by line
  (every token is a ``response.reasoning_text.delta`` or ``response.output_text.delta``
  event); ``/v1/chat/completions`` on the same server for reference.

Per request: median latency and median time to first token (first token chunk / first
delta event); the server's overhead is the difference. Also the server process's CPU
time per request and per generated token (from /proc: robust on a loaded machine, where
wall clock is noise), next to the CPU the direct client spends reading the same stream
from the engine (which the server spends too). Not a test: compare the columns, not the
absolute times.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402

ENV = {**os.environ, "PYTHONPATH": str(ROOT), "HARMONY_AGENT_OFFLINE": "1"}
MODEL = "openai/gpt-oss-20b"


def completion(tokens: int) -> str:
    """About ``tokens`` tokens of harmony: a thought, then the answer."""
    half = max(4, tokens // 2 - 6)
    thought = " ".join(f"idea{i % 10}" for i in range(half // 2))
    answer = " ".join(f"word{i % 10}" for i in range(half // 2))
    return (
        f"<|channel|>analysis<|message|>{thought}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{answer}<|return|>"
    )


def engine_main(tokens: int) -> None:
    """The fake engine, until stdin closes."""
    from harmony_agent.testing import FakeVLLMServer

    with FakeVLLMServer(completion(tokens), model_name=MODEL) as server:
        print(server.base_url, flush=True)
        sys.stdin.read()


def server_main(engine_url: str) -> None:
    """The server in front of the engine, until stdin closes."""
    from harmony_agent.server import create_app, running

    app = create_app(ha.backends.VLLM(engine_url, model=MODEL), model="gpt-oss")
    with running(app) as url:
        print(url, flush=True)
        sys.stdin.read()


def _spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, __file__, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _direct(backend: Any, prompt: list[int]) -> tuple[float, float, int]:
    start = time.perf_counter()
    first, count = 0.0, 0
    params = ha.SamplingParams(max_tokens=4096)
    async for chunk in backend.stream(prompt, params):
        if chunk and not first:
            first = time.perf_counter() - start
        count += len(chunk)
    return time.perf_counter() - start, first, count


async def _responses(client: Any, url: str) -> tuple[float, float, int]:
    body = {"model": "gpt-oss", "input": "Hi", "stream": True}
    start = time.perf_counter()
    first, count = 0.0, 0
    async with client.stream("POST", f"{url}/v1/responses", json=body) as reply:
        async for line in reply.aiter_lines():
            if line.startswith("event: response.") and line.endswith("_text.delta"):
                count += 1
                if not first:
                    first = time.perf_counter() - start
    return time.perf_counter() - start, first, count


async def _chat(client: Any, url: str) -> tuple[float, float, int]:
    body = {"model": "gpt-oss", "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    start = time.perf_counter()
    first, count = 0.0, 0
    async with client.stream("POST", f"{url}/v1/chat/completions", json=body) as reply:
        async for line in reply.aiter_lines():
            if '"reasoning_content":' in line or (
                '"content":"' in line and '"content":""' not in line
            ):
                count += 1
                if not first:
                    first = time.perf_counter() - start
    return time.perf_counter() - start, first, count


async def _round(make: Any, concurrency: int, requests: int) -> list[tuple[float, float, int]]:
    results: list[tuple[float, float, int]] = []
    queue = list(range(requests))

    async def worker() -> None:
        while queue:
            queue.pop()
            results.append(await make())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


async def measure(requests: int, tokens: int) -> list[str]:
    import httpx

    engine, engine_url = _spawn("--engine", str(tokens))
    server, server_url = _spawn("--server", engine_url)
    lines = []
    try:
        backend = ha.backends.VLLM(engine_url, model=MODEL)
        agent = ha.Agent(backend)
        prompt = agent.encoding.render_conversation_for_completion(
            agent.conversation_for("Hi"), ha.Role.ASSISTANT
        )
        limits = httpx.Limits(max_connections=128, max_keepalive_connections=128)
        async with httpx.AsyncClient(timeout=120, limits=limits) as client:
            await _round(lambda: _direct(backend, prompt), 1, 2)  # warm both paths
            await _round(lambda: _responses(client, server_url), 1, 2)
            for concurrency in (1, 64):
                n = requests if concurrency == 1 else max(requests, 2 * concurrency)
                own = time.process_time()
                direct = await _round(lambda: _direct(backend, prompt), concurrency, n)
                own = time.process_time() - own
                cpu = _cpu_seconds(server.pid)
                served = await _round(lambda: _responses(client, server_url), concurrency, n)
                cpu = _cpu_seconds(server.pid) - cpu
                tokens_out = sum(r[2] for r in served)
                chat = await _round(lambda: _chat(client, server_url), concurrency, n)
                d_lat = statistics.median(r[0] for r in direct) * 1e3
                s_lat = statistics.median(r[0] for r in served) * 1e3
                d_first = statistics.median(r[1] for r in direct) * 1e3
                s_first = statistics.median(r[1] for r in served) * 1e3
                lines.append(
                    f"concurrency {concurrency:>2}, {n} requests of {direct[0][2]} tokens: "
                    f"latency direct {d_lat:.1f} ms, /v1/responses {s_lat:.1f} ms "
                    f"(+{s_lat - d_lat:.1f}); first token direct {d_first:.1f} ms, "
                    f"/v1/responses {s_first:.1f} ms (+{s_first - d_first:.1f}); "
                    f"server CPU {cpu / n * 1e3:.1f} ms/request "
                    f"({cpu / max(1, tokens_out) * 1e6:.0f} us/token; the direct client's "
                    f"backend stream alone: {own / n * 1e3:.1f} ms/request)"
                )
                c_lat = statistics.median(r[0] for r in chat) * 1e3
                c_first = statistics.median(r[1] for r in chat) * 1e3
                lines.append(
                    f"  (for reference, /v1/chat/completions on the same server: latency "
                    f"{c_lat:.1f} ms, first token {c_first:.1f} ms)"
                )
        await backend.release_loop()
    finally:
        for proc in (server, engine):
            assert proc.stdin is not None
            proc.stdin.close()
            proc.wait(10)
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=32)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--engine", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.engine is not None:
        return engine_main(args.engine)
    if args.server is not None:
        return server_main(args.server)
    for line in asyncio.run(measure(args.requests, args.tokens)):
        print(line)


if __name__ == "__main__":
    main()
