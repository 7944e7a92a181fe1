"""Client-side tools: declared to the model, run by the caller, so a call ends the run.

An OpenAI-compatible server declares the functions a client sends (``tools`` of a chat
completion, function tools of a response) but must not run them: the client does, and
sends the result back in its next request. :class:`ClientTool` is such a namespace.
When the model calls one of its functions, the agent stops with
``stop_reason="tool_call"`` and the call is the run's last message
(:attr:`~harmony_agent.RunResult.pending_calls`)::

    tools = ClientTool([{"name": "get_weather", "parameters": {...}}])
    result = await Agent(backend, [tools]).arun("Weather in Oslo?")
    if result.stop_reason == "tool_call":
        call = result.pending_calls[0]  # recipient "functions.get_weather", JSON text
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Message, ToolNamespace, ToolSpec
from harmony_agent.tools._base import Tool, ToolCall

__all__ = ["ClientTool", "hands_back"]


class ClientTool(Tool):
    """Functions the model may call whose calls go back to the caller instead of running.

    Args:
        functions: the functions' specs (:class:`~harmony_agent.ToolSpec`, or mappings
            ``{name, description, parameters}``, OpenAI's ``{"type": "function",
            "function": {...}}`` form included).
        namespace: the namespace that holds them (``functions``).
    """

    def __init__(
        self,
        functions: Iterable[ToolSpec | Mapping[str, Any]],
        *,
        namespace: str = "functions",
    ) -> None:
        specs = tuple(ToolSpec.coerce(f) for f in functions)
        seen: set[str] = set()
        for spec in specs:
            if not spec.name or spec.name in seen:
                problem = "an empty" if not spec.name else f"a repeated ({spec.name!r})"
                raise ToolError(f"{problem} function name in the client's tools")
            seen.add(spec.name)
        self._namespace = ToolNamespace(name=namespace, tools=specs)

    @property
    def namespace(self) -> ToolNamespace:
        """The declared namespace (``functions`` and the client's specs)."""
        return self._namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Never reached in an agent run (the agent stops at the call); refuses to run."""
        raise ToolError(f"{call.recipient} runs on the client, not here")


def hands_back(tool: Tool | None) -> bool:
    """Whether a call to ``tool`` ends the run (it is a :class:`ClientTool`)."""
    return isinstance(tool, ClientTool)
