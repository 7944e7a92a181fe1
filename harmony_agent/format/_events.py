"""The streaming parser's events, as frozen dataclasses.

:class:`MessageStart`, :class:`ContentDelta`, :class:`MessageEnd` and
:class:`ParseIssue`, from ``StreamParser.feed``/``finish``. Each has a ``type`` literal;
:data:`Event` is their union, so a ``match`` over it can be checked exhaustively::

    match event:
        case MessageStart(): ...
        case ContentDelta(): ...
        case MessageEnd(): ...
        case ParseIssue(): ...
        case _:
            assert_never(event)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from harmony_agent.format._messages import Message, Role

__all__ = ["ContentDelta", "Event", "MessageEnd", "MessageStart", "ParseIssue", "StopKind"]

#: How a message ended: ``<|end|>``, ``<|call|>``, ``<|return|>``, or cut off.
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


#: Every event the parser reports.
Event = Union[MessageStart, ContentDelta, MessageEnd, ParseIssue]  # noqa: UP007
