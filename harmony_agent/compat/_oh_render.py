"""Rendering compat messages into tokens exactly as openai-harmony 0.0.8 does.

Headers and system/developer bodies come from harmony_agent's cached renderer (with the
``upstream`` schema flavor); text items are encoded one by one, as upstream does, so a
message with several text items keeps upstream's token boundaries between them.
"""

from __future__ import annotations

from collections.abc import Sequence

from harmony_agent.compat._oh_codec import Core, HarmonyError
from harmony_agent.compat._oh_convert import developer_to_ha, system_to_ha
from harmony_agent.compat._oh_models import (
    Content,
    DeveloperContent,
    Message,
    Role,
    SystemContent,
    TextContent,
)
from harmony_agent.format import _messages as _ha
from harmony_agent.format import _tokens as T
from harmony_agent.format._render import MAX_CACHED_BODIES, MAX_CACHED_HEADERS

__all__ = ["drop_analysis", "has_function_tools", "render_message", "render_messages"]

_HA_ROLES = {r.value: _ha.Role(r.value) for r in Role}


def _role_value(role: object) -> str:
    value = role.value if isinstance(role, Role) else role
    if value not in _HA_ROLES:
        raise ValueError(f"unknown role: {value!r}")
    return str(value)


def _role_debug(role: object) -> str:
    return _role_value(role).capitalize()  # how Rust's Debug spells the variant


def has_function_tools(messages: Sequence[Message]) -> bool:
    """True when a developer body declares a non-empty ``functions`` namespace."""
    for m in messages:
        for c in m.content:
            if isinstance(c, DeveloperContent) and c.tools:
                ns = c.tools.get("functions")
                if ns is not None and ns.tools:
                    return True
    return False


def drop_analysis(messages: Sequence[Message]) -> Sequence[Message]:
    """Upstream's chain-of-thought rule: when the last assistant message is ``final``,
    drop every ``analysis`` message before the first ``final`` message."""
    for m in reversed(messages):
        if m.author.role == Role.ASSISTANT:
            if m.channel != "final":
                return messages
            break
    else:
        return messages
    first_final = next(i for i, m in enumerate(messages) if m.channel == "final")
    return [m for i, m in enumerate(messages) if i >= first_final or m.channel != "analysis"]


def _header(core: Core, message: Message) -> tuple[int, ...]:
    author = message.author
    key = (author.role, author.name, message.recipient, message.channel, message.content_type)
    tokens = core.headers.get(key)
    if tokens is None:
        role = _role_value(author.role)
        if role == "tool" and author.name is None:
            raise HarmonyError("Tools should have a name!")
        stub = _ha.Message.model_construct(
            role=_HA_ROLES[role],
            name=author.name,
            content="",
            channel=message.channel,
            recipient=message.recipient,
            content_type=message.content_type,
        )
        tokens = core.renderer.header(stub)
        if len(core.headers) >= MAX_CACHED_HEADERS:
            core.headers.clear()
        core.headers[key] = tokens
    return tokens


def _body(core: Core, content: SystemContent | DeveloperContent, has_fn: bool) -> tuple[int, ...]:
    key = (type(content), content.model_dump_json(), has_fn)
    tokens = core.bodies.get(key)
    if tokens is None:
        ha_content = (
            system_to_ha(content)
            if isinstance(content, SystemContent)
            else developer_to_ha(content)
        )
        tokens = core.renderer.body(ha_content, has_fn, "upstream")
        if len(core.bodies) >= MAX_CACHED_BODIES:
            core.bodies.clear()
        core.bodies[key] = tokens
    return tokens


def _other_content(core: Core, message: Message, item: Content, has_fn: bool) -> Sequence[int]:
    """A ``Content`` subclass of the caller's own: go by its ``to_dict()`` form."""
    from harmony_agent.compat._oh_content import _CONTENT_KINDS

    raw = item.to_dict()
    kind = _CONTENT_KINDS.get(raw.get("type"))  # type: ignore[arg-type]
    if kind is None:
        raise HarmonyError(f"unknown content type {raw.get('type')!r}")
    return _content(core, message, kind(**raw), has_fn)


def _content(core: Core, message: Message, item: Content, has_fn: bool) -> Sequence[int]:
    if isinstance(item, TextContent):
        return core.encode_ordinary(item.text) if item.text else []
    role = message.author.role
    if isinstance(item, SystemContent):
        if role != Role.SYSTEM:
            raise HarmonyError(
                "SystemContent may only appear in system messages, found in " + _role_debug(role)
            )
        return _body(core, item, has_fn)
    if isinstance(item, DeveloperContent):
        if role != Role.DEVELOPER:
            raise HarmonyError(
                "DeveloperContent may only appear in developer messages, found in "
                + _role_debug(role)
            )
        return _body(core, item, has_fn)
    return _other_content(core, message, item, has_fn)


def render_message(core: Core, message: Message, out: list[int], has_fn: bool) -> None:
    """Append the tokens of one message to ``out``."""
    out += _header(core, message)
    for item in message.content:
        if type(item) is TextContent:
            if item.text:
                out += core.encode_ordinary(item.text)
        else:
            out += _content(core, message, item, has_fn)
    if message.recipient is not None and message.author.role == Role.ASSISTANT:
        out.append(T.CALL)
    else:
        out.append(T.END)


def render_messages(
    core: Core, messages: Sequence[Message], out: list[int], *, auto_drop_analysis: bool
) -> None:
    """Append a whole conversation to ``out``, applying upstream's chain-of-thought rule."""
    core.fast_encoder()
    has_fn = has_function_tools(messages)
    if auto_drop_analysis:
        messages = drop_analysis(messages)
    for m in messages:
        render_message(core, m, out, has_fn)
