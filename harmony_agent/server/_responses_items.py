"""The Responses API's request side: the request body, its input items, and how they
become a harmony conversation.

Input items map to harmony messages as gpt-oss reads them:

- ``message`` (user) → a user message; (assistant) → an assistant message on ``final``
  (``phase: "commentary"``: a preamble on ``commentary``); (system, developer) → the
  developer message's instructions, after ``instructions`` (harmony has one system
  message, which holds the model identity and the tools, and one developer message).
- ``reasoning`` → an ``analysis`` message (its ``reasoning_text`` parts, else its summary);
  the renderer drops it once its turn has ended with a final answer.
- ``function_call`` → a ``commentary`` call to ``functions.NAME``; ``function_call_output``
  → the tool's answer (its ``call_id`` must name an earlier call).
- ``code_interpreter_call`` → the call to ``python`` and its logs.
- ``web_search_call`` and ``item_reference``: only items this server produced can be
  restored (they are remembered by id); others are skipped, a web search's result
  being unknown.

An item whose id this server produced comes back as the exact messages the model
wrote, so the prompt is the same token for token and the engine's prefix cache hits.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from harmony_agent.format._messages import Message, ReasoningEffort
from harmony_agent.server._chat_request import effort
from harmony_agent.server._convert import (
    client_tool,
    function_call_message,
    json_text,
    reasoning_message,
)
from harmony_agent.server._errors import bad_request
from harmony_agent.tools._client import ClientTool

__all__ = [
    "BUILTIN_TOOL_TYPES",
    "ConvertedInput",
    "InputItem",
    "ResponsesRequest",
    "arguments_of",
    "convert_input",
]

#: Tool types run on the server: the python tool and the browser.
BUILTIN_TOOL_TYPES: dict[str, Literal["python", "browser"]] = {
    "code_interpreter": "python",
    "web_search": "browser",
    "web_search_preview": "browser",
    "web_search_2025_08_26": "browser",
    "web_search_preview_2025_03_11": "browser",
    "browser_search": "browser",  # the gpt-oss reference server's name
}


_LOOSE = ConfigDict(extra="allow", frozen=True)


class _Part(BaseModel):
    """One content part (``input_text``, ``output_text``, ``reasoning_text`` ...)."""

    model_config = _LOOSE
    type: str = "input_text"
    text: str | None = None
    refusal: str | None = None


class MessageItem(BaseModel):
    model_config = _LOOSE
    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: str | list[_Part]
    id: str | None = None
    phase: str | None = None


class FunctionCallItem(BaseModel):
    model_config = _LOOSE
    type: Literal["function_call"]
    call_id: str
    name: str
    arguments: str
    id: str | None = None


class FunctionCallOutputItem(BaseModel):
    model_config = _LOOSE
    type: Literal["function_call_output"]
    call_id: str
    output: str | list[_Part] | dict[str, Any]
    id: str | None = None


class ReasoningItem(BaseModel):
    model_config = _LOOSE
    type: Literal["reasoning"]
    id: str | None = None
    summary: list[_Part] = Field(default_factory=list)
    content: list[_Part] | None = None


class CodeInterpreterCallItem(BaseModel):
    model_config = _LOOSE
    type: Literal["code_interpreter_call"]
    id: str
    code: str | None = None
    outputs: list[dict[str, Any]] | None = None


class WebSearchCallItem(BaseModel):
    model_config = _LOOSE
    type: Literal["web_search_call"]
    id: str


class ItemReference(BaseModel):
    model_config = _LOOSE
    type: Literal["item_reference"]
    id: str


def _item_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        return str(value.get("type", "message"))
    return getattr(value, "type", None)


InputItem = Annotated[
    Union[  # noqa: UP007
        Annotated[MessageItem, Tag("message")],
        Annotated[FunctionCallItem, Tag("function_call")],
        Annotated[FunctionCallOutputItem, Tag("function_call_output")],
        Annotated[ReasoningItem, Tag("reasoning")],
        Annotated[CodeInterpreterCallItem, Tag("code_interpreter_call")],
        Annotated[WebSearchCallItem, Tag("web_search_call")],
        Annotated[ItemReference, Tag("item_reference")],
    ],
    Discriminator(_item_kind),
]


class _Reasoning(BaseModel):
    model_config = _LOOSE
    effort: str | None = None


class ResponsesRequest(BaseModel):
    """The fields of ``POST /v1/responses`` this server reads; others are accepted.

    Fields the server cannot honour with gpt-oss (images, unsupported tool types) are
    refused with a 400 rather than ignored.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    model: str | None = None
    input: str | list[InputItem] = ""
    instructions: str | None = None
    reasoning: _Reasoning | None = None
    tools: list[dict[str, Any]] = Field(default_factory=list)
    tool_choice: Any = None
    previous_response_id: str | None = None
    max_output_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    store: bool | None = None
    stream: bool | None = None
    metadata: dict[str, str] | None = None
    text: dict[str, Any] | None = None
    conversation: Any = None
    background: bool | None = None

    def refuse_unsupported(self) -> None:
        """A 400 for what this server cannot do, rather than a silent difference."""
        kind = (self.text or {}).get("format", {}) or {}
        if isinstance(kind, dict) and kind.get("type", "text") != "text":
            raise bad_request(
                f"text.format {kind.get('type')!r} is not supported (plain text only; ask for "
                "JSON in the instructions and validate it)",
                param="text.format",
                code="unsupported_value",
            )
        if self.conversation is not None:
            raise bad_request(
                "conversation objects are not supported: use previous_response_id",
                param="conversation",
                code="unsupported_value",
            )
        if self.background:
            raise bad_request(
                "background responses are not supported",
                param="background",
                code="unsupported_value",
            )

    @property
    def effort(self) -> ReasoningEffort | None:
        """The requested reasoning effort (None: the server's default)."""
        value = self.reasoning.effort if self.reasoning is not None else None
        return effort(value, "reasoning.effort")

    def functions(self) -> ClientTool | None:
        """The function tools (the one ``tool_choice`` names, none for ``"none"``)."""
        tools = [(i, t) for i, t in enumerate(self.tools) if t.get("type") == "function"]
        choice = self.tool_choice
        if not tools or choice == "none":
            return None
        if isinstance(choice, dict) and choice.get("type") == "function":
            wanted = choice.get("name")
            tools = [(i, t) for i, t in tools if t.get("name") == wanted]
            if not tools:
                raise bad_request(
                    f"tool_choice names an unknown function {wanted!r}", param="tool_choice"
                )
        specs = []
        for i, tool in tools:
            name = tool.get("name")
            if not isinstance(name, str):
                raise bad_request(f"tools[{i}] has no name", param=f"tools[{i}].name")
            parameters = tool.get("parameters")
            if parameters is not None and not isinstance(parameters, dict):
                raise bad_request(
                    f"tools[{i}].parameters must be a JSON Schema object",
                    param=f"tools[{i}].parameters",
                )
            description = tool.get("description")
            specs.append({"name": name, "description": description or "", "parameters": parameters})
        return client_tool(specs, param="tools")

    def builtin_tools(self) -> tuple[str, ...]:
        """The built-in tools asked for, by namespace: ``"browser"``, ``"python"``."""
        wanted: set[str] = set()
        for i, tool in enumerate(self.tools):
            kind = tool.get("type")
            if kind == "function":
                continue
            if kind not in BUILTIN_TOOL_TYPES:
                known = ", ".join(["function", *BUILTIN_TOOL_TYPES])
                raise bad_request(
                    f"tools[{i}].type {kind!r} is not supported by this server (supported: "
                    f"{known})",
                    param=f"tools[{i}].type",
                    code="unsupported_value",
                )
            wanted.add(BUILTIN_TOOL_TYPES[kind])
        return () if self.tool_choice == "none" else tuple(sorted(wanted))


