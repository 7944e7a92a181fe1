"""Events: what the streaming parser and the agent loop report, as frozen dataclasses.

Parser events (``StreamParser.feed``/``finish``; defined in the format layer):
:class:`MessageStart`, :class:`ContentDelta`, :class:`MessageEnd`, :class:`ParseIssue`.
Agent events (``Agent.stream``; defined in the agent layer), in addition:
:class:`Preamble`, :class:`ToolCallStart`, :class:`ToolResult`, :class:`RunEnd`. This
module only gathers them in one place.

Each event has a ``type`` literal, so a ``match`` over :data:`AgentEvent` (or
:data:`Event`) can be checked exhaustively by a type checker::

    from typing_extensions import assert_never  # typing.assert_never on Python 3.11+

    match event:
        case MessageStart() | ContentDelta() | MessageEnd() | ParseIssue(): ...
        case Preamble() | ToolCallStart() | ToolResult(): ...
        case RunEnd(): ...
        case _:
            assert_never(event)
"""

from __future__ import annotations

from harmony_agent.agent._events import AgentEvent, Preamble, RunEnd, ToolCallStart, ToolResult
from harmony_agent.format._events import (
    ContentDelta,
    Event,
    MessageEnd,
    MessageStart,
    ParseIssue,
    StopKind,
)

__all__ = [
    "AgentEvent",
    "ContentDelta",
    "Event",
    "MessageEnd",
    "MessageStart",
    "ParseIssue",
    "Preamble",
    "RunEnd",
    "StopKind",
    "ToolCallStart",
    "ToolResult",
]
