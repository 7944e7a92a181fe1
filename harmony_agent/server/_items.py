"""What the generation loop yields: :class:`Item` and its events, and :class:`Finished`.

:class:`Generation` says what to run; :data:`ServerEvent` is everything
:func:`~harmony_agent.server.generate` yields.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

from harmony_agent.agent._result import RunResult, Usage
from harmony_agent.format._messages import Message, ReasoningEffort
from harmony_agent.server._errors import APIError
from harmony_agent.tools._client import ClientTool

__all__ = [
    "FINISH_REASONS",
    "FinishReason",
    "Finished",
    "Generation",
    "Item",
    "ItemDelta",
    "ItemEnd",
    "ItemKind",
    "ItemStart",
    "ServerEvent",
    "ToolAnswer",
]

#: What one assistant message is to an API client.
#:
#: ``reasoning``: analysis (chain of thought; never the answer's content), and any
#: message without a channel or on a channel gpt-oss does not use (malformed output).
#: ``text``: the answer (final channel).
#: ``preamble``: commentary without a recipient: a user-visible note before a call.
#: ``function_call``: a call to one of the client's functions (run by the client).
#: ``builtin_call``: a call the server answers (python, browser; also unknown tools,
#: answered with an error so the model can go on).
ItemKind = Literal["reasoning", "text", "preamble", "function_call", "builtin_call"]

#: The finish reasons of the OpenAI APIs.
FinishReason = Literal["stop", "tool_calls", "length"]

#: The agent's stop reason → the API's finish reason (``stop_sequence`` is ours).
FINISH_REASONS: dict[str, FinishReason] = {
    "final": "stop",
    "no_final": "stop",
    "stop_sequence": "stop",
    "tool_call": "tool_calls",
    "max_tokens": "length",
    "token_budget": "length",
    "context_window": "length",
    "max_turns": "length",
    "interrupted": "stop",
    "error": "stop",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Generation:
    """What to generate: the conversation after the prelude and the request's options.

    Attributes:
        messages: user, assistant and tool messages (no system or developer message:
            the server writes those from ``instructions`` and the tools).
        instructions: the developer message's instructions (OpenAI system/developer text).
        functions: the client's function tools (declared, never run here).
        builtins: which of the server's built-in tools to offer, by namespace name
            (``"python"``, ``"browser"``); None offers all of them.
        reasoning: the reasoning effort (None: the server's default).
        max_tokens: the most tokens the model may generate for this request, all
            completions together (None: the server's per-completion default, no total).
        temperature: sampling temperature.
        top_p: nucleus sampling.
        seed: sampling seed.
        stop: strings that end the answer text (not included in it).
    """

    messages: Sequence[Message]
    instructions: str | None = None
    functions: ClientTool | None = None
    builtins: tuple[str, ...] | None = None
    reasoning: ReasoningEffort | None = None
    max_tokens: int | None = None
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Item:
    """One assistant message of the output, as the API sees it.

    Attributes:
        index: its position in this request's output (0, 1, ... over all completions).
        kind: what it is (see :data:`ItemKind`).
        channel: its harmony channel.
        recipient: the full recipient (``functions.get_weather``, ``python``) or None.
        name: the function's name for a ``function_call``; the recipient for a
            ``builtin_call``; None otherwise.
        call_id: a fresh call id for a ``function_call`` (``call_...``), else None.
        content_type: the header's content type (``<|constrain|>json``, ``code``).
    """

    index: int
    kind: ItemKind
    channel: str | None
    recipient: str | None
    name: str | None = None
    call_id: str | None = None
    content_type: str | None = None


@dataclass(frozen=True, slots=True)
class ItemStart:
    """An item began (its header was parsed)."""

    item: Item
    type: Literal["item_start"] = field(default="item_start", init=False)


@dataclass(frozen=True, slots=True)
class ItemDelta:
    """More text of an item (for a call: a fragment of its arguments)."""

    item: Item
    text: str
    type: Literal["item_delta"] = field(default="item_delta", init=False)


@dataclass(frozen=True, slots=True)
class ItemEnd:
    """An item is complete; ``message`` holds its whole text (cut at a stop string).

    ``incomplete`` is True when it was cut off (token limit, a broken stream).
    """

    item: Item
    message: Message
    incomplete: bool = False
    type: Literal["item_end"] = field(default="item_end", init=False)


@dataclass(frozen=True, slots=True)
class ToolAnswer:
    """The server ran a built-in call (``item``) and answered it with ``messages``."""

    item: Item
    messages: tuple[Message, ...]
    error: bool
    type: Literal["tool_answer"] = field(default="tool_answer", init=False)


@dataclass(frozen=True, slots=True)
class Finished:
    """The generation is over.

    Attributes:
        finish_reason: ``stop``, ``tool_calls`` or ``length``.
        stop_reason: the agent's stop reason (see :data:`~harmony_agent.agent.StopReason`)
            or ``"stop_sequence"``.
        usage: prompt and completion tokens over all completions.
        outputs: every :class:`ItemEnd` and :class:`ToolAnswer`, in order.
        parse_issues: what the lenient parser had to repair (empty when the output was
            well-formed); the output is its best reading.
        error: the engine failure that cut the run short, if one did.
        result: the agent's result (None when a stop string ended the run early).
    """

    finish_reason: FinishReason
    stop_reason: str
    usage: Usage
    outputs: tuple[ItemEnd | ToolAnswer, ...] = ()
    parse_issues: tuple[str, ...] = ()
    error: APIError | None = None
    result: RunResult | None = None
    type: Literal["finished"] = field(default="finished", init=False)

    @property
    def calls(self) -> tuple[ItemEnd, ...]:
        """The client-side function calls to hand back (ends of ``function_call`` items)."""
        return tuple(
            o for o in self.outputs if isinstance(o, ItemEnd) and o.item.kind == "function_call"
        )

    def text(self, *kinds: ItemKind) -> str:
        """The text of the items of ``kinds`` (default: ``text``), joined in order."""
        wanted = kinds or ("text",)
        return "".join(
            o.message.text for o in self.outputs if isinstance(o, ItemEnd) and o.item.kind in wanted
        )


#: Everything :func:`generate` yields.
ServerEvent = Union[ItemStart, ItemDelta, ItemEnd, ToolAnswer, Finished]  # noqa: UP007
