"""Typed harmony messages: :class:`Message`, and the names it is built from.

Roles and channels live in :mod:`._roles`, tool declarations in :mod:`._tool_specs`,
system and developer bodies in :mod:`._content`; they are re-exported here, where the
rest of the package has always imported them from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from harmony_agent.format._content import (
    DEFAULT_IDENTITY,
    DEFAULT_KNOWLEDGE_CUTOFF,
    Content,
    DeveloperContent,
    ResponseFormat,
    SystemContent,
)
from harmony_agent.format._roles import (
    Channel,
    ChannelName,
    ReasoningEffort,
    Role,
    as_channel,
    check_channel,
    check_text,
    show,
)
from harmony_agent.format._tool_specs import Namespaces, ToolNamespace, ToolSpec

if TYPE_CHECKING:
    import openai_harmony

__all__ = [
    "DEFAULT_IDENTITY",
    "DEFAULT_KNOWLEDGE_CUTOFF",
    "Channel",
    "Content",
    "DeveloperContent",
    "Message",
    "Namespaces",
    "ReasoningEffort",
    "ResponseFormat",
    "Role",
    "SystemContent",
    "ToolNamespace",
    "ToolSpec",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Message(BaseModel):
    """One harmony message.

    ``name`` is the author's name: for a tool message, the tool that answers
    (``"functions.get_weather"``). ``recipient`` is the full tool name for calls.
    ``content_type`` follows openai-harmony (``"<|constrain|>json"``, ``"json"``, ``"code"``).
    """

    model_config = _FROZEN

    role: Role
    name: str | None = None
    content: Content = ""
    channel: ChannelName | None = None
    recipient: str | None = None
    content_type: str | None = None

    # -- constructors -------------------------------------------------------------
    @classmethod
    def system(cls, content: SystemContent | None = None, /, **fields: Any) -> Message:
        """A system message; keyword fields build a :class:`SystemContent`.

        ``Message.system(reasoning="high", current_date="2025-06-28")``

        The system message states who the model is and how it works (identity,
        reasoning effort, dates, built-in tools), never instructions: those go into
        the developer message (``Message.developer("Answer briefly.")``).
        """
        if isinstance(content, str):
            raise TypeError(
                f"Message.system takes a SystemContent or keyword fields, not text ({content!r}): "
                "instructions belong in the developer message, "
                f"Message.developer({content!r}); to change who the model says it is, "
                "use Message.system(model_identity=...)"
            )
        if content is not None and not isinstance(content, SystemContent):
            raise TypeError(
                "Message.system: content must be a SystemContent or None, got "
                f"{type(content).__name__} {show(content)}"
            )
        if content is None:
            content = SystemContent(**fields)
        elif fields:
            content = content.model_copy(
                update=SystemContent(**fields).model_dump(exclude_unset=True)
            )
        return cls(role=Role.SYSTEM, content=content)

    @classmethod
    def developer(
        cls,
        instructions: str | None = None,
        tools: Iterable[ToolSpec | ToolNamespace | Mapping[str, Any]] = (),
        *,
        response_formats: Iterable[ResponseFormat] = (),
    ) -> Message:
        """A developer message with instructions, function tools and response formats.

        ``tools`` holds function tools (``ToolSpec`` or JSON-schema mappings) that go
        into the ``functions`` namespace, and/or whole ``ToolNamespace`` objects.
        ``response_formats`` fill the ``# Response Formats`` section
        (``ResponseFormat.of(MyModel)``).
        """
        if instructions is not None:
            check_text("Message.developer", "instructions", instructions, " (or None)")
        if isinstance(tools, (str, bytes, Mapping, ToolSpec, ToolNamespace)):
            raise TypeError(
                "Message.developer: tools must be a list of ToolSpec, ToolNamespace or "
                f"JSON-schema dicts, got one {type(tools).__name__} {show(tools)}; "
                "wrap it in a list: tools=[...]"
            )
        if not isinstance(tools, Iterable):
            raise TypeError(
                "Message.developer: tools must be a list of ToolSpec, ToolNamespace or "
                f"JSON-schema dicts, got {type(tools).__name__} {show(tools)}"
            )
        functions: list[ToolSpec] = []
        content = DeveloperContent(instructions=instructions)
        for tool in tools:
            if isinstance(tool, ToolNamespace):
                content = content.with_tools(tool)
            else:
                functions.append(ToolSpec.coerce(tool))
        if functions:
            content = content.with_function_tools(functions)
        for response_format in response_formats:
            content = content.with_response_format(response_format)
        return cls(role=Role.DEVELOPER, content=content)

    @classmethod
    def user(cls, text: str) -> Message:
        """A user message."""
        return cls(role=Role.USER, content=check_text("Message.user", "text", text))

    @classmethod
    def assistant(
        cls,
        text: str,
        channel: Channel | str | None = Channel.FINAL,
        recipient: str | None = None,
        content_type: str | None = None,
    ) -> Message:
        """An assistant message (``final`` by default; a tool call when ``recipient`` is set).

        ``channel`` is ``"analysis"``, ``"commentary"`` or ``"final"``; a near miss such
        as ``"finale"`` raises ValueError. Other names (channels a system message
        declares) are kept verbatim.
        """
        return cls(
            role=Role.ASSISTANT,
            content=check_text("Message.assistant", "text", text),
            channel=check_channel(channel),
            recipient=recipient,
            content_type=content_type,
        )

    @classmethod
    def tool(
        cls,
        name: str,
        text: str,
        channel: Channel | str | None = Channel.COMMENTARY,
        *,
        recipient: str | None = "assistant",
    ) -> Message:
        """A tool's answer, authored by ``name`` (e.g. ``"functions.get_weather"``)."""
        check_text("Message.tool", "name", name, ' (the tool that answers, e.g. "functions.f")')
        check_text("Message.tool", "text", text, " (send structured answers as json.dumps(...))")
        return cls(role=Role.TOOL, name=name, content=text, channel=channel, recipient=recipient)

    # -- accessors ----------------------------------------------------------------
    @property
    def text(self) -> str:
        """The plain text of the message (the rendered body for system/developer content)."""
        if isinstance(self.content, str):
            return self.content
        from harmony_agent.format._render import content_text

        return content_text(self.content)

    @property
    def author(self) -> str:
        """The header's author as rendered: the tool name for tools, else the role."""
        if self.role is Role.TOOL:
            return self.name or "tool"
        return self.role.value if self.name is None else f"{self.role.value}:{self.name}"

    def with_channel(self, channel: Channel | str | None) -> Message:
        """A copy on another channel."""
        return self.model_copy(update={"channel": as_channel(channel)})

    def with_recipient(self, recipient: str | None) -> Message:
        """A copy addressed to another recipient."""
        return self.model_copy(update={"recipient": recipient})

    def with_content_type(self, content_type: str | None) -> Message:
        """A copy with another content type."""
        return self.model_copy(update={"content_type": content_type})

    def with_text(self, text: str) -> Message:
        """A copy with other text content."""
        return self.model_copy(update={"content": text})

    # -- openai-harmony interop ----------------------------------------------------
    def to_harmony_dict(self) -> dict[str, Any]:
        """The JSON form openai-harmony's ``Message.to_dict()`` uses."""
        from harmony_agent.format._interop import message_to_dict

        return message_to_dict(self)

    @classmethod
    def from_harmony_dict(cls, data: Mapping[str, Any]) -> Message:
        """Build from openai-harmony's ``Message.to_dict()`` JSON form."""
        from harmony_agent.format._interop import message_from_dict

        return message_from_dict(data)

    @classmethod
    def from_openai_harmony(cls, obj: openai_harmony.Message) -> Message:
        """Convert an ``openai_harmony.Message``."""
        return cls.from_harmony_dict(obj.to_dict())

    def to_openai_harmony(self) -> openai_harmony.Message:
        """Convert to an ``openai_harmony.Message`` (needs the openai-harmony package).

        Raises:
            ValueError: a developer message with response formats, which openai-harmony
                0.0.8 cannot hold (``harmony_agent.compat`` keeps them).
        """
        if isinstance(self.content, DeveloperContent) and self.content.response_formats:
            raise ValueError(
                "openai-harmony 0.0.8 has no response formats, so this developer message "
                "would lose its # Response Formats section; render it with harmony_agent, "
                "or convert it to harmony_agent.compat.openai_harmony, which keeps them"
            )
        import openai_harmony

        return openai_harmony.Message.from_dict(self.to_harmony_dict())
