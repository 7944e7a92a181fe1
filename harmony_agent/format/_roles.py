"""Who speaks and where: :class:`Role`, :class:`Channel`, :class:`ReasoningEffort`.

Also the small checks the message constructors share (channel near misses, text
arguments) and the validator that turns channel names into :class:`Channel` members.
"""

from __future__ import annotations

import difflib
import reprlib
from enum import Enum
from typing import Annotated, Union

from pydantic import BeforeValidator

__all__ = [
    "Channel",
    "ChannelName",
    "ReasoningEffort",
    "Role",
    "as_channel",
    "as_effort",
    "check_channel",
    "check_text",
    "show",
]


class Role(str, Enum):
    """Who wrote a message, highest authority first."""

    SYSTEM = "system"
    DEVELOPER = "developer"
    USER = "user"
    ASSISTANT = "assistant"
    TOOL = "tool"

    def __str__(self) -> str:
        return self.value


class Channel(str, Enum):
    """Assistant output channels."""

    ANALYSIS = "analysis"
    COMMENTARY = "commentary"
    FINAL = "final"

    def __str__(self) -> str:
        return self.value


class ReasoningEffort(str, Enum):
    """Reasoning effort stated in the system message."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    def __str__(self) -> str:
        return self.value


_CHANNELS = {c.value: c for c in Channel}


def as_channel(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Channel):
        return _CHANNELS.get(value, value)
    return value


def as_effort(value: object) -> object:
    # openai-harmony spells efforts "Low"/"Medium"/"High" in its JSON form.
    if isinstance(value, Enum) and not isinstance(value, ReasoningEffort):
        value = value.value  # openai-harmony's own enum
    if isinstance(value, str) and not isinstance(value, ReasoningEffort):
        return value.lower()
    return value


def show(value: object) -> str:
    """A short repr for error messages."""
    return reprlib.repr(value)


def check_text(where: str, argument: str, value: object, hint: str = "") -> str:
    """``value`` if it is a str, else a TypeError naming the argument and what was given."""
    if isinstance(value, str):
        return value
    raise TypeError(
        f"{where}: {argument} must be a str, got {type(value).__name__} {show(value)}{hint}"
    )


def check_channel(channel: Channel | str | None) -> Channel | str | None:
    """Reject near misses of the standard channels (``"finale"``, ``"Final"``).

    Other names are kept verbatim: a system message may declare its own channels, and
    :class:`~harmony_agent.Conversation` checks the channel against those.
    """
    if channel is None or isinstance(channel, Channel):
        return channel
    if not isinstance(channel, str):
        raise TypeError(
            "Message.assistant: channel must be a str or ha.Channel, got "
            f"{type(channel).__name__} {show(channel)}"
        )
    if channel in _CHANNELS:
        return _CHANNELS[channel]
    close = difflib.get_close_matches(channel.strip().lower(), list(_CHANNELS), n=1, cutoff=0.75)
    if close:
        raise ValueError(
            f"Message.assistant: channel {channel!r} is not a harmony channel; did you mean "
            f"{close[0]!r}? The channels are {', '.join(_CHANNELS)} (a channel declared in "
            "the system message's valid_channels is also accepted)"
        )
    return channel


ChannelName = Annotated[Union[Channel, str], BeforeValidator(as_channel)]  # noqa: UP007
