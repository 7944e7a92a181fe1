"""VLLMEngine: its use of vLLM's API (against a stand-in module) and, on a GPU, the real one."""

from __future__ import annotations

import enum
import importlib.util
import sys
import types
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

import harmony_agent as ha
from harmony_agent.backends import VLLMEngine
from harmony_agent.errors import BackendError
from harmony_agent.format import _tokens as T
from tests.backends.conftest import collect, params


class RequestOutputKind(enum.Enum):
    CUMULATIVE = 0
    DELTA = 1
    FINAL_ONLY = 2


@dataclass
class Output:
    token_ids: list[int]


@dataclass
class RequestOutput:
    outputs: list[Output]
    finished: bool


@dataclass
class StandInEngine:
    """Imitates ``AsyncLLM.generate``: an async generator that aborts when closed."""

    deltas: list[list[int]]
    fail: Exception | None = None
    requests: list[tuple[Any, Any, str]] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    shut_down: bool = False

    async def generate(self, prompt: Any, sampling: Any, request_id: str) -> AsyncIterator[Any]:
        self.requests.append((prompt, sampling, request_id))
        if self.fail is not None:
            raise self.fail
        try:
            for i, delta in enumerate(self.deltas):
                yield RequestOutput([Output(delta)], finished=i == len(self.deltas) - 1)
            self.finished.append(request_id)
        except GeneratorExit:
            self.aborted.append(request_id)
            raise

    def shutdown(self) -> None:
        self.shut_down = True


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    """A stand-in ``vllm`` package with the names VLLMEngine imports."""
    built: list[Any] = []

    class AsyncEngineArgs:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs = kwargs

    class AsyncLLM:
        @classmethod
        def from_engine_args(cls, args: AsyncEngineArgs) -> StandInEngine:
            built.append(args.kwargs)
            return StandInEngine([[1, 2], [3, T.RETURN]])

    def module(name: str, **attrs: Any) -> types.ModuleType:
        mod = types.ModuleType(name)
        mod.__dict__.update(attrs)
        monkeypatch.setitem(sys.modules, name, mod)
        return mod

    module("vllm")
    module("vllm.engine")
    module("vllm.engine.arg_utils", AsyncEngineArgs=AsyncEngineArgs)
    module(
        "vllm.sampling_params",
        SamplingParams=lambda **kwargs: kwargs,
        RequestOutputKind=RequestOutputKind,
    )
    module("vllm.inputs", TokensPrompt=lambda **kwargs: kwargs)
    module("vllm.v1")
    module("vllm.v1.engine")
    module("vllm.v1.engine.async_llm", AsyncLLM=AsyncLLM)
    return types.SimpleNamespace(built=built)


async def test_builds_the_engine_and_streams_deltas(fake_vllm: types.SimpleNamespace) -> None:
    backend = VLLMEngine("openai/gpt-oss-20b", gpu_memory_utilization=0.5)
    assert fake_vllm.built == [{"model": "openai/gpt-oss-20b", "gpu_memory_utilization": 0.5}]
    chunks = await collect(backend.stream([7, 8], params(max_tokens=20, seed=4)))
    assert chunks == [[1, 2], [3, T.RETURN]]
    engine = backend.engine
    prompt, sampling, request_id = engine.requests[0]
    assert prompt == {"prompt_token_ids": [7, 8]}
    assert sampling == {
        "n": 1,
        "max_tokens": 20,
        "temperature": 1.0,
        "top_p": 1.0,
        "seed": 4,
        "stop_token_ids": [T.RETURN, T.CALL],
        "detokenize": False,
        "skip_special_tokens": False,
        "output_kind": RequestOutputKind.DELTA,
    }
    assert request_id.startswith("harmony-")
    async with backend:
        pass
    assert engine.shut_down
    assert repr(backend) == "VLLMEngine('openai/gpt-oss-20b')"


