"""Bodies of the system and developer messages: :class:`SystemContent`,
:class:`DeveloperContent`, and the developer message's :class:`ResponseFormat`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
)

from harmony_agent.format._roles import ReasoningEffort, as_effort
from harmony_agent.format._tool_specs import (
    Namespaces,
    ToolNamespace,
    ToolSpec,
    unique_namespaces,
    with_namespace,
)

__all__ = [
    "DEFAULT_IDENTITY",
    "DEFAULT_KNOWLEDGE_CUTOFF",
    "Content",
    "DeveloperContent",
    "ResponseFormat",
    "SystemContent",
]

DEFAULT_IDENTITY = "You are ChatGPT, a large language model trained by OpenAI."
DEFAULT_KNOWLEDGE_CUTOFF = "2024-06"

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SystemContent(BaseModel):
    """Body of the system message. Defaults match openai-harmony's ``SystemContent.new()``."""

    model_config = _FROZEN

    type: Literal["system_content"] = "system_content"
    model_identity: str | None = DEFAULT_IDENTITY
    reasoning_effort: Annotated[ReasoningEffort | None, BeforeValidator(as_effort)] = Field(
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

    _check_tools = field_validator("tools")(unique_namespaces)

    def with_browser_tool(self) -> SystemContent:
        """A copy that declares the built-in browser tool."""
        return self.with_tools(ToolNamespace.browser())

    def with_python_tool(self, timeout: float = 120.0) -> SystemContent:
        """A copy that declares the built-in python tool with the given timeout."""
        return self.with_tools(ToolNamespace.python(timeout))

    def with_tools(self, namespace: ToolNamespace) -> SystemContent:
        """A copy with ``namespace`` added (replacing one of the same name)."""
        return self.model_copy(update={"tools": with_namespace(self.tools, namespace)})

    def with_reasoning_effort(self, effort: ReasoningEffort | str | None) -> SystemContent:
        """A copy with another reasoning effort."""
        return self.model_copy(update={"reasoning_effort": _effort_or_none(effort)})

    def with_conversation_start_date(self, date: str | None) -> SystemContent:
        """A copy with another current date (``YYYY-MM-DD``)."""
        return self.model_copy(update={"conversation_start_date": date})


def _effort_or_none(effort: ReasoningEffort | str | None) -> ReasoningEffort | None:
    return None if effort is None else ReasoningEffort(str(effort).lower())


class ResponseFormat(BaseModel):
    """One entry of the developer message's ``# Response Formats`` section.

    The model is asked to answer on ``final`` with JSON that follows ``json_schema``
    (adherence is not guaranteed: validate the answer). Rendered as ``## {name}``, then
    ``// {description}`` when there is one, then the schema as JSON on one line.

    Args:
        name: the format's name, one line (like a Responses API schema name).
        description: what the answer is for (each line rendered as a ``//`` comment).
        json_schema: the JSON Schema (``schema=`` is accepted too).
    """

    model_config = _FROZEN

    name: str
    description: str | None = None
    json_schema: dict[str, Any] = Field(validation_alias=AliasChoices("json_schema", "schema"))

    @field_validator("name")
    @classmethod
    def _one_line(cls, name: str) -> str:
        if not name.strip() or "\n" in name or "\r" in name:
            raise ValueError(f"a response format's name is one non-empty line, got {name!r}")
        return name

    @classmethod
    def of(
        cls, output_type: Any, *, name: str | None = None, description: str | None = None
    ) -> ResponseFormat:
        """The format for answers that validate as ``output_type`` (any type pydantic
        can validate: a model, a dataclass, ``list[int]``, a ``TypedDict``...).

        ``name`` defaults to the schema's title (a model's class name) or ``"response"``;
        ``description`` to the schema's own (a model's docstring).
        """
        schema = TypeAdapter(output_type).json_schema()
        title = schema.get("title")
        if name is None:
            name = title if isinstance(title, str) and title.strip() else "response"
        if description is None and isinstance(schema.get("description"), str):
            description = schema["description"]
        return cls(name=" ".join(name.split()), description=description, json_schema=schema)


class DeveloperContent(BaseModel):
    """Body of the developer message: instructions, function tools, response formats."""

    model_config = _FROZEN

    type: Literal["developer_content"] = "developer_content"
    instructions: str | None = None
    tools: Namespaces = ()
    response_formats: tuple[ResponseFormat, ...] = ()

    _check_tools = field_validator("tools")(unique_namespaces)

    @field_validator("response_formats")
    @classmethod
    def _unique_formats(cls, value: tuple[ResponseFormat, ...]) -> tuple[ResponseFormat, ...]:
        names = [f.name for f in value]
        if len(set(names)) != len(names):
            raise ValueError(f"response formats must have unique names, got {names}")
        return value

    def with_function_tools(
        self, tools: Iterable[ToolSpec | Mapping[str, Any]]
    ) -> DeveloperContent:
        """A copy whose ``functions`` namespace holds ``tools``."""
        ns = ToolNamespace(name="functions", tools=tuple(ToolSpec.coerce(t) for t in tools))
        return self.with_tools(ns)

    def with_tools(self, namespace: ToolNamespace) -> DeveloperContent:
        """A copy with ``namespace`` added (replacing one of the same name)."""
        return self.model_copy(update={"tools": with_namespace(self.tools, namespace)})

    def with_response_format(self, response_format: ResponseFormat) -> DeveloperContent:
        """A copy with ``response_format`` added (replacing one of the same name)."""
        kept = (f for f in self.response_formats if f.name != response_format.name)
        return self.model_copy(update={"response_formats": (*kept, response_format)})

    @property
    def has_function_tools(self) -> bool:
        """True when a non-empty ``functions`` namespace is declared."""
        return any(ns.name == "functions" and ns.tools for ns in self.tools)


Content = Union[str, SystemContent, DeveloperContent]  # noqa: UP007