@dataclass
class ConvertedInput:
    """What the input items became: the messages and the developer's instructions."""

    messages: list[Message] = field(default_factory=list)
    instructions: list[str | None] = field(default_factory=list)
    #: call_id -> recipient of every function call seen so far (to answer outputs).
    calls: dict[str, str] = field(default_factory=dict)


#: Looks up the messages a produced item id stands for (None: not one of ours).
Recall = Callable[[str], Sequence[Message] | None]


def _text(content: str | list[_Part], where: str) -> str:
    if isinstance(content, str):
        return content
    texts = []
    for i, part in enumerate(content):
        if part.type in ("input_image", "input_file", "input_audio"):
            raise bad_request(
                f"{where}.content[{i}] is {part.type}: gpt-oss reads text only",
                param=f"{where}.content[{i}].type",
                code="unsupported_value",
            )
        piece = part.text if part.text is not None else part.refusal
        if piece is None:
            raise bad_request(
                f"{where}.content[{i}] ({part.type}) has no text", param=f"{where}.content[{i}]"
            )
        texts.append(piece)
    return "".join(texts)


def convert_input(
    items: str | Sequence[Any],
    *,
    start: ConvertedInput | None = None,
    recall: Recall | None = None,
) -> ConvertedInput:
    """Turn ``input`` into harmony messages, continuing ``start`` (a previous response's).

    Raises:
        APIError: (400) an item that cannot be read (an answer to an unknown call, an
            image).
    """
    out = start or ConvertedInput()
    if isinstance(items, str):
        out.messages.append(Message.user(items))
        return out
    for i, item in enumerate(items):
        where = f"input[{i}]"
        item_id = getattr(item, "id", None)
        known = recall(item_id) if recall is not None and item_id else None
        if known is not None and not isinstance(item, FunctionCallOutputItem | MessageItem):
            out.messages.extend(known)
            for m in known:
                _note_call(out, item, m)
            continue
        if isinstance(item, MessageItem):
            text = _text(item.content, where)
            if item.role in ("system", "developer"):
                out.instructions.append(text)
            elif item.role == "user":
                out.messages.append(Message.user(text))
            elif known is not None:
                out.messages.extend(known)
            else:
                channel = "commentary" if item.phase == "commentary" else "final"
                out.messages.append(Message.assistant(text, channel=channel))
        elif isinstance(item, ReasoningItem):
            parts = item.content if item.content else item.summary
            text = "".join(p.text or "" for p in parts)
            if text:
                out.messages.append(reasoning_message(text))
        elif isinstance(item, FunctionCallItem):
            call = function_call_message(item.name, item.arguments)
            out.calls[item.call_id] = call.recipient or ""
            out.messages.append(call)
        elif isinstance(item, FunctionCallOutputItem):
            answered = out.calls.get(item.call_id)
            if answered is None:
                raise bad_request(
                    f"{where}: no function_call with call_id {item.call_id!r} precedes this "
                    "function_call_output (send the call too, or use previous_response_id)",
                    param=f"{where}.call_id",
                )
            output = item.output if isinstance(item.output, str | list) else json_text(item.output)
            out.messages.append(Message.tool(answered, _text(output, where), "commentary"))
        elif isinstance(item, CodeInterpreterCallItem):
            if item.code is None:
                continue
            out.messages.append(
                Message.assistant(item.code, channel="analysis", recipient="python")
            )
            logs = "".join(str(o.get("logs", "")) for o in item.outputs or ())
            out.messages.append(Message.tool("python", logs, channel="analysis"))
        # web_search_call and item_reference we did not produce: nothing to restore.
    return out


def _note_call(out: ConvertedInput, item: Any, message: Message) -> None:
    """Remember the call_id of a restored function call, for its output later."""
    if isinstance(item, FunctionCallItem) and message.recipient is not None:
        out.calls[item.call_id] = message.recipient


def arguments_of(text: str) -> dict[str, Any]:
    """A call's JSON arguments as a dict (empty when they are not a JSON object)."""
    try:
        value = json.loads(text) if text.strip() else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
