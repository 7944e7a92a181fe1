"""Typed harmony messages: roles, channels, system/developer content and tool specs."""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Iterable, Mapping
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, field_validator

if TYPE_CHECKING:
    import openai_harmony

__all__ = [
    "DEFAULT_IDENTITY",
    "DEFAULT_KNOWLEDGE_CUTOFF",
    "Channel",
    "DeveloperContent",
    "Message",
    "ReasoningEffort",
    "Role",
    "SystemContent",
    "ToolNamespace",
    "ToolSpec",
]

DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
DEFAULT_KNOWLEDGE_CUTOFF = "2024-06"

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


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


def _as_channel(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, Channel):
        return _CHANNELS.get(value, value)
    return value


def _as_effort(value: object) -> object:
    # openai-harmony spells efforts "Low"/"Medium"/"High" in its JSON form.
    if isinstance(value, Enum) and not isinstance(value, ReasoningEffort):
        value = value.value  # openai-harmony's own enum
    if isinstance(value, str) and not isinstance(value, ReasoningEffort):
        return value.lower()
    return value


def _show(value: object) -> str:
    """A short repr for error messages."""
    return reprlib.repr(value)


def _check_text(where: str, argument: str, value: object, hint: str = "") -> str:
    """``value`` if it is a str, else a TypeError naming the argument and what was given."""
    if isinstance(value, str):
        return value
    raise TypeError(
        f"{where}: {argument} must be a str, got {type(value).__name__} {_show(value)}{hint}"
    )


