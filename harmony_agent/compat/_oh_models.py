"""openai-harmony 0.0.8's message model: the same pydantic classes, fields and builders.

Deliberately unlike the rest of harmony_agent, these models are mutable and their
builders (``with_*``, ``adding_content``) change the object and return it: code written
against openai-harmony chains them and sometimes relies on the mutation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, PrivateAttr

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


class Role(str, Enum):
    """Who wrote a message (same members and values as ``openai_harmony.Role``)."""

    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"
    DEVELOPER = "developer"
    TOOL = "tool"

    @classmethod
    def _missing_(cls, value: object) -> Role:
        raise ValueError(f"Unknown role: {value!r}")


class Author(BaseModel):
    """The author of a message: a role, and for tools the tool's name."""

    role: Role
    name: str | None = None

    @classmethod
    def new(cls, role: Role, name: str) -> Author:
        """An author with a name (``Author.new(Role.TOOL, "functions.get_weather")``)."""
        return cls(role=role, name=name)


class Content(BaseModel):
    """Base class of the items a message's ``content`` list holds."""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form of this item; every concrete kind defines it."""
        raise NotImplementedError


class TextContent(Content):
    """Plain text."""

    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "text", "text": self.text}


class ToolDescription(BaseModel):
    """One tool: its name, a description, and a JSON Schema for its arguments."""

    name: str
    description: str
    parameters: dict[Any, Any] | None = None

    @classmethod
    def new(
        cls, name: str, description: str, parameters: dict[Any, Any] | None = None
    ) -> ToolDescription:
        """Same as the constructor, with positional arguments."""
        return cls(name=name, description=description, parameters=parameters)


class ReasoningEffort(str, Enum):
    """Reasoning effort; upstream spells the values with a capital letter."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


class ChannelConfig(BaseModel):
    """The channels the system message declares, and whether one is required."""

    valid_channels: list[str]
    channel_required: bool

    @classmethod
    def require_channels(cls, channels: list[str]) -> ChannelConfig:
        """A config that requires one of ``channels`` on every message."""
        return cls(valid_channels=channels, channel_required=True)


class ToolNamespaceConfig(BaseModel):
    """A namespace of tools as the ``# Tools`` section shows it."""

    name: str
    description: str | None = None
    tools: list[ToolDescription]

    @staticmethod
    def browser() -> ToolNamespaceConfig:
        """The built-in browser tool, as gpt-oss was trained on it."""
        from harmony_agent.compat._oh_convert import namespace_from_ha
        from harmony_agent.format import ToolNamespace

        return namespace_from_ha(ToolNamespace.browser())

    @staticmethod
    def python() -> ToolNamespaceConfig:
        """The built-in python tool (its text states a 120 s timeout, as upstream's does)."""
        from harmony_agent.compat._oh_convert import namespace_from_ha
        from harmony_agent.format import ToolNamespace

        return namespace_from_ha(ToolNamespace.python(120.0))


def _default_channels() -> ChannelConfig:
    return ChannelConfig.require_channels(["analysis", "commentary", "final"])