async def test_closing_the_stream_aborts(fake_vllm: types.SimpleNamespace) -> None:
    engine = StandInEngine([[1], [2], [3], [T.RETURN]])
    backend = VLLMEngine(engine)
    stream = backend.stream([1], params())
    assert await anext(stream) == [1]
    await stream.aclose()  # type: ignore[attr-defined]
    assert engine.aborted == [engine.requests[0][2]]


async def test_limits_are_enforced_here(fake_vllm: types.SimpleNamespace) -> None:
    engine = StandInEngine([[1, 2, 3], [4, 5]])
    backend = VLLMEngine(engine)
    assert await collect(backend.stream([1], params(max_tokens=4))) == [[1, 2, 3], [4]]
    assert engine.aborted  # the engine was still going


async def test_engine_errors_become_backend_errors(fake_vllm: types.SimpleNamespace) -> None:
    backend = VLLMEngine(StandInEngine([], fail=ValueError("prompt too long")))
    with pytest.raises(BackendError, match="prompt too long"):
        await collect(backend.stream([1], params()))
    with pytest.raises(TypeError, match="engine_args"):
        VLLMEngine(StandInEngine([]), max_model_len=10)


def test_missing_vllm_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "vllm", None)
    with pytest.raises(ImportError, match=r"pip install 'harmony_agent\[vllm\]'"):
        VLLMEngine("openai/gpt-oss-20b")


def _gpu_ready() -> bool:
    if importlib.util.find_spec("vllm") is None or importlib.util.find_spec("torch") is None:
        return False
    import torch  # type: ignore[import-not-found,unused-ignore]

    return bool(torch.cuda.is_available())


@pytest.fixture(scope="module")
def tiny_vllm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:  # pragma: no cover
    """A ``VLLMEngine`` on a tiny random model built here (no download), prefix caching on."""
    from tests.engines._tiny import save_model_dir

    folder = tmp_path_factory.mktemp("tiny-vllm")
    args = {
        "skip_tokenizer_init": True,  # token ids in and out: no tokenizer files needed
        "generation_config": "vllm",  # no stop tokens but ours (the saved config names some)
        "enable_prefix_caching": True,
        "enforce_eager": True,
        "gpu_memory_utilization": 0.3,
        "max_model_len": 4096,
        "seed": 0,
    }
    try:
        backend = VLLMEngine(str(save_model_dir(folder / "gpt_oss", "gpt_oss")), **args)
    except Exception:  # this vLLM cannot run gpt-oss unquantized: any architecture will do
        backend = VLLMEngine(str(save_model_dir(folder / "llama", "llama")), **args)
    yield backend
    backend.engine.shutdown()


def _harmony(text: str) -> list[int]:
    from harmony_agent.format import load_encoding

    return load_encoding().encode(text, allowed_special="all")


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not _gpu_ready(), reason="needs vLLM and a CUDA GPU")
async def test_real_vllm_engine(tiny_vllm: Any) -> None:  # pragma: no cover - GPU machines only
    """Many concurrent runs share one engine; closing a stream aborts its request."""
    import asyncio

    shared = _harmony("<|start|>developer<|message|>" + "Be brief. " * 200 + "<|end|>")
    prompts = [
        shared + _harmony(f"<|start|>user<|message|>Q{i}?<|end|><|start|>assistant")
        for i in range(16)
    ]
    exact = params(max_tokens=32, temperature=0.0, stop_tokens=())
    outputs = await asyncio.gather(*(collect(tiny_vllm.stream(p, exact)) for p in prompts))
    assert all(sum(len(c) for c in chunks) == 32 for chunks in outputs)

    stream = tiny_vllm.stream(prompts[0], params(max_tokens=2000, stop_tokens=()))
    assert await anext(stream)
    await stream.aclose()  # type: ignore[attr-defined]
    processor = tiny_vllm.engine.output_processor
    for _ in range(100):
        if not processor.get_num_unfinished_requests():
            break
        await asyncio.sleep(0.05)
    assert processor.get_num_unfinished_requests() == 0

    agent = ha.Agent(tiny_vllm, sampling=params(max_tokens=64))
    result = await agent.arun("What is life?")
    assert result.stop_reason is not None  # a random model's garbage ends the run cleanly
