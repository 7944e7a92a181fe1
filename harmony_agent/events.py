"""Events: what the streaming parser and the agent loop report, as frozen dataclasses.

Parser events (``StreamParser.feed``/``finish``): :class:`MessageStart`,
:class:`ContentDelta`, :class:`MessageEnd`, :class:`ParseIssue`.
Agent events (``Agent.stream``), in addition: :class:`ToolCallStart`,
:class:`ToolResult`, :class:`RunEnd`.

Each event has a ``type`` literal, so ``match event: case ContentDelta(): ...`` or a
dispatch on ``event.type`` can be checked exhaustively.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Union

from harmony_agent.format._messages import Message, Role

if TYPE_CHECKING:
    from harmony_agent.agent._result import RunResult

__all__ = [
    "AgentEvent",
    "ContentDelta",
    "Event",
    "MessageEnd",
    "MessageStart",
    "ParseIssue",
    "RunEnd",
    "StopKind",
    "ToolCallStart",
    "ToolResult",
]

StopKind = Literal["end", "call", "return", "incomplete"]


@dataclass(frozen=True, slots=True)
class MessageStart:
    """A message header was parsed; content deltas for ``index`` follow."""

    index: int
    role: Role | None
    channel: str | None
    recipient: str | None
    content_type: str | None
    type: Literal["message_start"] = field(default="message_start", init=False)


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """New text of message ``index`` (never splits a UTF-8 character)."""

    index: int
    channel: str | None
    recipient: str | None
    text: str
    type: Literal["content_delta"] = field(default="content_delta", init=False)


@dataclass(frozen=True, slots=True)
class MessageEnd:
    """Message ``index`` is complete; ``stop`` says how it ended."""

    index: int
    message: Message
    stop: StopKind
    type: Literal["message_end"] = field(default="message_end", init=False)


@dataclass(frozen=True, slots=True)
class ParseIssue:
    """Tokens the lenient parser could not place in a message, and why.

    ``index`` is the message the issue occurred in or before.
    """

    index: int
    detail: str
    tokens: tuple[int, ...]
    type: Literal["parse_issue"] = field(default="parse_issue", init=False)


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


Event = Union[MessageStart, ContentDelta, MessageEnd, ParseIssue]  # noqa: UP007
AgentEvent = Union[Event, ToolCallStart, ToolResult, RunEnd]  # noqa: UP007
