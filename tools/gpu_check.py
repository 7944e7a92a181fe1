"""One command for a GPU machine: the in-process backends on tiny random models, with figures.

    python tools/gpu_check.py                 # CUDA: Transformers, then VLLMEngine if vllm imports
    python tools/gpu_check.py --device cpu    # the same checks on CPU (VLLMEngine skipped)
    python tools/gpu_check.py --json out.json

Needs only torch and transformers (plus vllm for its part); no network: the models are
built here from ``tests/engines/_tiny.py`` (random weights, the real o200k_harmony
vocabulary size) and vLLM runs them from token ids alone (``skip_tokenizer_init``).
Each check prints ``ok``/``FAIL`` and its figures; the exit status is 1 when one failed.
Sized for a few minutes of device time: vLLM runs eager (no CUDA graphs to capture).

- **transformers**: ``ha.backends.Transformers`` on a two-layer ``GptOssForCausalLM``:
  tokens/s through the backend against ``generate`` directly, an agent run, and memory
  over 20 runs in a row.
- **vllm**: ``ha.backends.VLLMEngine`` on the same architecture saved to a temporary
  directory (a tiny llama if vLLM cannot load gpt-oss weights unquantized): many
  concurrent runs sharing one engine and a long common prefix (prefix caching on),
  the cached prefix vLLM reports, and a closed stream aborting its request.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402
from harmony_agent.agent import arun_many  # noqa: E402

FIGURES: dict[str, Any] = {}
FAILED: list[str] = []
QUESTION = "<|start|>user<|message|>What is life?<|end|><|start|>assistant"


def check(name: str, ok: bool, **figures: Any) -> None:
    """Print one check's outcome and keep its figures."""
    FIGURES[name] = {"ok": ok, **figures}
    shown = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in figures.items()
    )
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {shown}", flush=True)
    if not ok:
        FAILED.append(name)


def harmony(text: str) -> list[int]:
    return ha.load_encoding().encode(text, allowed_special="all")


def no_stop(tokens: int) -> ha.SamplingParams:
    """Greedy, exactly ``tokens`` tokens: no stop token can end it early."""
    return ha.SamplingParams(max_tokens=tokens, temperature=0.0, stop_tokens=())


# -- transformers --------------------------------------------------------------------------


def check_transformers(device: str, tokens: int) -> None:
    import torch

    from harmony_agent.backends import Transformers
    from tests.engines._tiny import gpt_oss_model

    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    if device == "cpu":
        torch.set_num_threads(1)  # a tiny model: more threads only contend (as in the tests)
    start = time.perf_counter()
    net = gpt_oss_model(hidden=256).to(device=device, dtype=dtype)
    check("transformers.load", True, seconds=time.perf_counter() - start, device=device)
    prompt = harmony(QUESTION)
    params = no_stop(tokens)
    kwargs = Transformers(net).generate_kwargs(params)
    kwargs.update(eos_token_id=None, pad_token_id=0, min_new_tokens=tokens)

    class NoStop(Transformers):
        def generate_kwargs(self, p: ha.SamplingParams) -> dict[str, Any]:
            return dict(kwargs, max_new_tokens=p.max_tokens)

    def sync() -> None:
        if device == "cuda":
            torch.cuda.synchronize()

    def direct() -> float:
        ids = torch.tensor([prompt], device=device)
        sync()
        began = time.perf_counter()
        with torch.inference_mode():
            out = net.generate(input_ids=ids, attention_mask=torch.ones_like(ids), **kwargs)
        sync()
        assert out.shape[1] - len(prompt) == tokens
        return time.perf_counter() - began

    backend = NoStop(net)

    async def through_backend() -> float:
        began = time.perf_counter()
        n = 0
        async for chunk in backend.stream(prompt, params):
            n += len(chunk)
        sync()
        assert n == tokens, n
        return time.perf_counter() - began

    direct()
    asyncio.run(through_backend())
    base = sorted(direct() for _ in range(3))[1]
    ours = sorted(asyncio.run(through_backend()) for _ in range(3))[1]
    check(
        "transformers.stream",
        True,
        generate_tok_s=tokens / base,
        backend_tok_s=tokens / ours,
        overhead_pct=(ours / base - 1) * 100,
    )

    agent = ha.Agent(Transformers(net), sampling=ha.SamplingParams(max_tokens=64, seed=0))

    async def runs(n: int) -> list[Any]:
        return [await agent.arun("What is life?") for _ in range(n)]

    first = asyncio.run(runs(1))[0]
    check("transformers.agent", first.stop_reason is not None, stop_reason=first.stop_reason)
    if device == "cuda":
        torch.cuda.synchronize()
        before = torch.cuda.memory_allocated()
    threads = threading.active_count()
    began = time.perf_counter()
    asyncio.run(runs(20))
    seconds = time.perf_counter() - began
    for thread in threading.enumerate():
        if thread.name == "harmony-agent-transformers":
            thread.join(timeout=10)
    grown = 0.0
    if device == "cuda":
        torch.cuda.synchronize()
        grown = (torch.cuda.memory_allocated() - before) / 2**20
    check(
        "transformers.20_runs",
        grown < 64 and threading.active_count() <= threads,
        seconds=seconds,
        cuda_mib_grown=grown,
        threads_left=threading.active_count() - threads,
    )


# -- vLLM ------------------------------------------------------------------------------------


