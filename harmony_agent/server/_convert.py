"""From OpenAI API shapes to harmony messages, shared by every endpoint.

OpenAI's ``system``/``developer`` messages (or ``instructions``) become the harmony
developer message's ``# Instructions`` (the harmony system message is the server's:
identity, reasoning effort, built-in tools). Function tools become the developer
message's ``functions`` namespace (a :class:`~harmony_agent.tools.ClientTool`: declared
to the model, never run here). An earlier function call and its result become a
commentary call ``to=functions.NAME`` (``<|constrain|>json``) and a tool message from
``functions.NAME``, as gpt-oss writes and reads them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Channel, Message, ToolSpec
from harmony_agent.server._errors import bad_request
from harmony_agent.tools._client import ClientTool

__all__ = [
    "call_id",
    "client_tool",
    "function_call_message",
    "function_result_message",
    "instructions_from",
    "json_text",
    "reasoning_message",
]

#: How gpt-oss marks JSON arguments in a call's header.
JSON_CONSTRAINT = "<|constrain|>json"


def call_id(prefix: str = "call_") -> str:
    """A fresh id for a function call (``call_`` and 24 random characters)."""
    return prefix + secrets.token_urlsafe(18)


def client_tool(functions: Iterable[ToolSpec | Mapping[str, Any]], *, param: str) -> ClientTool:
    """The client's function tools as one namespace; a bad declaration is a 400 on ``param``."""
    try:
        return ClientTool(functions)
    except (ToolError, ValueError, TypeError) as exc:
        raise bad_request(f"invalid function tool: {exc}", param=param) from None


def function_call_message(name: str, arguments: str) -> Message:
    """An assistant call to ``functions.NAME`` with JSON ``arguments`` (commentary)."""
    return Message.assistant(
        arguments,
        channel=Channel.COMMENTARY,
        recipient=f"functions.{name}",
        content_type=JSON_CONSTRAINT,
    )


def function_result_message(name: str, output: str) -> Message:
    """The tool message that answers a call to ``functions.NAME`` with ``output``."""
    return Message.tool(f"functions.{name}", output, Channel.COMMENTARY)


def reasoning_message(text: str) -> Message:
    """Earlier chain of thought sent back by the client (analysis channel)."""
    return Message.assistant(text, channel=Channel.ANALYSIS)


def instructions_from(parts: Iterable[str | None]) -> str | None:
    """Several instruction texts (system, developer, ``instructions``) as one, or None."""
    texts = [p.strip() for p in parts if p and p.strip()]
    return "\n\n".join(texts) or None


def json_text(value: Any) -> str:
    """A tool output or argument value as text: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)
