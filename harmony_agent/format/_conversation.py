"""A conversation: an immutable, validated sequence of messages."""

from __future__ import annotations

import reprlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, overload

from pydantic import BaseModel, ConfigDict, PrivateAttr, model_validator

from harmony_agent.errors import ConversationError
from harmony_agent.format._messages import (
    DeveloperContent,
    Message,
    Role,
    SystemContent,
)

if TYPE_CHECKING:
    import openai_harmony

__all__ = ["Conversation"]

_DEFAULT_CHANNELS = ("analysis", "commentary", "final")


class _State:
    """What the rules need to know about the messages so far (checked incrementally)."""

    __slots__ = ("calls", "count", "has_developer", "has_other", "valid_channels")

    def __init__(self) -> None:
        self.count = 0
        self.has_developer = False
        self.has_other = False
        self.valid_channels: tuple[str, ...] = _DEFAULT_CHANNELS
        self.calls: set[str] = set()

    def copy(self) -> _State:
        new = _State()
        new.count, new.has_developer, new.has_other = self.count, self.has_developer, self.has_other
        new.valid_channels, new.calls = self.valid_channels, set(self.calls)
        return new

    def check(self, m: Message) -> None:
        i = self.count
        role = m.role
        if role is Role.SYSTEM:
            if i != 0:
                raise ConversationError(
                    f"message {i}: a system message must be the first message, and there "
                    "may be only one",
                    index=i,
                    rule="system-first",
                )
            if isinstance(m.content, SystemContent) and m.content.valid_channels:
                self.valid_channels = m.content.valid_channels
        elif role is Role.DEVELOPER:
            if self.has_developer or self.has_other:
                raise ConversationError(
                    f"message {i}: a developer message must come right after the system "
                    "message (or first), and there may be only one",
                    index=i,
                    rule="developer-second",
                )
            self.has_developer = True
        else:
            self.has_other = True
        if isinstance(m.content, SystemContent) and role is not Role.SYSTEM:
            raise ConversationError(
                f"message {i}: SystemContent may only appear in the system message",
                index=i,
                rule="system-content",
            )
        if isinstance(m.content, DeveloperContent) and role is not Role.DEVELOPER:
            raise ConversationError(
                f"message {i}: DeveloperContent may only appear in the developer message",
                index=i,
                rule="developer-content",
            )
        if role is Role.ASSISTANT:
            self._check_assistant(i, m)
        elif role is Role.TOOL:
            self._check_tool(i, m)
        self.count += 1

    def _check_assistant(self, i: int, m: Message) -> None:
        if m.channel is None or m.channel not in self.valid_channels:
            raise ConversationError(
                f"message {i}: an assistant message must name a valid channel "
                f"({', '.join(self.valid_channels)}), got {m.channel!r}",
                index=i,
                rule="assistant-channel",
            )
        if m.recipient is not None:
            if m.channel == "final":
                raise ConversationError(
                    f"message {i}: a final message carries no recipient, got {m.recipient!r}",
                    index=i,
                    rule="final-no-recipient",
                )
            self.calls.add(m.recipient)

    def _check_tool(self, i: int, m: Message) -> None:
        name = m.name
        if not name:
            raise ConversationError(
                f"message {i}: a tool message needs the name of the tool that answers",
                index=i,
                rule="tool-name",
            )
        for call in self.calls:
            if call == name or call.startswith(name + ".") or name.startswith(call + "."):
                return
        raise ConversationError(
            f"message {i}: tool message from {name!r} answers no earlier assistant call "
            f"(calls so far: {sorted(self.calls) or 'none'})",
            index=i,
            rule="tool-answers-call",
        )


