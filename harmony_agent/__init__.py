"""harmony_agent: build agents on OpenAI's gpt-oss models and their harmony format.

``import harmony_agent as ha``. The codec and message model load eagerly and light;
the agent loop, tools and backends load on first use.
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from harmony_agent.errors import (
    BackendError,
    ConversationError,
    HarmonyAgentError,
    ParseError,
    RecordingError,
    RenderError,
    StreamInterrupted,
    ToolError,
    VocabError,
)
from harmony_agent.format import (
    Channel,
    Conversation,
    DeveloperContent,
    Encoding,
    Message,
    ReasoningEffort,
    RenderConfig,
    ResponseFormat,
    Role,
    SystemContent,
    ToolNamespace,
    ToolSpec,
    load_encoding,
)

if TYPE_CHECKING:
    from harmony_agent import backends, browser, events
    from harmony_agent.agent import Agent, RunResult, run_many
    from harmony_agent.agent._backend import Backend, SamplingParams
    from harmony_agent.agent._record import Recorder
    from harmony_agent.agent._recording import Recording
    from harmony_agent.agent._resume import ResumePolicy
    from harmony_agent.browser import BrowserTool
    from harmony_agent.events import (
        ContentDelta,
        Event,
        MessageEnd,
        MessageStart,
        ParseIssue,
        Preamble,
        RunEnd,
        ToolCallStart,
        ToolResult,
    )
    from harmony_agent.format._parser import StreamParser
    from harmony_agent.format._visible import VisibleTextFilter, strip_reasoning, visible_text
    from harmony_agent.mcp import MCPServer
    from harmony_agent.tools import FunctionTool, PythonTool, Tool, ToolCall, tool

__version__ = "0.1.0"

# A library adds no handler of its own: nothing is printed until the application
# configures logging (without this, Python would print warnings to stderr).
logging.getLogger("harmony_agent").addHandler(logging.NullHandler())

_LAZY = {
    "Agent": "harmony_agent.agent",
    "RunResult": "harmony_agent.agent",
    "run_many": "harmony_agent.agent",
    "Backend": "harmony_agent.agent._backend",
    "SamplingParams": "harmony_agent.agent._backend",
    "ResumePolicy": "harmony_agent.agent._resume",
    "Recorder": "harmony_agent.agent._record",
    "Recording": "harmony_agent.agent._recording",
    "BrowserTool": "harmony_agent.browser",
    "ContentDelta": "harmony_agent.format._events",
    "Event": "harmony_agent.format._events",
    "MessageEnd": "harmony_agent.format._events",
    "MessageStart": "harmony_agent.format._events",
    "ParseIssue": "harmony_agent.format._events",
    "Preamble": "harmony_agent.agent._events",
    "RunEnd": "harmony_agent.agent._events",
    "ToolCallStart": "harmony_agent.agent._events",
    "ToolResult": "harmony_agent.agent._events",
    "StreamParser": "harmony_agent.format._parser",
    "VisibleTextFilter": "harmony_agent.format._visible",
    "strip_reasoning": "harmony_agent.format._visible",
    "visible_text": "harmony_agent.format._visible",
    "FunctionTool": "harmony_agent.tools",
    "MCPServer": "harmony_agent.mcp",
    "PythonTool": "harmony_agent.tools",
    "Tool": "harmony_agent.tools",
    "ToolCall": "harmony_agent.tools",
    "tool": "harmony_agent.tools",
}
_SUBMODULES = {"backends", "browser", "events", "compat", "testing"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        module = importlib.import_module(f"harmony_agent.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module 'harmony_agent' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*__all__, *_SUBMODULES})  # the public API only


__all__ = [
    "Agent",
    "Backend",
    "BackendError",
    "BrowserTool",
    "Channel",
    "ContentDelta",
    "Conversation",
    "ConversationError",
    "DeveloperContent",
    "Encoding",
    "Event",
    "FunctionTool",
    "HarmonyAgentError",
    "MCPServer",
    "Message",
    "MessageEnd",
    "MessageStart",
    "ParseError",
    "ParseIssue",
    "Preamble",
    "PythonTool",
    "ReasoningEffort",
    "Recorder",
    "Recording",
    "RecordingError",
    "RenderConfig",
    "RenderError",
    "ResponseFormat",
    "ResumePolicy",
    "Role",
    "RunEnd",
    "RunResult",
    "SamplingParams",
    "StreamInterrupted",
    "StreamParser",
    "SystemContent",
    "Tool",
    "ToolCall",
    "ToolCallStart",
    "ToolError",
    "ToolNamespace",
    "ToolResult",
    "ToolSpec",
    "VisibleTextFilter",
    "VocabError",
    "backends",
    "browser",
    "events",
    "load_encoding",
    "run_many",
    "strip_reasoning",
    "tool",
    "visible_text",
]
