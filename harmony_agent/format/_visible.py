"""What an end user may see of a model's output: the chain-of-thought filter.

gpt-oss writes its chain of thought on the ``analysis`` channel. It is not held to the
safety standards of the answer and must never reach end users. What they may see:

- ``final`` messages (the answer);
- with ``include_preambles``, ``commentary`` messages addressed to no one (short
  "let me check that" notes the model writes before calling tools);
- with ``include_unlabeled``, messages without any channel (what the lenient parser
  makes of text that came without a header). Off by default: such text is most often
  chain of thought whose header was lost.

Never shown: ``analysis``, tool calls (any message with a recipient: their content is
the call's arguments), tool answers, unknown channels, and the system/developer/user
messages (which are not model output).

:func:`visible_text` works on finished messages or on parser events;
:class:`VisibleTextFilter` does the same incrementally, for a chat UI;
:func:`strip_reasoning` turns a finished conversation into its chain-of-thought-free
form for storage or display (the input list is left as it was: keep it if you need
the raw turn, e.g. to continue a tool-calling turn).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from harmony_agent.format._events import ContentDelta, MessageEnd, MessageStart
from harmony_agent.format._messages import Channel, Message, Role

__all__ = ["VisibleTextFilter", "is_visible", "strip_reasoning", "visible_text"]


def is_visible(
    role: Role | str | None,
    channel: str | None,
    recipient: str | None,
    *,
    include_preambles: bool = False,
    include_unlabeled: bool = False,
) -> bool:
    """Whether a message with this header may be shown to an end user."""
    if recipient is not None or (role is not None and role != Role.ASSISTANT):
        return False
    if channel == Channel.FINAL:
        return True
    if channel == Channel.COMMENTARY:
        return include_preambles
    return channel is None and include_unlabeled


class VisibleTextFilter:
    """Turns a stream of events into the text an end user may see, as it arrives.

    ``feed`` takes one event or several (anything else an agent stream yields is
    ignored) and returns the new visible text, possibly ``""``::

        ui = VisibleTextFilter()
        async for event in agent.stream(question):
            print(ui.feed(event), end="", flush=True)

    Visible messages are joined by ``separator``. The text fed so far is in ``text``.
    Feeding ``ContentDelta`` events alone works too (their role is then taken to be
    the assistant's); a ``MessageEnd`` whose message sent no deltas contributes its text.
    """

    def __init__(
        self,
        include_preambles: bool = False,
        *,
        include_unlabeled: bool = False,
        separator: str = "\n\n",
    ) -> None:
        self.include_preambles = include_preambles
        self.include_unlabeled = include_unlabeled
        self.separator = separator
        self.text = ""
        self._roles: dict[int, Role | None] = {}
        self._started: set[int] = set()  # messages that have shown text already

    def _visible(self, index: int, channel: str | None, recipient: str | None) -> bool:
        return is_visible(
            self._roles.get(index),
            channel,
            recipient,
            include_preambles=self.include_preambles,
            include_unlabeled=self.include_unlabeled,
        )

    def _show(self, text: str, index: int | None = None) -> str:
        """Append ``text``; a message's first text (``index`` None: a whole message)
        is preceded by the separator when something was shown before it."""
        if index is None or index not in self._started:
            if index is not None:
                self._started.add(index)
            if self.text:
                text = self.separator + text
        self.text += text
        return text

    def feed(self, events: Any) -> str:
        """Take one event or an iterable of events; return the new visible text."""
        if isinstance(events, (ContentDelta, MessageStart, MessageEnd)):
            events = (events,)
        elif not isinstance(events, Iterable):
            return ""
        shown: list[str] = []
        for event in events:
            if type(event) is ContentDelta:
                if event.text and self._visible(event.index, event.channel, event.recipient):
                    shown.append(self._show(event.text, event.index))
            elif isinstance(event, MessageStart):  # indexes restart with every completion
                self._roles[event.index] = event.role
                self._started.discard(event.index)
            elif isinstance(event, MessageEnd):
                m = event.message
                started = event.index in self._started
                self._roles.pop(event.index, None)
                self._started.discard(event.index)
                if not started and m.text and _message_visible(m, self):
                    shown.append(self._show(m.text))
        return "".join(shown)

    def iter(self, events: Iterable[Any]) -> Iterator[str]:
        """Yield the visible text of each event of ``events`` (non-empty pieces only)."""
        for event in events:
            text = self.feed(event)
            if text:
                yield text

    async def aiter(self, events: AsyncIterable[Any]) -> AsyncIterator[str]:
        """Async version of :meth:`iter`, e.g. over ``agent.stream(...)``."""
        async for event in events:
            text = self.feed(event)
            if text:
                yield text


def _message_visible(message: Message, f: VisibleTextFilter) -> bool:
    return is_visible(
        message.role,
        None if message.channel is None else str(message.channel),
        message.recipient,
        include_preambles=f.include_preambles,
        include_unlabeled=f.include_unlabeled,
    )


def visible_text(
    messages_or_events: Iterable[Any] | Message,
    include_preambles: bool = False,
    *,
    include_unlabeled: bool = False,
    separator: str = "\n\n",
) -> str:
    """The text an end user may see: ``final`` messages (and, on request, commentary
    preambles), never ``analysis`` or tool calls.

    Takes messages (e.g. ``parser.messages``, ``result.messages``) or the events of a
    stream (deltas and message ends are not counted twice), or a mix.
    """
    f = VisibleTextFilter(
        include_preambles, include_unlabeled=include_unlabeled, separator=separator
    )
    items = (messages_or_events,) if isinstance(messages_or_events, Message) else messages_or_events
    for item in items:
        if isinstance(item, Message):
            if item.text and _message_visible(item, f):
                f._show(item.text)
        else:
            f.feed(item)
    return f.text


def strip_reasoning(
    messages: Iterable[Message],
    *,
    include_preambles: bool = True,
    include_unlabeled: bool = False,
) -> list[Message]:
    """The conversation without chain of thought, for storage or display.

    Keeps system, developer and user messages and what :func:`is_visible` allows of the
    assistant's; drops ``analysis``, tool calls and tool answers. Returns a new list.
    """
    kept: list[Message] = []
    for m in messages:
        if m.role in (Role.SYSTEM, Role.DEVELOPER, Role.USER) or is_visible(
            m.role,
            None if m.channel is None else str(m.channel),
            m.recipient,
            include_preambles=include_preambles,
            include_unlabeled=include_unlabeled,
        ):
            kept.append(m)
    return kept