def _checked_messages(messages: object) -> tuple[Any, ...]:
    """``messages`` as a tuple, or a TypeError that says what a conversation is built from."""
    if isinstance(messages, (str, bytes, Message, Mapping)) or not isinstance(messages, Iterable):
        example = "Conversation([ha.Message.user('Hi')])"
        raise TypeError(
            "Conversation(messages): messages must be a list of ha.Message, got "
            f"{type(messages).__name__} {reprlib.repr(messages)}; e.g. {example}"
        )
    items = tuple(messages)
    for i, m in enumerate(items):
        if not isinstance(m, (Message, Mapping)):
            raise TypeError(
                f"Conversation(messages): message {i} must be a ha.Message, got "
                f"{type(m).__name__} {reprlib.repr(m)} (build one with ha.Message.user(...) "
                "and the other constructors)"
            )
    return items


class Conversation(BaseModel):
    """An immutable sequence of messages that obeys the role hierarchy.

    Rules (checked on construction and on :meth:`append`, raising
    :class:`~harmony_agent.ConversationError` with the index and the rule):
    at most one system message and it is first; at most one developer message,
    after the system message and before everything else; every assistant message
    names a valid channel; ``final`` carries no recipient; a tool message answers an
    earlier assistant call addressed to it. ``append`` returns a new conversation.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    messages: tuple[Message, ...] = ()
    _state: _State = PrivateAttr(default_factory=_State)

    def __init__(self, messages: Iterable[Message] = (), /, **data: Any) -> None:
        if "messages" in data:
            super().__init__(**data)
        else:
            super().__init__(messages=_checked_messages(messages), **data)

    @model_validator(mode="after")
    def _validate_hierarchy(self) -> Conversation:
        state = _State()
        for m in self.messages:
            state.check(m)
        self._state = state
        return self

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Conversation):
            return self.messages == other.messages
        return NotImplemented

    def __hash__(self) -> int:
        return hash(len(self.messages))

    # -- sequence protocol --------------------------------------------------------
    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[Message]:  # type: ignore[override]
        return iter(self.messages)

    @overload
    def __getitem__(self, index: int) -> Message: ...
    @overload
    def __getitem__(self, index: slice) -> tuple[Message, ...]: ...
    def __getitem__(self, index: int | slice) -> Message | tuple[Message, ...]:
        return self.messages[index]

    def append(self, *messages: Message) -> Conversation:
        """A new conversation with ``messages`` added; only the new ones are checked."""
        return self.extend(messages)

    def extend(self, messages: Iterable[Message]) -> Conversation:
        """A new conversation with ``messages`` added; only the new ones are checked."""
        new = tuple(messages)
        state = self._state.copy()
        for m in new:
            state.check(m)
        out = Conversation.model_construct(messages=self.messages + new)
        out._state = state
        return out

    def __add__(self, other: Iterable[Message]) -> Conversation:
        return self.extend(other)

    @property
    def system(self) -> Message | None:
        """The system message, if any."""
        return self.messages[0] if self.messages and self.messages[0].role is Role.SYSTEM else None

    @property
    def developer(self) -> Message | None:
        """The developer message, if any."""
        for m in self.messages[:2]:
            if m.role is Role.DEVELOPER:
                return m
        return None

    # -- interop --------------------------------------------------------------------
    @classmethod
    def from_messages(cls, messages: Iterable[Message]) -> Conversation:
        """Same as ``Conversation(messages)``."""
        return cls(messages)

    @classmethod
    def from_openai_harmony(cls, obj: openai_harmony.Conversation) -> Conversation:
        """Convert an ``openai_harmony.Conversation``."""
        return cls(Message.from_openai_harmony(m) for m in obj.messages)

    def to_openai_harmony(self) -> openai_harmony.Conversation:
        """Convert to an ``openai_harmony.Conversation`` (needs openai-harmony)."""
        import openai_harmony

        return openai_harmony.Conversation.from_messages(
            [m.to_openai_harmony() for m in self.messages]
        )

    @classmethod
    def unchecked(cls, messages: Sequence[Message]) -> Conversation:
        """Wrap ``messages`` without checking the hierarchy (for parsed model output)."""
        out = cls.model_construct(messages=tuple(messages))
        state = _State()
        for m in out.messages:
            try:
                state.check(m)
            except ConversationError:
                state.count += 1
        out._state = state
        return out
