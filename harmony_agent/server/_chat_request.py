"""A ``/v1/chat/completions`` request, validated, and turned into a :class:`Generation`.

Messages map to harmony as follows: ``system`` and ``developer`` text becomes the
developer message's instructions; ``user`` a user message; an ``assistant`` message its
``reasoning_content`` (analysis), its ``content`` (final, or a commentary preamble when
it also carries ``tool_calls``) and each of its ``tool_calls`` (a commentary call
``to=functions.NAME``, ``<|constrain|>json``); a ``tool`` message the answer from
``functions.NAME`` of the call its ``tool_call_id`` names.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from harmony_agent.format._messages import Channel, Message, ReasoningEffort
from harmony_agent.server._convert import (
    client_tool,
    function_call_message,
    function_result_message,
    instructions_from,
    json_text,
    reasoning_message,
)
from harmony_agent.server._errors import bad_request
from harmony_agent.server._generate import Generation

__all__ = ["ChatMessage", "ChatRequest", "effort", "to_generation"]

_OPEN = ConfigDict(extra="allow")


class ContentPart(BaseModel):
    """One part of a message's content (only text parts are supported)."""

    model_config = _OPEN
    type: str = "text"
    text: str | None = None


class FunctionCall(BaseModel):
    """The function half of an earlier ``tool_calls`` entry."""

    model_config = _OPEN
    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCallIn(BaseModel):
    """An earlier assistant message's tool call."""

    model_config = _OPEN
    id: str | None = None
    type: str = "function"
    function: FunctionCall


class ChatMessage(BaseModel):
    """One message of the request."""

    model_config = _OPEN
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_calls: list[ToolCallIn] | None = None
    tool_call_id: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None


class FunctionDef(BaseModel):
    """A function the client offers the model."""

    model_config = _OPEN
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_\-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDef(BaseModel):
    """One entry of ``tools``."""

    model_config = _OPEN
    type: Literal["function"]
    function: FunctionDef


class StreamOptions(BaseModel):
    """``stream_options``."""

    model_config = _OPEN
    include_usage: bool = False


class ChatRequest(BaseModel):
    """The body of ``POST /v1/chat/completions`` (unknown fields are accepted and ignored)."""

    model_config = _OPEN
    model: str | None = None
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    reasoning_effort: str | None = None
    tools: list[ToolDef] | None = None
    tool_choice: str | dict[str, Any] | None = None
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    top_p: float | None = Field(default=None, gt=0.0, le=1.0)
    seed: int | None = None
    stop: str | list[str] | None = None
    n: int | None = Field(default=None, ge=1)


def effort(value: str | None, param: str) -> ReasoningEffort | None:
    """OpenAI's effort names as harmony's (``minimal`` reads as low); None stays None."""
    if value is None:
        return None
    name = value.strip().lower()
    if name in ("minimal", "none"):
        name = "low"
    try:
        return ReasoningEffort(name)
    except ValueError:
        raise bad_request(
            f"{param} must be one of low, medium, high (got {value!r})", param=param
        ) from None


def _text(message: ChatMessage, index: int) -> str:
    content = message.content
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    texts = []
    for k, part in enumerate(content):
        if part.type not in ("text", "input_text", "output_text") or part.text is None:
            raise bad_request(
                f"content part of type {part.type!r} is not supported (text only)",
                param=f"messages[{index}].content[{k}]",
            )
        texts.append(part.text)
    return "".join(texts)


def _messages(request: ChatRequest) -> tuple[list[Message], str | None]:
    instructions: list[str] = []
    out: list[Message] = []
    calls: dict[str, str] = {}  # tool_call_id -> function name
    for i, m in enumerate(request.messages):
        text = _text(m, i)
        if m.role in ("system", "developer"):
            instructions.append(text)
        elif m.role == "user":
            out.append(Message.user(text))
        elif m.role == "assistant":
            thought = m.reasoning_content or m.reasoning
            if thought:
                out.append(reasoning_message(thought))
            if m.tool_calls:
                if text.strip():
                    out.append(Message.assistant(text, channel=Channel.COMMENTARY))
                for call in m.tool_calls:
                    if call.id is not None:
                        calls[call.id] = call.function.name
                    out.append(
                        function_call_message(
                            call.function.name, json_text(call.function.arguments)
                        )
                    )
            elif text or not thought:
                out.append(Message.assistant(text, channel=Channel.FINAL))
        else:  # tool, or the legacy function role
            name = calls.get(m.tool_call_id or "") or m.name
            if name is None:
                where = f"messages[{i}].tool_call_id"
                raise bad_request(
                    f"tool message answers {m.tool_call_id!r}, which no earlier assistant "
                    "tool_calls entry has",
                    param=where,
                )
            out.append(function_result_message(name, text))
    return out, instructions_from(instructions)


def to_generation(request: ChatRequest) -> Generation:
    """The generation a chat request asks for (400 for what harmony cannot express)."""
    if request.n not in (None, 1):
        raise bad_request("only n=1 is supported", param="n")
    messages, instructions = _messages(request)
    functions = None
    choice = request.tool_choice
    if request.tools and choice != "none":
        defs = [t.function for t in request.tools]
        if isinstance(choice, dict):
            wanted = (choice.get("function") or {}).get("name")
            defs = [d for d in defs if d.name == wanted]
            if not defs:
                raise bad_request(
                    f"tool_choice names an unknown function {wanted!r}", "tool_choice"
                )
        specs = [
            {"name": d.name, "description": d.description or "", "parameters": d.parameters}
            for d in defs
        ]
        functions = client_tool(specs, param="tools")
    stop = request.stop
    stops = (stop,) if isinstance(stop, str) else tuple(stop or ())
    if len(stops) > 4:
        raise bad_request("at most 4 stop sequences", param="stop")
    return Generation(
        messages=messages,
        instructions=instructions,
        functions=functions,
        reasoning=effort(request.reasoning_effort, "reasoning_effort"),
        max_tokens=request.max_completion_tokens or request.max_tokens,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
        seed=request.seed,
        stop=stops,
    )
