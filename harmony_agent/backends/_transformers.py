"""Hugging Face ``transformers``: ``model.generate`` in a background thread, streamed."""

from __future__ import annotations

import asyncio
import importlib
import os
import threading
from collections.abc import AsyncIterator
from typing import Any

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._tokens import TokenGate, stop_set
from harmony_agent.errors import BackendError

__all__ = ["Transformers"]

_INSTALL_HINT = "pip install 'harmony_agent[transformers]'"
_DONE = object()


def _import_torch() -> tuple[Any, Any]:
    try:
        torch = importlib.import_module("torch")
        transformers = importlib.import_module("transformers")
    except ImportError as exc:
        raise ImportError(
            f"Transformers needs torch and transformers: {_INSTALL_HINT} ({exc})"
        ) from exc
    return torch, transformers


class Transformers:
    """A Hugging Face causal LM run in this process, e.g. ``Transformers("openai/gpt-oss-20b")``.

    ``model.generate`` runs in a background thread and its tokens are handed to the
    event loop as they come. One generation runs at a time per backend (a lock);
    closing the stream stops the generation at the next token.

    Args:
        model: a model object (``AutoModelForCausalLM``) or a name or path to load.
        device: where to run (``"cuda"``, ``"cpu"``); default: the model's device, or
            CUDA when available for a model loaded here.
        dtype: the dtype to load in (``"auto"`` keeps the checkpoint's).
        **load_kwargs: more ``from_pretrained`` arguments.

    Raises:
        ImportError: torch or transformers is missing
            (``pip install 'harmony_agent[transformers]'``).
    """

    def __init__(
        self,
        model: str | os.PathLike[str] | Any,
        *,
        device: str | None = None,
        dtype: str | Any = "auto",
        **load_kwargs: Any,
    ) -> None:
        torch, transformers = _import_torch()
        self._torch = torch
        self._transformers = transformers
        if isinstance(model, (str, os.PathLike)):
            device = device or ("cuda" if torch.cuda.is_available() else "cpu")
            major, minor = (int(part) for part in transformers.__version__.split(".")[:2])
            dtype_arg = "dtype" if (major, minor) >= (4, 56) else "torch_dtype"  # renamed in 4.56
            model = transformers.AutoModelForCausalLM.from_pretrained(
                os.fspath(model), **{dtype_arg: dtype}, **load_kwargs
            ).to(device)
        elif device is not None:
            model = model.to(device)
        self.model = model
        self.device = device or str(getattr(model, "device", "cpu"))
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        name = getattr(
            getattr(self.model, "config", None), "_name_or_path", type(self.model).__name__
        )
        return f"Transformers({name!r}, device={self.device!r})"

    def generate_kwargs(self, params: SamplingParams) -> dict[str, Any]:
        """Keyword arguments of ``model.generate`` for ``params`` (streamer and stops aside)."""
        stops = list(stop_set(params))
        kwargs: dict[str, Any] = {
            "max_new_tokens": params.max_tokens,
            "eos_token_id": stops or None,
            "pad_token_id": stops[0] if stops else None,
        }
        if params.temperature > 0:
            # top_k=0: sample from temperature and top_p alone, like the servers do.
            kwargs.update(
                do_sample=True, temperature=params.temperature, top_p=params.top_p, top_k=0
            )
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        return kwargs

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[list[int]]:
        """Stream the completion of ``prompt_tokens`` as chunks of token ids."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        cancel = threading.Event()
        thread = threading.Thread(
            target=self._generate,
            args=(list(prompt_tokens), params, loop, queue, cancel),
            name="harmony-agent-transformers",
            daemon=True,
        )
        thread.start()
        gate = TokenGate(params)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise BackendError(f"transformers generation failed: {item!r}") from item
                if chunk := gate.take(item):
                    yield chunk
                if gate.done:
                    return
        finally:
            cancel.set()  # the thread stops at its next token and releases the lock

    def _generate(
        self,
        prompt: list[int],
        params: SamplingParams,
        loop: asyncio.AbstractEventLoop,
        queue: asyncio.Queue[Any],
        cancel: threading.Event,
    ) -> None:
        torch = self._torch

        def send(item: Any) -> None:
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        class Streamer:
            """Receives the prompt once, then each step's new tokens."""

            prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:
                    self.prompt_seen = True
                    return
                send([int(t) for t in value.reshape(-1).tolist()])

            def end(self) -> None:
                pass

        class Cancelled(self._transformers.StoppingCriteria):  # type: ignore[misc,name-defined]
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.full(
                    (input_ids.shape[0],),
                    cancel.is_set(),
                    dtype=torch.bool,
                    device=input_ids.device,
                )

        try:
            with self._lock:
                if cancel.is_set():
                    return
                if params.seed is not None:
                    torch.manual_seed(params.seed)
                input_ids = torch.tensor([prompt], dtype=torch.long, device=self.model.device)
                with torch.inference_mode():
                    self.model.generate(
                        input_ids=input_ids,
                        attention_mask=torch.ones_like(input_ids),
                        streamer=Streamer(),
                        stopping_criteria=self._transformers.StoppingCriteriaList([Cancelled()]),
                        **self.generate_kwargs(params),
                    )
        except BaseException as exc:  # handed to the event loop, raised there
            send(exc)
        finally:
            send(_DONE)