def _check_channel(channel: Channel | str | None) -> Channel | str | None:
    """Reject near misses of the standard channels (``"finale"``, ``"Final"``).

    Other names are kept verbatim: a system message may declare its own channels, and
    :class:`~harmony_agent.Conversation` checks the channel against those.
    """
    if channel is None or isinstance(channel, Channel):
        return channel
    if not isinstance(channel, str):
        raise TypeError(
            "Message.assistant: channel must be a str or ha.Channel, got "
            f"{type(channel).__name__} {_show(channel)}"
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


ChannelName = Annotated[Union[Channel, str], BeforeValidator(_as_channel)]  # noqa: UP007


class ToolSpec(BaseModel):
    """One tool in a namespace: name, description and a JSON Schema for its arguments."""

    model_config = _FROZEN

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None

    @classmethod
    def coerce(cls, value: ToolSpec | Mapping[str, Any]) -> ToolSpec:
        """Accept a ToolSpec, ``{name, description, parameters}`` or OpenAI's function format."""
        if isinstance(value, ToolSpec):
            return value
        if isinstance(value, Mapping):
            data = dict(value)
            if data.get("type") == "function" and isinstance(data.get("function"), Mapping):
                data = dict(data["function"])
            data.pop("strict", None)
            data.pop("type", None)
            return cls.model_validate(data)
        spec = getattr(value, "spec", None)
        if isinstance(spec, ToolSpec):
            return spec
        raise TypeError(f"expected a ToolSpec or a mapping describing a tool, got {value!r}")


class ToolNamespace(BaseModel):
    """A namespace of tools (``functions``, ``browser``, ``python``) as the prompt shows it."""

    model_config = _FROZEN

    name: str
    description: str | None = None
    tools: tuple[ToolSpec, ...] = ()

    @classmethod
    def browser(cls) -> ToolNamespace:
        """The built-in browser tool exactly as gpt-oss was trained on it."""
        return _BROWSER

    @classmethod
    def python(cls, timeout: float = 120.0) -> ToolNamespace:
        """The built-in python tool; the description states ``timeout`` truthfully."""
        return cls(name="python", description=_PYTHON_DESCRIPTION.format(timeout=float(timeout)))


def _coerce_namespaces(value: object) -> object:
    if isinstance(value, Mapping):  # openai-harmony keeps {name: namespace}
        return tuple(value.values())
    return value


Namespaces = Annotated[tuple[ToolNamespace, ...], BeforeValidator(_coerce_namespaces)]


def _unique_namespaces(value: tuple[ToolNamespace, ...]) -> tuple[ToolNamespace, ...]:
    names = [ns.name for ns in value]
    if len(set(names)) != len(names):
        raise ValueError(f"tool namespaces must have unique names, got {names}")
    return value


def _with_namespace(
    namespaces: tuple[ToolNamespace, ...], ns: ToolNamespace
) -> tuple[ToolNamespace, ...]:
    return (*(n for n in namespaces if n.name != ns.name), ns)


class SystemContent(BaseModel):
    """Body of the system message. Defaults match openai-harmony's ``SystemContent.new()``."""

    model_config = _FROZEN

    type: Literal["system_content"] = "system_content"
    model_identity: str | None = DEFAULT_IDENTITY
    reasoning_effort: Annotated[ReasoningEffort | None, BeforeValidator(_as_effort)] = Field(
        default=ReasoningEffort.MEDIUM,
        validation_alias=AliasChoices("reasoning_effort", "reasoning"),
    )
    knowledge_cutoff: str | None = DEFAULT_KNOWLEDGE_CUTOFF
    conversation_start_date: str | None = Field(
        default=None,
        validation_alias=AliasChoices("conversation_start_date", "current_date"),
    )
    valid_channels: tuple[str, ...] = ("analysis", "commentary", "final")
    channel_required: bool = True
    tools: Namespaces = ()

    _check_tools = field_validator("tools")(_unique_namespaces)

    def with_browser_tool(self) -> SystemContent:
        """A copy that declares the built-in browser tool."""
        return self.with_tools(ToolNamespace.browser())

    def with_python_tool(self, timeout: float = 120.0) -> SystemContent:
        """A copy that declares the built-in python tool with the given timeout."""
        return self.with_tools(ToolNamespace.python(timeout))

    def with_tools(self, namespace: ToolNamespace) -> SystemContent:
        """A copy with ``namespace`` added (replacing one of the same name)."""
        return self.model_copy(update={"tools": _with_namespace(self.tools, namespace)})

    def with_reasoning_effort(self, effort: ReasoningEffort | str | None) -> SystemContent:
        """A copy with another reasoning effort."""
        return self.model_copy(update={"reasoning_effort": _effort_or_none(effort)})

    def with_conversation_start_date(self, date: str | None) -> SystemContent:
        """A copy with another current date (``YYYY-MM-DD``)."""
        return self.model_copy(update={"conversation_start_date": date})


def _effort_or_none(effort: ReasoningEffort | str | None) -> ReasoningEffort | None:
    return None if effort is None else ReasoningEffort(str(effort).lower())


class DeveloperContent(BaseModel):
    """Body of the developer message: instructions and function tools."""

    model_config = _FROZEN

    type: Literal["developer_content"] = "developer_content"
    instructions: str | None = None
    tools: Namespaces = ()

    _check_tools = field_validator("tools")(_unique_namespaces)

    def with_function_tools(
        self, tools: Iterable[ToolSpec | Mapping[str, Any]]
    ) -> DeveloperContent:
        """A copy whose ``functions`` namespace holds ``tools``."""
        ns = ToolNamespace(name="functions", tools=tuple(ToolSpec.coerce(t) for t in tools))
        return self.with_tools(ns)

    def with_tools(self, namespace: ToolNamespace) -> DeveloperContent:
        """A copy with ``namespace`` added (replacing one of the same name)."""
        return self.model_copy(update={"tools": _with_namespace(self.tools, namespace)})

    @property
    def has_function_tools(self) -> bool:
        """True when a non-empty ``functions`` namespace is declared."""
        return any(ns.name == "functions" and ns.tools for ns in self.tools)


Content = Union[str, SystemContent, DeveloperContent]  # noqa: UP007


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
                f"{type(content).__name__} {_show(content)}"
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
    ) -> Message:
        """A developer message with instructions and function tools.

        ``tools`` holds function tools (``ToolSpec`` or JSON-schema mappings) that go
        into the ``functions`` namespace, and/or whole ``ToolNamespace`` objects.
        """
        if instructions is not None:
            _check_text("Message.developer", "instructions", instructions, " (or None)")
        if isinstance(tools, (str, bytes, Mapping, ToolSpec, ToolNamespace)):
            raise TypeError(
                "Message.developer: tools must be a list of ToolSpec, ToolNamespace or "
                f"JSON-schema dicts, got one {type(tools).__name__} {_show(tools)}; "
                "wrap it in a list: tools=[...]"
            )
        if not isinstance(tools, Iterable):
            raise TypeError(
                "Message.developer: tools must be a list of ToolSpec, ToolNamespace or "
                f"JSON-schema dicts, got {type(tools).__name__} {_show(tools)}"
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
        return cls(role=Role.DEVELOPER, content=content)

    @classmethod
    def user(cls, text: str) -> Message:
        """A user message."""
        return cls(role=Role.USER, content=_check_text("Message.user", "text", text))

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
            content=_check_text("Message.assistant", "text", text),
            channel=_check_channel(channel),
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
        _check_text("Message.tool", "name", name, ' (the tool that answers, e.g. "functions.f")')
        _check_text("Message.tool", "text", text, " (send structured answers as json.dumps(...))")
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
        return self.model_copy(update={"channel": _as_channel(channel)})

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
        """Convert to an ``openai_harmony.Message`` (needs the openai-harmony package)."""
        import openai_harmony

        return openai_harmony.Message.from_dict(self.to_harmony_dict())


_BROWSER_DESCRIPTION = (
    "Tool for browsing.\n"
    "The `cursor` appears in brackets before each browsing display: `[{cursor}]`.\n"
    "Cite information from the tool using the following format:\n"
    "`【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.\n"
    "Do not quote more than 10 words directly from the tool output.\n"
    "sources=web (default: web)"
)

_BROWSER = ToolNamespace(
    name="browser",
    description=_BROWSER_DESCRIPTION,
    tools=(
        ToolSpec(
            name="search",
            description="Searches for information related to `query` and displays `topn` results.",
            parameters={
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "topn": {"type": "number", "default": 10},
                    "source": {"type": "string"},
                },
                "required": ["query"],
            },
        ),
        ToolSpec(
            name="open",
            description=(
                "Opens the link `id` from the page indicated by `cursor` starting at line number"
                " `loc`, showing `num_lines` lines.\n"
                "Valid link ids are displayed with the formatting: `【{id}†.*】`.\n"
                "If `cursor` is not provided, the most recent page is implied.\n"
                "If `id` is a string, it is treated as a fully qualified URL associated with"
                " `source`.\n"
                "If `loc` is not provided, the viewport will be positioned at the beginning of"
                " the document or centered on the most relevant passage, if available.\n"
                "Use this function without `id` to scroll to a new location of an opened page."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "id": {"type": ["number", "string"], "default": -1},
                    "cursor": {"type": "number", "default": -1},
                    "loc": {"type": "number", "default": -1},
                    "num_lines": {"type": "number", "default": -1},
                    "view_source": {"type": "boolean", "default": False},
                    "source": {"type": "string"},
                },
            },
        ),
        ToolSpec(
            name="find",
            description=(
                "Finds exact matches of `pattern` in the current page, or the page given by"
                " `cursor`."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "cursor": {"type": "number", "default": -1},
                },
                "required": ["pattern"],
            },
        ),
    ),
)

_PYTHON_DESCRIPTION = (
    "Use this tool to execute Python code in your chain of thought. The code will not be shown"
    " to the user. This tool should be used for internal reasoning, but not for code that is"
    " intended to be visible to the user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a"
    " stateful Jupyter notebook environment. python will respond with the output of the"
    " execution or time out after {timeout} seconds. The drive at '/mnt/data' can be used to"
    " save and persist user files. Internet access for this session is UNKNOWN. Depends on the"
    " cluster."
)
