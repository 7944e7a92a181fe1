"""openai-harmony 0.0.8's content items and their parts: roles, authors, text, system
and developer content, tool descriptions, channel and namespace configs.

Mutable like openai-harmony's (see :mod:`._oh_models`): the ``with_*`` builders change
the object and return it.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, PrivateAttr

if TYPE_CHECKING:
    import harmony_agent as ha

__all__ = [
    "Author",
    "ChannelConfig",
    "Content",
    "DeveloperContent",
    "ReasoningEffort",
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
