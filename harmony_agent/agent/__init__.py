"""The agent layer: the backend protocol, sampling parameters and the agent loop.

:class:`Agent` runs a gpt-oss model with tools (``run``, ``arun``, ``stream``) and
returns a :class:`RunResult`; :func:`run_many` runs many episodes concurrently.
The loop loads on first use, so backends can import the protocol alone.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._backend import Backend, Finish, FinishReason, SamplingParams, as_backend

if TYPE_CHECKING:
    from harmony_agent.agent._agent import Agent, AgentInput
    from harmony_agent.agent._limits import Limits
    from harmony_agent.agent._many import arun_many, run_many
    from harmony_agent.agent._record import Recorder
    from harmony_agent.agent._recording import RecordedRun, Recording
    from harmony_agent.agent._result import RunResult, StopReason, Usage
    from harmony_agent.agent._resume import ResumePolicy, Resuming

_LAZY = {
    "Agent": "harmony_agent.agent._agent",
    "AgentInput": "harmony_agent.agent._agent",
    "arun_many": "harmony_agent.agent._many",
    "run_many": "harmony_agent.agent._many",
    "Limits": "harmony_agent.agent._limits",
    "Recorder": "harmony_agent.agent._record",
    "RecordedRun": "harmony_agent.agent._recording",
    "Recording": "harmony_agent.agent._recording",
    "ResumePolicy": "harmony_agent.agent._resume",
    "Resuming": "harmony_agent.agent._resume",
    "RunResult": "harmony_agent.agent._result",
    "StopReason": "harmony_agent.agent._result",
    "Usage": "harmony_agent.agent._result",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'harmony_agent.agent' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "Agent",
    "AgentInput",
    "Backend",
    "Finish",
    "FinishReason",
    "Limits",
    "RecordedRun",
    "Recorder",
    "Recording",
    "ResumePolicy",
    "Resuming",
    "RunResult",
    "SamplingParams",
    "StopReason",
    "Usage",
    "arun_many",
    "as_backend",
    "run_many",
]
