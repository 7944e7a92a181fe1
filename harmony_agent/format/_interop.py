"""Conversion to and from openai-harmony's JSON form (``Message.to_dict()``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harmony_agent.format._messages import (
    DeveloperContent,
    Message,
    ReasoningEffort,
    ResponseFormat,
    Role,
    SystemContent,
    ToolNamespace,
    ToolSpec,
)

__all__ = ["content_from_dict", "message_from_dict", "message_to_dict"]

_EFFORT_NAMES = {
    ReasoningEffort.LOW: "Low",
    ReasoningEffort.MEDIUM: "Medium",
    ReasoningEffort.HIGH: "High",
}


def _namespaces_to_dict(namespaces: tuple[ToolNamespace, ...]) -> dict[str, Any] | None:
    if not namespaces:
        return None
    out: dict[str, Any] = {}
    for ns in sorted(namespaces, key=lambda n: n.name):
        entry: dict[str, Any] = {"name": ns.name}
        if ns.description is not None:
            entry["description"] = ns.description
        tools = []
        for t in ns.tools:
            tool: dict[str, Any] = {"name": t.name, "description": t.description}
            if t.parameters is not None:
                tool["parameters"] = t.parameters
            tools.append(tool)
        entry["tools"] = tools
        out[ns.name] = entry
    return out


def _namespaces_from_dict(raw: Mapping[str, Any] | None) -> tuple[ToolNamespace, ...]:
    if not raw:
        return ()
    return tuple(
        ToolNamespace(
            name=ns.get("name", key),
            description=ns.get("description"),
            tools=tuple(ToolSpec.coerce(t) for t in ns.get("tools") or ()),
        )
        for key, ns in raw.items()
    )


def _content_to_dict(content: SystemContent | DeveloperContent) -> dict[str, Any]:
    out: dict[str, Any]
    if isinstance(content, SystemContent):
        # Fields whose openai-harmony default is not None are written even when None,
        # so that ``SystemContent.from_dict`` does not fill the default back in.
        out = {"model_identity": content.model_identity}
        if content.reasoning_effort is None:
            out["reasoning_effort"] = None
        else:
            out["reasoning_effort"] = _EFFORT_NAMES[content.reasoning_effort]
        if content.conversation_start_date is not None:
            out["conversation_start_date"] = content.conversation_start_date
        out["knowledge_cutoff"] = content.knowledge_cutoff
        out["channel_config"] = (
            {
                "valid_channels": list(content.valid_channels),
                "channel_required": content.channel_required,
            }
            if content.valid_channels
            else None
        )
        tools = _namespaces_to_dict(content.tools)
        if tools is not None:
            out["tools"] = tools
        out["type"] = "system_content"
        return out
    out = {}
    if content.instructions is not None:
        out["instructions"] = content.instructions
    tools = _namespaces_to_dict(content.tools)
    if tools is not None:
        out["tools"] = tools
    if content.response_formats:  # ours: openai-harmony 0.0.8 has none (and ignores it)
        out["response_formats"] = [
            f.model_dump(exclude_none=True) for f in content.response_formats
        ]
    out["type"] = "developer_content"
    return out


def content_from_dict(raw: Mapping[str, Any]) -> SystemContent | DeveloperContent:
    """Build a system/developer body from openai-harmony's JSON form."""
    if raw.get("type") == "developer_content":
        return DeveloperContent(
            instructions=raw.get("instructions"),
            tools=_namespaces_from_dict(raw.get("tools")),
            response_formats=tuple(
                ResponseFormat.model_validate(f) for f in raw.get("response_formats") or ()
            ),
        )
    channel_config = raw.get("channel_config")
    effort = raw.get("reasoning_effort")
    return SystemContent(
        model_identity=raw.get("model_identity"),
        reasoning_effort=None
        if effort is None
        else ReasoningEffort(str(getattr(effort, "value", effort)).lower()),
        conversation_start_date=raw.get("conversation_start_date"),
        knowledge_cutoff=raw.get("knowledge_cutoff"),
        valid_channels=tuple(channel_config["valid_channels"]) if channel_config else (),
        channel_required=bool(channel_config.get("channel_required", True))
        if channel_config
        else True,
        tools=_namespaces_from_dict(raw.get("tools")),
    )


def message_to_dict(message: Message) -> dict[str, Any]:
    """openai-harmony's ``Message.to_dict()`` form of ``message``."""
    content = message.content
    items = (
        [{"type": "text", "text": content}]
        if isinstance(content, str)
        else [_content_to_dict(content)]
    )
    out: dict[str, Any] = {"role": message.role.value, "name": message.name, "content": items}
    if message.channel is not None:
        out["channel"] = str(message.channel)
    if message.recipient is not None:
        out["recipient"] = message.recipient
    if message.content_type is not None:
        out["content_type"] = message.content_type
    return out


def message_from_dict(data: Mapping[str, Any]) -> Message:
    """Build a message from openai-harmony's ``Message.to_dict()`` form.

    Several text items are joined into one string (openai-harmony renders them
    back to back, so the text is the same; token boundaries between items may differ).
    """
    raw = data.get("content", "")
    content: str | SystemContent | DeveloperContent
    if isinstance(raw, str):
        content = raw
    else:
        texts: list[str] = []
        body: SystemContent | DeveloperContent | None = None
        for item in raw:
            kind = item.get("type", "text")
            if kind == "text":
                texts.append(item["text"])
            elif kind in ("system_content", "developer_content"):
                if body is not None or texts:
                    raise ValueError("a message may hold one system/developer body and no text")
                body = content_from_dict(item)
            else:
                raise ValueError(f"unsupported content item type {kind!r}")
        if body is not None and texts:
            raise ValueError("a message may hold one system/developer body and no text")
        content = body if body is not None else "".join(texts)
    return Message(
        role=Role(data["role"]),
        name=data.get("name"),
        content=content,
        channel=data.get("channel"),
        recipient=data.get("recipient"),
        content_type=data.get("content_type"),
    )
