"""vLLM in-process: ``AsyncLLM`` with a ``TokensPrompt``, streaming deltas of token ids."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._closing import AsyncClosing
from harmony_agent.backends._tokens import TokenGate, stop_set
from harmony_agent.errors import BackendError

if TYPE_CHECKING:
    pass

__all__ = ["VLLMEngine"]

_INSTALL_HINT = "pip install 'harmony_agent[vllm]'"


def _import_vllm() -> SimpleNamespace:
    """vLLM's classes, imported on first use (importing vLLM takes seconds)."""
    try:
        arg_utils = importlib.import_module("vllm.engine.arg_utils")
        sampling = importlib.import_module("vllm.sampling_params")
        inputs = importlib.import_module("vllm.inputs")
    except ImportError as exc:
        raise ImportError(f"VLLMEngine needs vLLM (and a GPU): {_INSTALL_HINT} ({exc})") from exc
    try:
        async_llm = importlib.import_module("vllm.v1.engine.async_llm").AsyncLLM
    except ImportError:  # pragma: no cover - vLLM before the V1 engine
        async_llm = importlib.import_module("vllm").AsyncLLMEngine
    return SimpleNamespace(
        AsyncEngineArgs=arg_utils.AsyncEngineArgs,
        AsyncLLM=async_llm,
        RequestOutputKind=sampling.RequestOutputKind,
        SamplingParams=sampling.SamplingParams,
        TokensPrompt=inputs.TokensPrompt,
    )


class VLLMEngine(AsyncClosing):
    """vLLM running in this process (no server), e.g. ``VLLMEngine("openai/gpt-oss-20b")``.

    The prompt goes in as a ``TokensPrompt``; sampling runs with ``detokenize=False``
    and ``output_kind=DELTA``, so each engine step yields just its new token ids.
    Closing the stream aborts the request in the engine. The engine is bound to the
    event loop that first uses it: run every agent of one process in one loop.

    Args:
        model: a model name or path, or an already built ``AsyncLLM``.
        **engine_args: ``vllm.AsyncEngineArgs`` fields, e.g. ``gpu_memory_utilization=0.8``,
            ``max_model_len=32768``.

    Raises:
        ImportError: vLLM is not installed (``pip install 'harmony_agent[vllm]'``).
    """

    def __init__(self, model: str | Any, **engine_args: Any) -> None:
        self._vllm = _import_vllm()
        if isinstance(model, str):
            self.model = model
            args = self._vllm.AsyncEngineArgs(model=model, **engine_args)
            self.engine: Any = self._vllm.AsyncLLM.from_engine_args(args)
        else:
            if engine_args:
                raise TypeError("engine_args apply only when VLLMEngine builds the engine")
            self.engine = model
            self.model = str(getattr(getattr(model, "model_config", None), "model", model))

    def __repr__(self) -> str:
        return f"VLLMEngine({self.model!r})"

    def sampling_params(self, params: SamplingParams) -> Any:
        """vLLM's ``SamplingParams`` for ``params``."""
        return self._vllm.SamplingParams(
            n=1,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            seed=params.seed,
            stop_token_ids=list(stop_set(params)),
            detokenize=False,
            skip_special_tokens=False,
            output_kind=self._vllm.RequestOutputKind.DELTA,
        )

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[list[int]]:
        """Stream the completion of ``prompt_tokens`` as chunks of token ids."""
        prompt = self._vllm.TokensPrompt(prompt_token_ids=list(prompt_tokens))
        request_id = f"harmony-{uuid.uuid4().hex}"
        gate = TokenGate(params)
        outputs = self.engine.generate(prompt, self.sampling_params(params), request_id)
        try:
            async for output in outputs:
                completion = output.outputs[0]
                if chunk := gate.take(completion.token_ids):
                    yield chunk
                if gate.done or output.finished:
                    break
        except Exception as exc:
            if isinstance(exc, BackendError):
                raise
            raise BackendError(f"vLLM engine failed on request {request_id}: {exc}") from exc
        finally:
            # vLLM aborts the request when its generator is closed before finishing.
            await outputs.aclose()

    async def aclose(self) -> None:
        """Shut the engine down (frees the GPU)."""
        shutdown = getattr(self.engine, "shutdown", None)
        if shutdown is not None:
            shutdown()
