"""Rendering messages into tokens, with every fixed piece cached.

Each header piece is encoded on its own, exactly as openai-harmony does (BPE merges
never cross piece boundaries), so the output is token-for-token identical.
System and developer bodies are rendered once per content object and kept.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from harmony_agent.errors import RenderError
from harmony_agent.format import _tokens as T
from harmony_agent.format._messages import (
    Channel,
    DeveloperContent,
    Message,
    ResponseFormat,
    Role,
    SystemContent,
    ToolNamespace,
)
from harmony_agent.format._schema_ts import render_tool_namespace

__all__ = [
    "MAX_CACHED_BODIES",
    "MAX_CACHED_HEADERS",
    "RenderConfig",
    "Renderer",
    "content_text",
    "messages_to_render",
    "response_formats_section",
    "tools_section",
]

_FUNCTIONS_LINE = "Calls to these tools must go to the commentary channel: 'functions'."


class RenderConfig(BaseModel):
    """How a conversation is rendered.

    ``auto_drop_analysis``: drop chain of thought that the model should no longer see.
    ``cot_policy``: ``"turns"`` (default) drops the analysis messages of every turn that
    ended with a ``final`` message and keeps those of a turn still calling tools;
    ``"upstream"`` reproduces openai-harmony 0.0.8 exactly (analysis is dropped only
    before the first ``final`` message, and only when the last assistant message is
    ``final``). ``schema_flavor``: how JSON Schemas become TypeScript (``"improved"``,
    or ``"upstream"`` for openai-harmony's exact text).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    auto_drop_analysis: bool = True
    cot_policy: Literal["turns", "upstream"] = "turns"
    schema_flavor: Literal["improved", "upstream"] = "improved"


_DEFAULT_CONFIG = RenderConfig()


def tools_section(
    namespaces: Sequence[ToolNamespace], flavor: Literal["improved", "upstream"] = "improved"
) -> str:
    """The ``# Tools`` section for ``namespaces`` (sorted by name, as openai-harmony does)."""
    sections = ["# Tools"]
    for ns in sorted(namespaces, key=lambda n: n.name):
        tools = [(t.name, t.description, t.parameters) for t in ns.tools]
        sections.append(render_tool_namespace(ns.name, ns.description, tools, flavor=flavor))
    return "\n\n".join(sections)


def response_formats_section(formats: Sequence[ResponseFormat]) -> str:
    """The ``# Response Formats`` section: per format ``## {name}``, then the
    description as ``//`` comment lines (if any) right above the schema on one line."""
    sections = ["# Response Formats"]
    for f in formats:
        schema = json.dumps(f.json_schema, separators=(",", ":"), ensure_ascii=False)
        comment = (
            []
            if f.description is None
            else [f"// {line}".rstrip() for line in f.description.splitlines()]
        )
        sections += [f"## {f.name}", "\n".join([*comment, schema])]
    return "\n\n".join(sections)


def content_text(
    content: SystemContent | DeveloperContent,
    *,
    has_function_tools: bool = False,
    flavor: Literal["improved", "upstream"] = "improved",
) -> str:
    """The text of a system or developer message body."""
    sections: list[str] = []
    if isinstance(content, DeveloperContent):
        if content.instructions is not None:
            sections += ["# Instructions", content.instructions]
        if content.tools:
            sections.append(tools_section(content.tools, flavor))
        if content.response_formats:
            sections.append(response_formats_section(content.response_formats))
        return "\n\n".join(sections)
    top = []
    if content.model_identity is not None:
        top.append(content.model_identity)
    if content.knowledge_cutoff is not None:
        top.append(f"Knowledge cutoff: {content.knowledge_cutoff}")
    if content.conversation_start_date is not None:
        top.append(f"Current date: {content.conversation_start_date}")
    if top:
        sections.append("\n".join(top))
    if content.reasoning_effort is not None:
        sections.append(f"Reasoning: {content.reasoning_effort.value}")
    if content.tools:
        sections.append(tools_section(content.tools, flavor))
    if content.valid_channels:
        header = f"# Valid channels: {', '.join(content.valid_channels)}."
        if content.channel_required:
            header += " Channel must be included for every message."
        if has_function_tools:
            header += "\n" + _FUNCTIONS_LINE
        sections.append(header)
    return "\n\n".join(sections)


def _turn_drop(messages: Sequence[Message], keep_last_turn: bool) -> list[Message]:
    """Drop analysis of every turn whose last assistant message is on ``final``.

    Everything on the analysis channel goes: chain of thought, and tool calls made from
    it (``analysis to=python``) together with their answers, as openai-harmony does.
    """
    out: list[Message] = []
    turn: list[Message] = []
    turns: list[list[Message]] = []
    for m in messages:
        if m.role in (Role.USER, Role.SYSTEM, Role.DEVELOPER):
            if turn:
                turns.append(turn)
                turn = []
            turns.append([m])
        else:
            turn.append(m)
    if turn:
        turns.append(turn)
    last_index = len(turns) - 1
    for i, group in enumerate(turns):
        last_assistant = next((m for m in reversed(group) if m.role is Role.ASSISTANT), None)
        completed = last_assistant is not None and last_assistant.channel is Channel.FINAL
        if completed and not (keep_last_turn and i == last_index):
            out += [m for m in group if m.channel is not Channel.ANALYSIS]
        else:
            out += group
    return out


def _upstream_drop(messages: Sequence[Message]) -> list[Message]:
    last_assistant = next((m for m in reversed(messages) if m.role is Role.ASSISTANT), None)
    if last_assistant is None or last_assistant.channel is not Channel.FINAL:
        return list(messages)
    first_final = next(i for i, m in enumerate(messages) if m.channel is Channel.FINAL)
    return [
        m for i, m in enumerate(messages) if not (i < first_final and m.channel is Channel.ANALYSIS)
    ]


def messages_to_render(
    messages: Sequence[Message], config: RenderConfig | None, *, training: bool = False
) -> Sequence[Message]:
    """The messages that a render with ``config`` actually shows."""
    config = config or _DEFAULT_CONFIG
    if not config.auto_drop_analysis:
        return messages
    if config.cot_policy == "upstream":
        return _upstream_drop(messages)
    return _turn_drop(messages, keep_last_turn=training)


#: Distinct headers kept (role, name, recipient, channel, content type). A run sees a
#: few dozen; the bound only stops a stream of made-up recipients from growing memory.
MAX_CACHED_HEADERS = 4096
#: Distinct system/developer bodies kept. Each is a whole tool section (kilobytes of
#: tokens) and a program has a handful, so fewer are kept than headers.
MAX_CACHED_BODIES = 256


class Renderer:
    """Token renderer bound to one tokenizer; caches headers and system/developer bodies.

    Cached pieces are handed out as tuples: callers extend their own lists with them
    and cannot change what later renders get. A full cache is emptied and refilled
    (the limits above are far beyond what a program's steady state needs).
    """

    def __init__(self, encode_ordinary: Callable[[str], list[int]]) -> None:
        self._encode = encode_ordinary
        self._headers: dict[tuple[object, ...], tuple[int, ...]] = {}
        self._bodies: dict[tuple[str, bool, str], tuple[int, ...]] = {}

    def header(self, m: Message) -> tuple[int, ...]:
        """Tokens from ``<|start|>`` through ``<|message|>``."""
        key = (m.role, m.name, m.recipient, m.channel, m.content_type)
        cached = self._headers.get(key)
        if cached is not None:
            return cached
        enc = self._encode
        out = [T.START]
        if m.role is Role.TOOL:
            if m.name is None:
                raise RenderError("a tool message needs a name (the tool that answers)")
            out += enc(m.name)
        else:
            out += enc(m.role.value)
            if m.name is not None:
                out += enc(f":{m.name}")
        if m.recipient is not None and m.recipient != "all":
            out += enc(f" to={m.recipient}")
        if m.channel is not None:
            out.append(T.CHANNEL)
            out += enc(str(m.channel))
        if m.content_type is not None:
            if m.content_type.startswith("<|constrain|>"):
                out += enc(" ")
                out.append(T.CONSTRAIN)
                rest = m.content_type[len("<|constrain|>") :]
                if rest:
                    out += enc(rest)
            else:
                out += enc(f" {m.content_type}")
        out.append(T.MESSAGE)
        if len(self._headers) >= MAX_CACHED_HEADERS:
            self._headers.clear()
        frozen = self._headers[key] = tuple(out)
        return frozen

    def body(
        self,
        content: SystemContent | DeveloperContent,
        has_function_tools: bool,
        flavor: Literal["improved", "upstream"],
    ) -> tuple[int, ...]:
        """Tokens of a system/developer body, cached by its JSON form."""
        key = (content.model_dump_json(), has_function_tools, flavor)
        cached = self._bodies.get(key)
        if cached is None:
            text = content_text(content, has_function_tools=has_function_tools, flavor=flavor)
            if len(self._bodies) >= MAX_CACHED_BODIES:
                self._bodies.clear()
            cached = self._bodies[key] = tuple(self._encode(text))
        return cached

    def message_into(
        self,
        out: list[int],
        m: Message,
        has_function_tools: bool = False,
        flavor: Literal["improved", "upstream"] = "improved",
    ) -> None:
        """Append the tokens of ``m`` to ``out``."""
        out += self.header(m)
        content = m.content
        if isinstance(content, str):
            if content:
                out += self._encode(content)
        else:
            out += self.body(content, has_function_tools, flavor)
        if m.role is Role.ASSISTANT and m.recipient is not None:
            out.append(T.CALL)
        else:
            out.append(T.END)

    def conversation_into(
        self,
        out: list[int],
        messages: Sequence[Message],
        config: RenderConfig | None = None,
        *,
        training: bool = False,
    ) -> None:
        """Append a whole conversation, applying the chain-of-thought policy."""
        cfg = config or _DEFAULT_CONFIG
        has_fn = any(
            isinstance(m.content, DeveloperContent) and m.content.has_function_tools
            for m in messages
        )
        for m in messages_to_render(messages, cfg, training=training):
            self.message_into(out, m, has_fn, cfg.schema_flavor)
