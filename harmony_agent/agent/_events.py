"""The agent loop's own events, as frozen dataclasses.

``Agent.stream`` reports the parser's events (:data:`~harmony_agent.events.Event`) and
these: :class:`Preamble`, :class:`ToolCallStart`, :class:`ToolResult` and, last,
:class:`RunEnd`.
:data:`AgentEvent` is the union of all of them; match on it exhaustively (see
``harmony_agent.events``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Union

from harmony_agent.format._events import Event, MessageEnd
from harmony_agent.format._messages import Channel, Message, Role

if TYPE_CHECKING:
    from harmony_agent.agent._result import RunResult

__all__ = ["AgentEvent", "Preamble", "RunEnd", "ToolCallStart", "ToolResult", "preamble_for"]


@dataclass(frozen=True, slots=True)
class Preamble:
    """The model wrote a preamble: a ``commentary`` message to no one, meant for the user.

    gpt-oss writes these before calling tools ("I'll look that up"). Reported right
    after the message's ``MessageEnd`` (``index`` is that message's, within the
    completion of ``turn``), so an application can show progress without showing any
    chain of thought.
    """

    index: int
    text: str
    turn: int
    type: Literal["preamble"] = field(default="preamble", init=False)


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """The agent is about to run the tool call in ``message``."""

    message: Message
    turn: int
    type: Literal["tool_call_start"] = field(default="tool_call_start", init=False)


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool answered (``messages``); ``error`` is True when the answer reports a failure."""

    call: Message
    messages: tuple[Message, ...]
    error: bool
    turn: int
    type: Literal["tool_result"] = field(default="tool_result", init=False)


@dataclass(frozen=True, slots=True)
class RunEnd:
    """The run is over; ``result`` holds everything it produced."""

    result: RunResult
    type: Literal["run_end"] = field(default="run_end", init=False)


#: Every event a run reports: the parser's and the agent's.
AgentEvent = Union[Event, Preamble, ToolCallStart, ToolResult, RunEnd]  # noqa: UP007


def preamble_for(event: Event, turn: int) -> Preamble | None:
    """The :class:`Preamble` a parser event stands for, if it ends one (else None)."""
    if not isinstance(event, MessageEnd):
        return None
    m = event.message
    if m.channel is Channel.COMMENTARY and m.recipient is None and m.role is Role.ASSISTANT:
        return Preamble(event.index, m.text, turn)
    return None
