"""Conversion between the compat (openai-harmony shaped) models and harmony_agent's own.

Objects are converted field by field, never through a JSON round trip. Strings and the
values inside schema dicts are shared, not copied (pydantic copies only the top level of a
dict it validates). harmony_agent's models are frozen; the compat models are mutable, so
do not mutate a nested schema value that both sides hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any, overload

from harmony_agent.compat._oh_models import (
    Author,
    ChannelConfig,
    Content,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolNamespaceConfig,
)
from harmony_agent.format import _conversation as _ha_conversation
from harmony_agent.format import _messages as _ha

__all__ = [
    "conversation_from_ha",
    "conversation_to_ha",
    "developer_from_ha",
    "developer_to_ha",
    "from_ha",
    "message_from_ha",
    "message_to_ha",
    "namespace_from_ha",
    "namespace_to_ha",
    "system_from_ha",
    "system_to_ha",
    "to_ha",
]

_EFFORT_FROM_HA = {
    _ha.ReasoningEffort.LOW: ReasoningEffort.LOW,
    _ha.ReasoningEffort.MEDIUM: ReasoningEffort.MEDIUM,
    _ha.ReasoningEffort.HIGH: ReasoningEffort.HIGH,
}
_ROLE_TO_HA = {r.value: _ha.Role(r.value) for r in Role}
_ROLE_FROM_HA = {_ha.Role(r.value): r for r in Role}


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Enum) else x


# -- tools ----------------------------------------------------------------------------------
def namespace_to_ha(ns: ToolNamespaceConfig) -> _ha.ToolNamespace:
    """``ToolNamespaceConfig`` -> ``harmony_agent.ToolNamespace``."""
    return _ha.ToolNamespace(
        name=ns.name,
        description=ns.description,
        tools=tuple(
            _ha.ToolSpec(name=t.name, description=t.description, parameters=t.parameters)
            for t in ns.tools
        ),
    )


def namespace_from_ha(ns: _ha.ToolNamespace) -> ToolNamespaceConfig:
    """``harmony_agent.ToolNamespace`` -> ``ToolNamespaceConfig``."""
    return ToolNamespaceConfig(
        name=ns.name,
        description=ns.description,
        tools=[
            ToolDescription(name=t.name, description=t.description, parameters=t.parameters)
            for t in ns.tools
        ],
    )


def _namespaces_to_ha(tools: dict[str, ToolNamespaceConfig] | None) -> tuple[Any, ...]:
    if not tools:
        return ()
    return tuple(namespace_to_ha(ns) for _, ns in sorted(tools.items()))


def _namespaces_from_ha(
    namespaces: tuple[_ha.ToolNamespace, ...],
) -> dict[str, ToolNamespaceConfig] | None:
    if not namespaces:
        return None
    return {ns.name: namespace_from_ha(ns) for ns in namespaces}


# -- system / developer bodies ------------------------------------------------------------
def system_to_ha(content: SystemContent) -> _ha.SystemContent:
    """``SystemContent`` -> ``harmony_agent.SystemContent``."""
    effort = content.reasoning_effort
    channels = content.channel_config
    return _ha.SystemContent(
        model_identity=content.model_identity,
        reasoning_effort=None
        if effort is None
        else _ha.ReasoningEffort(str(_value(effort)).lower()),
        knowledge_cutoff=content.knowledge_cutoff,
        conversation_start_date=content.conversation_start_date,
        valid_channels=tuple(channels.valid_channels) if channels is not None else (),
        channel_required=channels.channel_required if channels is not None else True,
        tools=_namespaces_to_ha(content.tools),
    )


def system_from_ha(content: _ha.SystemContent) -> SystemContent:
    """``harmony_agent.SystemContent`` -> ``SystemContent``."""
    effort = content.reasoning_effort
    return SystemContent(
        model_identity=content.model_identity,
        reasoning_effort=None if effort is None else _EFFORT_FROM_HA[effort],
        conversation_start_date=content.conversation_start_date,
        knowledge_cutoff=content.knowledge_cutoff,
        channel_config=ChannelConfig(
            valid_channels=list(content.valid_channels),
            channel_required=content.channel_required,
        )
        if content.valid_channels
        else None,
        tools=_namespaces_from_ha(content.tools),
    )


def developer_to_ha(content: DeveloperContent) -> _ha.DeveloperContent:
    """``DeveloperContent`` -> ``harmony_agent.DeveloperContent``."""
    return _ha.DeveloperContent(
        instructions=content.instructions,
        tools=_namespaces_to_ha(content.tools),
        response_formats=content.response_formats,
    )


def developer_from_ha(content: _ha.DeveloperContent) -> DeveloperContent:
    """``harmony_agent.DeveloperContent`` -> ``DeveloperContent``."""
    out = DeveloperContent(
        instructions=content.instructions, tools=_namespaces_from_ha(content.tools)
    )
    out._response_formats = content.response_formats
    return out


# -- messages -------------------------------------------------------------------------------
def _content_to_ha(message: Message) -> str | _ha.SystemContent | _ha.DeveloperContent:
    items = message.content
    if all(isinstance(c, TextContent) for c in items):
        return "".join(c.text for c in items)  # type: ignore[attr-defined]
    if len(items) == 1:
        (item,) = items
        if isinstance(item, SystemContent):
            return system_to_ha(item)
        if isinstance(item, DeveloperContent):
            return developer_to_ha(item)
    kinds = [type(c).__name__ for c in items]
    raise ValueError(
        "a harmony_agent Message holds either text or one system/developer body; "
        f"this message holds {kinds}"
    )


def message_to_ha(message: Message) -> _ha.Message:
    """``Message`` -> ``harmony_agent.Message`` (text items joined into one string)."""
    return _ha.Message(
        role=_ROLE_TO_HA[_value(message.author.role)],
        name=message.author.name,
        content=_content_to_ha(message),
        channel=message.channel,
        recipient=message.recipient,
        content_type=message.content_type,
    )


def message_from_ha(message: _ha.Message) -> Message:
    """``harmony_agent.Message`` -> ``Message``."""
    content = message.content
    item: Content
    if isinstance(content, str):
        item = TextContent(text=content)
    elif isinstance(content, _ha.SystemContent):
        item = system_from_ha(content)
    else:
        item = developer_from_ha(content)
    channel = message.channel
    return Message(
        author=Author(role=_ROLE_FROM_HA[message.role], name=message.name),
        content=[item],
        channel=None if channel is None else str(_value(channel)),
        recipient=message.recipient,
        content_type=message.content_type,
    )


# -- conversations --------------------------------------------------------------------------
def conversation_to_ha(
    conversation: Conversation | Sequence[Message], *, check: bool = True
) -> _ha_conversation.Conversation:
    """``Conversation`` -> ``harmony_agent.Conversation``.

    ``check=True`` validates the role hierarchy (raising ``ConversationError``);
    ``check=False`` wraps the messages unchecked, as openai-harmony would accept them.
    """
    messages = conversation.messages if isinstance(conversation, Conversation) else conversation
    converted = [message_to_ha(m) for m in messages]
    if check:
        return _ha_conversation.Conversation(converted)
    return _ha_conversation.Conversation.unchecked(converted)


def conversation_from_ha(
    conversation: _ha_conversation.Conversation | Sequence[_ha.Message],
) -> Conversation:
    """``harmony_agent.Conversation`` (or a sequence of its messages) -> ``Conversation``."""
    return Conversation(messages=[message_from_ha(m) for m in conversation])


# -- dispatch ------------------------------------------------------------------------------
@overload
def to_ha(obj: Message) -> _ha.Message: ...
@overload
def to_ha(obj: Conversation) -> _ha_conversation.Conversation: ...
@overload
def to_ha(obj: SystemContent) -> _ha.SystemContent: ...
@overload
def to_ha(obj: DeveloperContent) -> _ha.DeveloperContent: ...
@overload
def to_ha(obj: ToolNamespaceConfig) -> _ha.ToolNamespace: ...
@overload
def to_ha(obj: ToolDescription) -> _ha.ToolSpec: ...
@overload
def to_ha(obj: Role) -> _ha.Role: ...
@overload
def to_ha(obj: ReasoningEffort) -> _ha.ReasoningEffort: ...
def to_ha(obj: Any) -> Any:
    """Convert a compat object to its harmony_agent counterpart.

    Accepts ``Message``, ``Conversation`` (validated; use ``Conversation.to_ha(check=False)``
    to skip the checks), ``SystemContent``, ``DeveloperContent``, ``ToolNamespaceConfig``,
    ``ToolDescription``, ``Role`` and ``ReasoningEffort``.
    """
    if isinstance(obj, Message):
        return message_to_ha(obj)
    if isinstance(obj, Conversation):
        return conversation_to_ha(obj)
    if isinstance(obj, SystemContent):
        return system_to_ha(obj)
    if isinstance(obj, DeveloperContent):
        return developer_to_ha(obj)
    if isinstance(obj, ToolNamespaceConfig):
        return namespace_to_ha(obj)
    if isinstance(obj, ToolDescription):
        return _ha.ToolSpec(name=obj.name, description=obj.description, parameters=obj.parameters)
    if isinstance(obj, Role):
        return _ROLE_TO_HA[obj.value]
    if isinstance(obj, ReasoningEffort):
        return _ha.ReasoningEffort(obj.value.lower())
    raise TypeError(f"to_ha() cannot convert {type(obj).__name__}")


@overload
def from_ha(obj: _ha.Message) -> Message: ...
@overload
def from_ha(obj: _ha_conversation.Conversation) -> Conversation: ...
@overload
def from_ha(obj: _ha.SystemContent) -> SystemContent: ...
@overload
def from_ha(obj: _ha.DeveloperContent) -> DeveloperContent: ...
@overload
def from_ha(obj: _ha.ToolNamespace) -> ToolNamespaceConfig: ...
@overload
def from_ha(obj: _ha.ToolSpec) -> ToolDescription: ...
@overload
def from_ha(obj: _ha.Role) -> Role: ...
@overload
def from_ha(obj: _ha.ReasoningEffort) -> ReasoningEffort: ...
def from_ha(obj: Any) -> Any:
    """Convert a harmony_agent object to its compat counterpart (the inverse of ``to_ha``)."""
    if isinstance(obj, _ha.Message):
        return message_from_ha(obj)
    if isinstance(obj, _ha_conversation.Conversation):
        return conversation_from_ha(obj)
    if isinstance(obj, _ha.SystemContent):
        return system_from_ha(obj)
    if isinstance(obj, _ha.DeveloperContent):
        return developer_from_ha(obj)
    if isinstance(obj, _ha.ToolNamespace):
        return namespace_from_ha(obj)
    if isinstance(obj, _ha.ToolSpec):
        return ToolDescription(
            name=obj.name, description=obj.description, parameters=obj.parameters
        )
    if isinstance(obj, _ha.Role):
        return _ROLE_FROM_HA[obj]
    if isinstance(obj, _ha.ReasoningEffort):
        return _EFFORT_FROM_HA[obj]
    raise TypeError(f"from_ha() cannot convert {type(obj).__name__}")
