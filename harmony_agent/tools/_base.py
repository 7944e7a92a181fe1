"""The tool interface: what the agent needs from every tool, and the call it hands over.

A tool declares one namespace of the prompt (``functions``, ``python``, ``browser`` or
your own) and answers calls addressed to it with tool messages::

    class Echo(Tool):
        namespace = ToolNamespace(name="echo", description="Repeats what it is sent.")

        async def call(self, call: ToolCall) -> list[Message]:
            return [call.reply(call.arguments)]

Failures the model can fix are answers, not crashes: raise :class:`ToolError` with a
message written for the model and the agent sends it back as the tool's reply.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar, Literal

from harmony_agent.errors import ToolError
from harmony_agent.format._messages import Channel, Message, ToolNamespace

__all__ = ["Placement", "Tool", "ToolCall", "declarations", "error_text", "resolve", "route_table"]

#: Where a tool's namespace is declared: built-in tools (python, browser) in the system
#: message, function tools in the developer message.
Placement = Literal["system", "developer"]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One call the model made: the parsed header and body of an assistant message.

    Attributes:
        recipient: the full name the model addressed, e.g. ``"functions.get_weather"``,
            ``"browser.search"`` or ``"python"``.
        arguments: the message body as written (JSON for function tools, code for python).
        content_type: the header's content type (``"<|constrain|>json"``, ``"json"``,
            ``"code"``) or None.
        channel: the channel the call was made on; the answer goes to the same one.
    """

    recipient: str
    arguments: str
    content_type: str | None = None
    channel: str = "commentary"

    @classmethod
    def from_message(cls, message: Message) -> ToolCall:
        """The call carried by an assistant message with a recipient."""
        if message.recipient is None:
            raise ToolError(f"message on {message.channel!r} has no recipient: it is not a call")
        channel = message.channel
        return cls(
            recipient=message.recipient,
            arguments=message.text,
            content_type=message.content_type,
            channel=Channel.COMMENTARY.value if channel is None else str(channel),
        )

    @property
    def namespace(self) -> str:
        """The part of the recipient before the first dot (``"functions"``)."""
        return self.recipient.partition(".")[0]

    @property
    def name(self) -> str:
        """The part after the first dot (``"get_weather"``); empty for ``"python"``."""
        return self.recipient.partition(".")[2]

    def reply(self, text: str) -> Message:
        """A tool message answering this call, authored by the recipient it was sent to."""
        return Message.tool(self.recipient, text, self.channel)

    def error(self, detail: str) -> Message:
        """A tool message reporting a failure (see :func:`error_text`)."""
        return self.reply(error_text(detail))


def error_text(detail: str) -> str:
    """The text of an error answer: ``"Error: <detail>"``, one form for every tool."""
    return detail if detail.startswith("Error:") else f"Error: {detail}"


class Tool(abc.ABC):
    """Anything the model can call: a namespace for the prompt and an async ``call``.

    Subclasses set :attr:`namespace` (a class attribute is enough) and implement
    :meth:`call`. Optional: :attr:`placement` (``"system"`` for built-in tools such as
    python and browser, ``"developer"`` for function tools, the default),
    :attr:`timeout` (seconds; the agent's ``tool_timeout`` applies when None) and
    :meth:`session` for tools that keep state per run.

    Several tools may share a namespace (every :class:`FunctionTool` lives in
    ``functions``); the agent merges their declarations and routes each call by the
    full recipient name.
    """

    placement: ClassVar[Placement] = "developer"
    timeout: float | None = None

    @property
    @abc.abstractmethod
    def namespace(self) -> ToolNamespace:
        """How the tool is declared in the prompt (name, description, functions)."""

    @abc.abstractmethod
    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Answer ``call`` with one or more tool messages (usually ``[call.reply(text)]``).

        Raise :class:`~harmony_agent.ToolError` with a message for the model when the
        call cannot be served (bad arguments, unknown function); the agent turns it into
        an error answer. Any other exception is reported to the model the same way.
        """

    def session(self) -> AbstractAsyncContextManager[Tool]:
        """The tool to use for one run, set up on entry and torn down on exit.

        The agent enters every tool's session when a run starts, so a stateful tool
        (a Jupyter kernel, a browser history) can give each run, and each of many
        concurrent runs, its own state. The default is the tool itself, unchanged.
        """
        return _same(self)

    @property
    def names(self) -> tuple[str, ...]:
        """Every full recipient name this tool answers (``"functions.add"``, ``"python"``)."""
        ns = self.namespace
        if not ns.tools:
            return (ns.name,)
        return tuple(f"{ns.name}.{spec.name}" for spec in ns.tools)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(self.names)})"


@asynccontextmanager
async def _same(tool: Tool) -> AsyncIterator[Tool]:
    yield tool


# -- what the agent does with a set of tools ------------------------------------------------
def declarations(tools: Sequence[Tool]) -> list[tuple[ToolNamespace, Placement]]:
    """One declaration per namespace: tools sharing a namespace are merged in order."""
    merged: dict[str, tuple[ToolNamespace, Placement]] = {}
    for tool in tools:
        ns = tool.namespace
        if ns.name not in merged:
            merged[ns.name] = (ns, tool.placement)
            continue
        seen, placement = merged[ns.name]
        if placement != tool.placement:
            raise ToolError(
                f"namespace {ns.name!r} is declared in the {placement} message by one tool "
                f"and in the {tool.placement} message by {tool!r}"
            )
        merged[ns.name] = (
            seen.model_copy(
                update={
                    "description": seen.description or ns.description,
                    "tools": (*seen.tools, *ns.tools),
                }
            ),
            placement,
        )
    return list(merged.values())


def route_table(tools: Sequence[Tool]) -> dict[str, int]:
    """Full recipient name (``"functions.add"``, ``"python"``) -> index of its tool."""
    table: dict[str, int] = {}
    for i, tool in enumerate(tools):
        for name in tool.names:
            if name in table:
                raise ToolError(f"two tools answer {name!r}: {tools[table[name]]!r} and {tool!r}")
            table[name] = i
    return table


def resolve(table: dict[str, int], recipient: str) -> int | None:
    """The index of the tool that answers ``recipient``, or None for an unknown one.

    A bare function name the model forgot to prefix (``"get_weather"``) resolves when
    exactly one tool has a function of that name, and ``"functions.python"`` (gpt-oss
    sometimes writes it) reaches the python tool when no function is called ``python``.
    """
    recipient = recipient.strip()
    index = table.get(recipient)
    if index is None and recipient == "functions.python":
        return table.get("python")
    if index is not None or "." in recipient:
        return index
    matches = {i for full, i in table.items() if full.rpartition(".")[2] == recipient}
    return matches.pop() if len(matches) == 1 else None
