"""Adapters from inference engines to the backend protocol (tokens in, tokens out).

HTTP servers: :class:`VLLM`, :class:`SGLang`, :class:`LlamaCpp`, :class:`Ollama`.
In-process: :class:`VLLMEngine`, :class:`Transformers` (their heavy imports happen on
construction). :class:`Resuming` resumes broken streams (the agent does it for you), and every HTTP
stream the server finished ends with a :class:`Finish` chunk. For tests:
:class:`Scripted` replays completions, and
``harmony_agent.testing`` has fake servers that speak each engine's wire format.
:class:`Pool` spreads runs over several endpoints and fails over between them.
:class:`Replay` plays recorded runs back token for token and reports prompt drift.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._backend import Finish
from harmony_agent.agent._resume import ResumePolicy, Resuming
from harmony_agent.backends._scripted import Scripted
from harmony_agent.backends._transformers import Transformers
from harmony_agent.backends._vllm_engine import VLLMEngine
from harmony_agent.errors import ReplayDrift, ReplayExhausted

if TYPE_CHECKING:
    from harmony_agent.backends._http import HTTPBackend
    from harmony_agent.backends._llamacpp import LlamaCpp
    from harmony_agent.backends._ollama import Ollama
    from harmony_agent.backends._pool import Pool
    from harmony_agent.backends._replay import Replay
    from harmony_agent.backends._sglang import SGLang
    from harmony_agent.backends._vllm import VLLM

# The HTTP adapters load httpx: imported on first use, so in-process backends never do.
_LAZY = {
    "HTTPBackend": "harmony_agent.backends._http",
    "LlamaCpp": "harmony_agent.backends._llamacpp",
    "Ollama": "harmony_agent.backends._ollama",
    "Pool": "harmony_agent.backends._pool",
    "Replay": "harmony_agent.backends._replay",
    "SGLang": "harmony_agent.backends._sglang",
    "VLLM": "harmony_agent.backends._vllm",
}

__all__ = [
    "VLLM",
    "Finish",
    "HTTPBackend",
    "LlamaCpp",
    "Ollama",
    "Pool",
    "Replay",
    "ReplayDrift",
    "ReplayExhausted",
    "ResumePolicy",
    "Resuming",
    "SGLang",
    "Scripted",
    "Transformers",
    "VLLMEngine",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
