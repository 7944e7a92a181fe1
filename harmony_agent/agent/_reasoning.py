"""The reasoning budget: counting ``analysis`` tokens as they stream, and the answer
the loop forces when they run past the budget.

Counting follows the parser's events, not the tokens one by one: a chunk's tokens
count as analysis while an analysis message is open; a chunk where messages start or
end is split at their ``<|message|>`` and terminator tokens (found with ``list.index``,
once per boundary). So the cost per chunk is a call and a few comparisons, whatever the
chunk size, and the count does not depend on how the stream was chunked.
"""

from __future__ import annotations

from collections.abc import Sequence

from harmony_agent.agent._limits import Limits
from harmony_agent.format import _tokens as T
from harmony_agent.format._events import ContentDelta, Event, MessageEnd, MessageStart

__all__ = ["ReasoningMeter", "analysis_tokens", "meter_for"]

_ANALYSIS = "analysis"
#: The token that ended a message's text, by ``MessageEnd.stop`` (a cut message ends at
#: the ``<|start|>`` the lenient parser met, or at the end of the tokens). Searching for
#: the one token known to be there keeps ``list.index`` from raising (costly) as a rule.
_TERMINATOR = {"end": T.END, "call": T.CALL, "return": T.RETURN, "incomplete": T.START}


def _find(tokens: Sequence[int], token: int, start: int) -> int:
    try:
        return tokens.index(token, start)
    except ValueError:
        return len(tokens)


def analysis_tokens(
    tokens: Sequence[int], events: Sequence[Event], thinking: bool = False
) -> tuple[int, bool]:
    """How many of ``tokens`` are analysis text, given the parser's ``events`` for them.

    Args:
        tokens: consecutive generated tokens (a chunk, or a whole completion).
        events: the events the parser reported for exactly these tokens.
        thinking: an analysis message was open before ``tokens``.

    Returns:
        the count, and whether an analysis message is still open after ``tokens``.
    """
    pos, count = 0, 0
    opened = 0 if thinking else -1  # where the open analysis text began
    for event in events:
        kind = type(event)
        if kind is MessageStart:
            channel = event.channel  # type: ignore[union-attr]
            if channel is not None:  # a header-less message has no <|message|>
                pos = _find(tokens, T.MESSAGE, pos) + 1
            # code sent from the analysis channel (``analysis to=python``) is a tool
            # call, not reasoning
            reasoning = channel == _ANALYSIS and event.recipient is None  # type: ignore[union-attr]
            opened = pos if reasoning else -1
        elif kind is MessageEnd:
            end = _find(tokens, _TERMINATOR[event.stop], pos)  # type: ignore[union-attr]
            if opened >= 0:
                count += end - opened
                opened = -1
            pos = min(end + 1, len(tokens))
    if opened >= 0:
        count += len(tokens) - opened
    return count, opened >= 0


class ReasoningMeter:
    """Watches one completion's stream for the moment its analysis passes ``limit``.

    ``over(chunk, events)`` after each chunk; True means: an analysis message is still
    open and the completion has written more than ``limit`` analysis tokens.
    """

    __slots__ = ("limit", "thinking", "tokens")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.tokens = 0
        self.thinking = False

    def over(self, chunk: Sequence[int], events: Sequence[Event]) -> bool:
        """Count ``chunk`` (with the events the parser made of it); True once over."""
        if not events or (len(events) == 1 and type(events[0]) is ContentDelta):
            if self.thinking:  # no message started or ended: all or nothing
                self.tokens += len(chunk)
        else:
            counted, self.thinking = analysis_tokens(chunk, events, self.thinking)
            self.tokens += counted
        return self.thinking and self.tokens > self.limit


def meter_for(limits: Limits, spent: int) -> tuple[ReasoningMeter | None, bool]:
    """The meter of a run's next completion (None: no budget applies), and whether it
    must answer at once (the run's budget is spent: it starts on ``final``).

    Args:
        limits: the agent's limits.
        spent: the analysis tokens the run's completions wrote so far.
    """
    limit, run = limits.reasoning_budget, limits.run_reasoning_budget
    if run is not None:
        if spent >= run:
            return None, True
        limit = run - spent if limit is None else min(limit, run - spent)
    return (None if limit is None else ReasoningMeter(limit)), False