def build_vllm(folder: Path) -> Any:
    """A ``VLLMEngine`` on a tiny gpt-oss, or a tiny llama when vLLM rejects that."""
    from harmony_agent.backends import VLLMEngine
    from tests.engines._tiny import save_model_dir

    engine_args: dict[str, Any] = {
        "skip_tokenizer_init": True,
        "generation_config": "vllm",  # no stop tokens but ours (the saved config names some)
        "enable_prefix_caching": True,
        "enforce_eager": True,
        "gpu_memory_utilization": 0.3,
        "max_model_len": 4096,
        "max_num_seqs": 64,
        "seed": 0,
    }
    errors: list[str] = []
    for arch in ("gpt_oss", "llama"):
        path = save_model_dir(folder / arch, arch)
        began = time.perf_counter()
        try:
            backend = VLLMEngine(str(path), **engine_args)
        except Exception as exc:  # vLLM raises many kinds; report and try the next one
            errors.append(f"{arch}: {type(exc).__name__}: {str(exc)[:300]}")
            print(f"     vllm could not load the tiny {arch}: {errors[-1]}", flush=True)
            continue
        check("vllm.load", True, arch=arch, seconds=time.perf_counter() - began)
        return backend
    check("vllm.load", False, errors=errors)
    return None


def unfinished(engine: Any) -> int | None:
    """Requests still held by vLLM's ``AsyncLLM`` (None if this version hides them)."""
    processor = getattr(engine, "output_processor", None)
    count = getattr(processor, "get_num_unfinished_requests", None)
    return int(count()) if callable(count) else None


async def vllm_checks(backend: Any, runs: int, tokens: int) -> None:
    engine = backend.engine
    shared = harmony(
        "<|start|>developer<|message|># Instructions\n\n" + "Be brief and exact. " * 150 + "<|end|>"
    )
    prompts = [
        shared + harmony(f"<|start|>user<|message|>Question {i}?<|end|><|start|>assistant")
        for i in range(runs)
    ]

    async def one(prompt: list[int]) -> int:
        return sum([len(c) async for c in backend.stream(prompt, no_stop(tokens))])

    await one(prompts[0])  # warm up: the shared prefix enters the cache
    began = time.perf_counter()
    counts = await asyncio.gather(*(one(p) for p in prompts))
    seconds = time.perf_counter() - began
    check(
        "vllm.concurrent",
        all(n == tokens for n in counts),
        runs=runs,
        prompt_tokens=len(prompts[0]),
        seconds=seconds,
        tok_s=sum(counts) / seconds,
    )

    # The cached prefix vLLM itself reports for one more request with the same prefix.
    sampling = backend.sampling_params(no_stop(4))
    cached = None
    async for output in engine.generate(
        backend._vllm.TokensPrompt(prompt_token_ids=prompts[1]), sampling, "gpu-check-cache"
    ):
        cached = getattr(output, "num_cached_tokens", None)
    check(
        "vllm.prefix_cache",
        cached is None or cached >= len(shared) // 2,
        prompt_tokens=len(prompts[1]),
        cached_tokens=cached,
    )

    stream = backend.stream(prompts[2], no_stop(2000))
    first = await anext(stream)
    await stream.aclose()
    left = unfinished(engine)
    for _ in range(100):
        if not left:
            break
        await asyncio.sleep(0.05)
        left = unfinished(engine)
    check("vllm.abort_on_close", bool(first) and not left, unfinished_after_close=left)

    agent = ha.Agent(backend, sampling=ha.SamplingParams(max_tokens=64, seed=0))
    results = await arun_many(
        agent, [f"What is life? ({i})" for i in range(runs)], concurrency=runs, progress=False
    )
    check(
        "vllm.agent_runs",
        all(r.stop_reason is not None for r in results),
        runs=len(results),
        stop_reasons=sorted({str(r.stop_reason) for r in results}),
    )


def check_vllm(runs: int, tokens: int) -> None:
    if importlib.util.find_spec("vllm") is None:
        print("skip vllm: not installed (pip install 'harmony_agent[vllm]')", flush=True)
        return
    with tempfile.TemporaryDirectory(prefix="harmony-gpu-check-") as folder:
        backend = build_vllm(Path(folder))
        if backend is None:
            return

        async def main() -> None:
            async with backend:
                await vllm_checks(backend, runs, tokens)

        asyncio.run(main())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=["cuda", "cpu"], default=None)
    parser.add_argument("--runs", type=int, default=32, help="concurrent vLLM runs")
    parser.add_argument("--tokens", type=int, default=64, help="tokens per completion")
    parser.add_argument("--skip-vllm", action="store_true")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    import torch
    import transformers

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda, but torch sees no CUDA device")
    name = torch.cuda.get_device_name(0) if device == "cuda" else "cpu"
    vllm_version = None
    if importlib.util.find_spec("vllm") is not None:
        from importlib.metadata import version

        vllm_version = version("vllm")
    check(
        "environment",
        True,
        device=name,
        torch=torch.__version__,
        transformers=transformers.__version__,
        vllm=vllm_version,
    )
    began = time.perf_counter()
    check_transformers(device, args.tokens)
    if device == "cuda":
        import gc

        gc.collect()
        torch.cuda.empty_cache()  # the Transformers model's memory, before vLLM takes its share
    if device == "cuda" and not args.skip_vllm:
        check_vllm(args.runs, args.tokens)
    FIGURES["total_seconds"] = time.perf_counter() - began
    print(f"gpu_check: {len(FAILED)} failed {FAILED} in {FIGURES['total_seconds']:.1f} s")
    if args.json:
        args.json.write_text(json.dumps(FIGURES, indent=1, default=str) + "\n")
    return 1 if FAILED else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
