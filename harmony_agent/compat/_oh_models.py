"""openai-harmony 0.0.8's message model: the same pydantic classes, fields and builders.

Deliberately unlike the rest of harmony_agent, these models are mutable and their
builders (``with_*``, ``adding_content``) change the object and return it: code written
against openai-harmony chains them and sometimes relies on the mutation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from harmony_agent.compat._oh_content import (
    _CONTENT_KINDS,
    Author,
    ChannelConfig,
    Content,
    DeveloperContent,
    ReasoningEffort,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolNamespaceConfig,
)

if TYPE_CHECKING:
    import harmony_agent as ha

__all__ = [
    "Author",
    "ChannelConfig",
    "Content",
    "Conversation",
    "DeveloperContent",
    "Message",
    "ReasoningEffort",
    "RenderConversationConfig",
    "RenderOptions",
    "Role",
    "SystemContent",
    "TextContent",
    "ToolDescription",
    "ToolNamespaceConfig",
]


class Message(BaseModel):
    """One message: an author, a list of content items, and optional header fields."""

    author: Author
    content: list[Content] = Field(default_factory=list)
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None

    # -- constructors -----------------------------------------------------------------
    @classmethod
    def from_author_and_content(cls, author: Author, content: str | Content) -> Message:
        """A message with one content item (a string becomes ``TextContent``)."""
        item = TextContent(text=content) if isinstance(content, str) else content
        return cls(author=author, content=[item])

    @classmethod
    def from_role_and_content(cls, role: Role, content: str | Content) -> Message:
        """A message from an unnamed author with one content item."""
        return cls.from_author_and_content(Author(role=role), content)

    @classmethod
    def from_role_and_contents(cls, role: Role, contents: Sequence[Content]) -> Message:
        """A message from an unnamed author with several content items."""
        return cls(author=Author(role=role), content=list(contents))

    # -- builders (mutate and return self) ------------------------------------------------
    def adding_content(self, content: str | Content) -> Message:
        """Append a content item; returns ``self``."""
        self.content.append(TextContent(text=content) if isinstance(content, str) else content)
        return self

    def with_channel(self, channel: str) -> Message:
        """Set the channel; returns ``self``."""
        self.channel = channel
        return self

    def with_recipient(self, recipient: str) -> Message:
        """Set the recipient; returns ``self``."""
        self.recipient = recipient
        return self

    def with_content_type(self, content_type: str) -> Message:
        """Set the content type; returns ``self``."""
        self.content_type = content_type
        return self

    # -- serialisation --------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """openai-harmony's JSON form: author fields flattened, content as a list."""
        out: dict[str, Any] = {
            "role": self.author.role,
            "name": self.author.name,
            "content": [c.to_dict() for c in self.content],
        }
        if self.channel is not None:
            out["channel"] = self.channel
        if self.recipient is not None:
            out["recipient"] = self.recipient
        if self.content_type is not None:
            out["content_type"] = self.content_type
        return out

    def to_json(self) -> str:
        """``to_dict()`` as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        """Build from the ``to_dict()`` form; ``content`` may also be a plain string."""
        author = Author(role=Role(data["role"]), name=data.get("name"))
        raw_items = data["content"]
        if isinstance(raw_items, str):
            raw_items = [{"type": "text", "text": raw_items}]
        items: list[Content] = []
        for raw in raw_items:
            kind = _CONTENT_KINDS.get(raw.get("type"))
            if kind is None:
                raise ValueError(f"Unknown content variant: {raw}")
            items.append(
                DeveloperContent.from_dict(raw) if kind is DeveloperContent else kind(**raw)
            )
        message = cls(author=author, content=items)
        message.channel = data.get("channel")
        message.recipient = data.get("recipient")
        message.content_type = data.get("content_type")
        return message

    @classmethod
    def from_json(cls, payload: str) -> Message:
        """Build from ``to_json()`` output (an addition; upstream has only ``from_dict``)."""
        return cls.from_dict(json.loads(payload))

    # -- harmony_agent interop ------------------------------------------------------------
    def to_ha(self) -> ha.Message:
        """The equivalent (immutable) ``harmony_agent.Message``.

        Several text items are joined into one string. Raises ``ValueError`` for a
        message harmony_agent cannot hold (text mixed with a system/developer body).
        """
        from harmony_agent.compat._oh_convert import message_to_ha

        return message_to_ha(self)

    @classmethod
    def from_ha(cls, message: ha.Message) -> Message:
        """Convert a ``harmony_agent.Message``."""
        from harmony_agent.compat._oh_convert import message_from_ha

        return message_from_ha(message)


class Conversation(BaseModel):
    """A list of messages. Unlike ``harmony_agent.Conversation`` it checks no rules."""

    messages: list[Message] = Field(default_factory=list)

    @classmethod
    def from_messages(cls, messages: Sequence[Message]) -> Conversation:
        """A conversation holding ``messages``."""
        return cls(messages=list(messages))

    def __iter__(self) -> Iterator[Message]:  # type: ignore[override]
        return iter(self.messages)

    def to_dict(self) -> dict[str, Any]:
        """``{"messages": [message.to_dict(), ...]}``."""
        return {"messages": [m.to_dict() for m in self.messages]}

    def to_json(self) -> str:
        """``to_dict()`` as a JSON string."""
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        """Build from the ``to_dict()`` form (an addition; upstream has only ``from_json``)."""
        return cls(messages=[Message.from_dict(m) for m in data["messages"]])

    @classmethod
    def from_json(cls, payload: str) -> Conversation:
        """Build from ``to_json()`` output."""
        return cls.from_dict(json.loads(payload))

    # -- harmony_agent interop ------------------------------------------------------------
    def to_ha(self, *, check: bool = True) -> ha.Conversation:
        """The equivalent ``harmony_agent.Conversation``.

        With ``check=True`` the role hierarchy is validated (raising
        ``harmony_agent.ConversationError``); ``check=False`` wraps the messages as they are.
        """
        from harmony_agent.compat._oh_convert import conversation_to_ha

        return conversation_to_ha(self, check=check)

    @classmethod
    def from_ha(cls, conversation: ha.Conversation | Sequence[ha.Message]) -> Conversation:
        """Convert a ``harmony_agent.Conversation`` (or a sequence of its messages)."""
        from harmony_agent.compat._oh_convert import conversation_from_ha

        return conversation_from_ha(conversation)


class RenderConversationConfig(BaseModel):
    """Rendering options: drop chain of thought upstream's way (``auto_drop_analysis``)."""

    auto_drop_analysis: bool = True


class RenderOptions(BaseModel):
    """Options for rendering one message on its own."""

    conversation_has_function_tools: bool = False
