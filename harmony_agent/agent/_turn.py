"""What a finished completion means for a run: :func:`end_of_turn`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Union

from harmony_agent.agent._result import StopReason
from harmony_agent.errors import BackendError
from harmony_agent.format import _tokens as T
from harmony_agent.format._events import Event, MessageEnd, MessageStart
from harmony_agent.format._messages import Channel
from harmony_agent.tools._base import Tool, resolve
from harmony_agent.tools._client import hands_back

__all__ = ["TurnOutcome", "book", "end_of_turn", "handed_back"]

#: What a finished completion leads to: a reason to stop the run, a tool call to answer,
#: or (a message ended with ``<|end|>``) another completion.
TurnOutcome = Union[StopReason, Literal["call", "continue"]]  # noqa: UP007


def end_of_turn(
    last: MessageEnd | None,
    generated: Sequence[int],
    error: BackendError | None,
    truncated: bool,
    limited_by: StopReason,
) -> TurnOutcome:
    """Decide what a finished completion means for the run.

    Args:
        last: the completion's last complete message (None: none completed).
        generated: the completion's tokens (a restored stop token included).
        error: the backend failure that cut it, if any.
        truncated: it was cut by the token limit (``max_tokens`` or a budget).
        limited_by: which limit bounded this completion.
    """
    if error is not None:
        return "interrupted"
    if last is None or last.stop == "incomplete":
        return limited_by if truncated else "no_final"
    message = last.message
    if (
        last.stop == "return"
        or generated[-1] == T.RETURN
        or (message.recipient is None and message.channel is Channel.FINAL)
    ):
        return "final" if message.channel is Channel.FINAL else "no_final"
    if message.recipient is not None:
        return "call"
    return "continue"


def handed_back(tools: Sequence[Tool], routes: dict[str, int], last: MessageEnd | None) -> bool:
    """Whether the call that ended a completion is for a client-side tool.

    Such a tool (:class:`~harmony_agent.tools.ClientTool`) is run by the caller: the run
    then stops with ``"tool_call"``.
    """
    if last is None or last.message.recipient is None:
        return False
    index = resolve(routes, last.message.recipient)
    return index is not None and hands_back(tools[index])


def book(
    event: Event,
    ends: list[MessageEnd],
    marks: list[Event],
    open_start: MessageStart | None,
) -> MessageStart | None:
    """Record a parser event in a completion's lists; returns the message still open.

    ``ends`` collects message ends, ``marks`` starts and ends (for counting reasoning).
    The agent loop does the same inline for the streamed tokens.
    """
    if isinstance(event, MessageStart):
        marks.append(event)
        return event
    if isinstance(event, MessageEnd):
        ends.append(event)
        marks.append(event)
        return None
    return open_start