class SystemContent(Content):
    """Body of the system message. ``SystemContent.new()`` has upstream's defaults."""

    model_identity: str | None = "You are ChatGPT, a large language model trained by OpenAI."
    reasoning_effort: ReasoningEffort | None = ReasoningEffort.MEDIUM
    conversation_start_date: str | None = None
    knowledge_cutoff: str | None = "2024-06"
    channel_config: ChannelConfig | None = Field(default_factory=_default_channels)
    tools: dict[str, ToolNamespaceConfig] | None = None

    @classmethod
    def new(cls) -> SystemContent:
        """A system body with the default identity, medium effort and the three channels."""
        return cls()

    def with_model_identity(self, model_identity: str) -> SystemContent:
        """Set the identity line; returns ``self``."""
        self.model_identity = model_identity
        return self

    def with_reasoning_effort(self, reasoning_effort: ReasoningEffort) -> SystemContent:
        """Set the reasoning effort; returns ``self``."""
        self.reasoning_effort = reasoning_effort
        return self

    def with_conversation_start_date(self, conversation_start_date: str) -> SystemContent:
        """Set the ``Current date:`` line; returns ``self``."""
        self.conversation_start_date = conversation_start_date
        return self

    def with_knowledge_cutoff(self, knowledge_cutoff: str) -> SystemContent:
        """Set the ``Knowledge cutoff:`` line; returns ``self``."""
        self.knowledge_cutoff = knowledge_cutoff
        return self

    def with_channel_config(self, channel_config: ChannelConfig) -> SystemContent:
        """Replace the channel configuration; returns ``self``."""
        self.channel_config = channel_config
        return self

    def with_required_channels(self, channels: list[str]) -> SystemContent:
        """Require one of ``channels`` on every message; returns ``self``."""
        self.channel_config = ChannelConfig.require_channels(channels)
        return self

    def with_tools(self, ns_config: ToolNamespaceConfig) -> SystemContent:
        """Add a tool namespace (replacing one of the same name); returns ``self``."""
        if self.tools is None:
            self.tools = {}
        self.tools[ns_config.name] = ns_config
        return self

    def with_browser_tool(self) -> SystemContent:
        """Declare the built-in browser tool; returns ``self``."""
        return self.with_tools(ToolNamespaceConfig.browser())

    def with_python_tool(self) -> SystemContent:
        """Declare the built-in python tool; returns ``self``."""
        return self.with_tools(ToolNamespaceConfig.python())

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True)
        out["type"] = "system_content"
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> SystemContent:
        """Build from the ``to_dict()`` form."""
        return cls(**raw)

    def to_ha(self) -> ha.SystemContent:
        """The equivalent (immutable) ``harmony_agent.SystemContent``."""
        from harmony_agent.compat._oh_convert import system_to_ha

        return system_to_ha(self)

    @classmethod
    def from_ha(cls, content: ha.SystemContent) -> SystemContent:
        """Convert a ``harmony_agent.SystemContent``."""
        from harmony_agent.compat._oh_convert import system_from_ha

        return system_from_ha(content)


class DeveloperContent(Content):
    """Body of the developer message: instructions and tool namespaces."""

    instructions: str | None = None
    tools: dict[str, ToolNamespaceConfig] | None = None
    # harmony_agent's response formats, kept through a round trip (openai-harmony 0.0.8
    # has no such field; a private attribute keeps the public fields identical to its).
    _response_formats: tuple[ha.ResponseFormat, ...] = PrivateAttr(default=())

    @classmethod
    def new(cls) -> DeveloperContent:
        """An empty developer body."""
        return cls()

    @property
    def response_formats(self) -> tuple[ha.ResponseFormat, ...]:
        """harmony_agent's ``# Response Formats`` entries (not an openai-harmony field)."""
        return self._response_formats

    def with_instructions(self, instructions: str) -> DeveloperContent:
        """Set the ``# Instructions`` text; returns ``self``."""
        self.instructions = instructions
        return self

    def with_tools(self, ns_config: ToolNamespaceConfig) -> DeveloperContent:
        """Add a tool namespace (replacing one of the same name); returns ``self``."""
        if self.tools is None:
            self.tools = {}
        self.tools[ns_config.name] = ns_config
        return self

    def with_function_tools(self, tools: Sequence[ToolDescription]) -> DeveloperContent:
        """Declare ``tools`` in the ``functions`` namespace; returns ``self``."""
        return self.with_tools(
            ToolNamespaceConfig(name="functions", description=None, tools=list(tools))
        )

    def to_dict(self) -> dict[str, Any]:
        out = self.model_dump(exclude_none=True)
        if self._response_formats:
            out["response_formats"] = [
                f.model_dump(exclude_none=True) for f in self._response_formats
            ]
        out["type"] = "developer_content"
        return out

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> DeveloperContent:
        """Build from the ``to_dict()`` form."""
        raw = dict(raw)
        formats = raw.pop("response_formats", None) or ()
        out = cls(**raw)
        if formats:
            from harmony_agent.format._content import ResponseFormat

            out._response_formats = tuple(ResponseFormat.model_validate(f) for f in formats)
        return out

    def to_ha(self) -> ha.DeveloperContent:
        """The equivalent (immutable) ``harmony_agent.DeveloperContent``."""
        from harmony_agent.compat._oh_convert import developer_to_ha

        return developer_to_ha(self)

    @classmethod
    def from_ha(cls, content: ha.DeveloperContent) -> DeveloperContent:
        """Convert a ``harmony_agent.DeveloperContent``."""
        from harmony_agent.compat._oh_convert import developer_from_ha

        return developer_from_ha(content)


_CONTENT_KINDS: dict[str, type[Content]] = {
    "text": TextContent,
    "system_content": SystemContent,
    "developer_content": DeveloperContent,
}


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
