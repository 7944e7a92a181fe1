"""Serving benchmarks: Pool scale-out, Transformers overhead, a real llama.cpp server.

    python tools/bench_engines.py pool           # episodes/s over 1, 2, 4 fake servers
    .venv-engines/bin/python tools/bench_engines.py transformers   # backend vs generate
    LLAMA_SERVER=... .venv-engines/bin/python tools/bench_engines.py llamacpp

``pool``: each fake server has 4 slots (like ``llama-server -np 4`` or a batch limit)
and writes a token every 10 ms, so one server's throughput is bounded and what is
measured is how a :class:`~harmony_agent.backends.Pool` spreads two-step tool episodes
(``run_many``) over servers. ``transformers``: tokens/s of the backend streaming a tiny
random gpt-oss model against ``model.generate`` on the same prompt. ``llamacpp``:
agent-loop time per step against the real server compared with the fake one.
Numbers depend on the machine; compare ratios.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402
from harmony_agent.backends import VLLM, LlamaCpp, Pool  # noqa: E402
from harmony_agent.testing import FakeLlamaCppServer, FakeVLLMServer  # noqa: E402
from harmony_agent.testing._fake_base import Generation  # noqa: E402
from tests._helpers import lookup  # noqa: E402

ANSWER = "<|channel|>analysis<|message|>Look it up.<|end|><|start|>assistant<|channel|>final<|message|>Forty-two, as the lookup says.<|return|>"  # noqa: E501
CALL = (
    "<|channel|>analysis<|message|>I should look this up.<|end|><|start|>assistant"
    "<|channel|>commentary to=functions.lookup <|constrain|>json"
    '<|message|>{"topic": "life"}<|call|>'
)


def model(prompt: list[int]) -> str:
    return ANSWER if "life: 42" in ha.load_encoding().decode(prompt) else CALL


class SlottedServer(FakeVLLMServer):
    """A fake vLLM that streams at most ``slots`` completions at once."""

    def __init__(self, *args: Any, slots: int = 4, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(slots)

    def events(self, generation: Generation, options: Any) -> Iterator[tuple[Any, int]]:
        with self._slots:
            yield from super().events(generation, options)


def bench_pool(episodes: int = 48, concurrency: int = 32) -> None:
    print(f"pool: {episodes} two-step episodes, concurrency {concurrency}, 4 slots per server")
    base = None
    for n in (1, 2, 4):
        servers = [SlottedServer(model, token_delay=0.01).start() for _ in range(n)]
        try:
            pool = Pool([VLLM(s.base_url, model="openai/gpt-oss-20b") for s in servers])
            agent = ha.Agent(pool, tools=[lookup])
            prompts = [f"What is life? ({i})" for i in range(episodes)]
            start = time.perf_counter()
            results = ha.run_many(agent, prompts, concurrency=concurrency, progress=False)
            elapsed = time.perf_counter() - start
        finally:
            for s in servers:
                s.close()
        assert all(r.stop_reason == "final" for r in results), {r.stop_reason for r in results}
        rate = episodes / elapsed
        base = base or rate
        spread = [len(s.bodies) for s in servers]
        print(
            f"  {n} endpoint(s): {rate:7.1f} episodes/s  x{rate / base:4.2f}  "
            f"requests per endpoint {spread}"
        )


def bench_transformers(tokens: int = 64, repeat: int = 7) -> None:
    try:
        import torch
    except ImportError:
        print("transformers: skipped (torch missing; run with .venv-engines/bin/python)")
        return
    from harmony_agent.backends import Transformers
    from tests.engines._tiny import gpt_oss_model

    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    net = gpt_oss_model()
    backend = Transformers(net)
    prompt = ha.load_encoding().encode(
        "<|start|>user<|message|>What is life?<|end|><|start|>assistant", allowed_special="all"
    )
    params = ha.SamplingParams(max_tokens=tokens, temperature=0.0)
    # never stop early: the same number of tokens both ways
    params_no_stop = params.model_copy(update={"stop_tokens": (-1,)})
    kwargs = backend.generate_kwargs(params_no_stop)
    kwargs.update(eos_token_id=None, pad_token_id=0, min_new_tokens=tokens)

    def direct() -> float:
        ids = torch.tensor([prompt])
        start = time.perf_counter()
        with torch.inference_mode():
            out = net.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)
        assert out.shape[1] - len(prompt) == tokens
        return time.perf_counter() - start

    class NoStop(Transformers):
        def generate_kwargs(self, p: ha.SamplingParams) -> dict[str, Any]:
            return dict(kwargs, max_new_tokens=p.max_tokens)

    streaming = NoStop(net)

    async def through_backend() -> float:
        start = time.perf_counter()
        n = 0
        async for chunk in streaming.stream(prompt, params_no_stop):
            n += len(chunk)
        assert n == tokens, n
        return time.perf_counter() - start

    direct()
    asyncio.run(through_backend())
    mine: list[float] = []
    base: list[float] = []
    for _ in range(repeat):  # interleaved, so a change in the machine's load hits both
        base.append(direct())
        mine.append(asyncio.run(through_backend()))
    ours, theirs = statistics.median(mine), statistics.median(base)
    for thread in threading.enumerate():  # generate's thread ends at its next step
        if thread.name == "harmony-agent-transformers":
            thread.join()
    print(
        f"transformers (tiny gpt-oss, {tokens} tokens, greedy, CPU): generate "
        f"{tokens / theirs:7.1f} tok/s, backend {tokens / ours:7.1f} tok/s, "
        f"overhead {(ours / theirs - 1) * 100:+.1f}%"
    )


def _per_step(backend: Any, runs: int) -> float:
    agent = ha.Agent(backend, tools=[lookup], sampling=ha.SamplingParams(max_tokens=64))

    async def go() -> float:
        start = time.perf_counter()
        steps = 0
        for i in range(runs):
            result = await agent.arun(f"What is life? ({i})")
            steps += result.turns
        return (time.perf_counter() - start) / steps

    return asyncio.run(go())


def bench_llamacpp(runs: int = 10) -> None:
    binary = os.environ.get("LLAMA_SERVER")
    if not binary:
        print("llamacpp: skipped (set LLAMA_SERVER; make test-engines builds it)")
        return
    import subprocess

    import httpx

    from tests.engines._tiny import CACHE, write_llama_gguf
    from tests.engines.test_llamacpp_real import Guided

    sys.path.insert(0, str(Path(binary).parents[2] / "src" / "llama.cpp" / "gguf-py"))
    import gguf

    gguf_path = write_llama_gguf(CACHE / "tiny-random-harmony-llama.gguf", gguf)
    port = 18000 + os.getpid() % 1000
    server = subprocess.Popen(
        [binary, "-m", str(gguf_path), "--port", str(port), "-c", "8192", "-np", "4", "-t", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        real = _per_step(Guided(url), runs)
        with FakeLlamaCppServer(model) as fake:
            fake_step = _per_step(LlamaCpp(fake.base_url), runs)
    finally:
        server.terminate()
        server.wait()
    print(
        f"llamacpp: agent step against the real llama-server {real * 1e3:7.1f} ms, "
        f"against the fake {fake_step * 1e3:7.1f} ms (tiny random model, guided by a grammar)"
    )


SECTIONS = {"pool": bench_pool, "transformers": bench_transformers, "llamacpp": bench_llamacpp}


def main(argv: list[str]) -> None:
    for name in argv or list(SECTIONS):
        SECTIONS[name]()


if __name__ == "__main__":
    main(sys.argv[1:])
