"""``HarmonyEncoding``, ``StreamableParser`` and ``load_harmony_encoding`` on our codec."""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection, Sequence
from enum import Enum
from typing import Any, Literal

from harmony_agent.compat._oh_codec import (
    LAST_TOKEN,
    SPECIAL_NAMES,
    Core,
    check_u32,
    core,
    raise_disallowed,
)
from harmony_agent.compat._oh_models import (
    Author,
    Conversation,
    Message,
    RenderConversationConfig,
    RenderOptions,
    Role,
    TextContent,
)
from harmony_agent.compat._oh_parser import Machine, Parsed, StreamState, parse_tokens
from harmony_agent.compat._oh_render import render_message, render_messages
from harmony_agent.format import _tokens as T
from harmony_agent.format._encoding import Encoding

__all__ = [
    "HarmonyEncoding",
    "HarmonyEncodingName",
    "StreamableParser",
    "load_harmony_encoding",
    "raise_disallowed_special_token",
]

_GPT_OSS = "HarmonyGptOss"


class HarmonyEncodingName(str, Enum):
    """Names of the encodings ``load_harmony_encoding`` knows."""

    HARMONY_GPT_OSS = _GPT_OSS

    def __str__(self) -> str:
        return str(self.value)


def _messages(conversation: Conversation | Sequence[Message]) -> Sequence[Message]:
    if isinstance(conversation, Conversation):
        return conversation.messages
    return conversation


def _role(role: Role | str) -> Role:
    return role if isinstance(role, Role) else Role(getattr(role, "value", role))


def _message(parsed: Parsed) -> Message:
    header = parsed.header
    return Message.model_construct(
        author=Author.model_construct(role=header.role, name=header.name),
        content=[TextContent.model_construct(text=parsed.text)],
        channel=header.channel,
        recipient=header.recipient,
        content_type=header.content_type,
    )


class HarmonyEncoding:
    """The harmony codec with openai-harmony's ``HarmonyEncoding`` interface.

    Rendering and parsing give the tokens, messages and errors openai-harmony 0.0.8
    gives (its chain-of-thought rule and TypeScript schema text included). Every error
    is a ``HarmonyError``; upstream raises a plain ``RuntimeError`` from some render
    methods (``HarmonyError`` is a ``RuntimeError``, so such handlers still catch it).
    """

    def __init__(self, core: Core, name: str = _GPT_OSS) -> None:
        self._core = core
        self._name = name

    def __repr__(self) -> str:
        return f"HarmonyEncoding({self._name!r})"

    @property
    def name(self) -> str:
        """The encoding's name (``"HarmonyGptOss"``)."""
        return self._name

    @property
    def ha_encoding(self) -> Encoding:
        """The ``harmony_agent.Encoding`` underneath (an addition, for mixing both APIs)."""
        return self._core.encoding

    @functools.cached_property
    def special_tokens_set(self) -> set[str]:
        """Names of the 1,091 special tokens."""
        return set(SPECIAL_NAMES)

    # -- rendering ----------------------------------------------------------------------
    def render_conversation_for_completion(
        self,
        conversation: Conversation | Sequence[Message],
        next_turn_role: Role,
        config: RenderConversationConfig | None = None,
    ) -> list[int]:
        """Tokens of the conversation followed by ``<|start|>{next_turn_role}``."""
        role = _role(next_turn_role)
        out: list[int] = []
        drop = True if config is None else config.auto_drop_analysis
        render_messages(self._core, _messages(conversation), out, auto_drop_analysis=drop)
        out.append(T.START)
        out += self._core.encode_ordinary(role.value)
        return out

    def render_conversation(
        self,
        conversation: Conversation | Sequence[Message],
        config: RenderConversationConfig | None = None,
    ) -> list[int]:
        """Tokens of the conversation, with no header for a next turn."""
        out: list[int] = []
        drop = True if config is None else config.auto_drop_analysis
        render_messages(self._core, _messages(conversation), out, auto_drop_analysis=drop)
        return out

    def render_conversation_for_training(
        self,
        conversation: Conversation | Sequence[Message],
        config: RenderConversationConfig | None = None,
    ) -> list[int]:
        """Like ``render_conversation``; a trailing ``final`` message ends in ``<|return|>``."""
        messages = _messages(conversation)
        out = self.render_conversation(messages, config)
        if messages and out:
            last = messages[-1]
            if last.author.role == Role.ASSISTANT and last.channel == "final":
                out[-1] = T.RETURN
        return out

    def render(self, message: Message, render_options: RenderOptions | None = None) -> list[int]:
        """Tokens of one message."""
        has_fn = False if render_options is None else render_options.conversation_has_function_tools
        self._core.fast_encoder()
        out: list[int] = []
        render_message(self._core, message, out, has_fn)
        return out

    # -- parsing ------------------------------------------------------------------------
    def parse_messages_from_completion_tokens(
        self, tokens: Sequence[int], role: Role | None = None, *, strict: bool = True
    ) -> list[Message]:
        """Parse completion tokens into messages; raises ``HarmonyError`` as upstream does."""
        tokens = list(tokens)
        check_u32(tokens)
        parsed = parse_tokens(self._core, tokens, None if role is None else _role(role), strict)
        return [_message(p) for p in parsed]

    # -- tokens -------------------------------------------------------------------------
    def decode_utf8(self, tokens: Sequence[int]) -> str:
        """Decode; raises ``HarmonyError`` on an unknown id or invalid UTF-8."""
        return self._core.decode_utf8(tokens)

    def decode(self, tokens: Sequence[int], errors: str = "replace") -> str:
        """Decode; invalid UTF-8 is handled by ``errors`` (replaced by default)."""
        return self._core.decode_bytes(tokens).decode("utf-8", errors=errors)

    def encode(
        self,
        text: str,
        *,
        allowed_special: Literal["all"] | Collection[str] = frozenset(),
        disallowed_special: Literal["all"] | Collection[str] = "all",
    ) -> list[int]:
        """Encode text. Special-token text raises ``HarmonyError`` unless it is allowed
        (then it becomes the special token) or not disallowed (then it stays text)."""
        return self._core.encode(text, allowed_special, disallowed_special)

    def is_special_token(self, token: int) -> bool:
        """True for the ids of the special tokens (199998 to 201088)."""
        check_u32([token])
        return T.FIRST_SPECIAL <= token <= LAST_TOKEN

    def stop_tokens(self) -> list[int]:
        """``<|return|>``, ``<|end|>`` and ``<|call|>`` (upstream gives them in no set order)."""
        return [T.RETURN, T.END, T.CALL]

    def stop_tokens_for_assistant_actions(self) -> list[int]:
        """``<|return|>`` and ``<|call|>``: the tokens that end sampling."""
        return list(T.ACTION_STOPS)


class StreamableParser:
    """Incremental parser over completion tokens, with upstream's state and errors."""

    def __init__(
        self, encoding: HarmonyEncoding, role: Role | None, *, strict: bool = True
    ) -> None:
        self._machine = Machine(encoding._core, None if role is None else _role(role), strict)

    def process(self, token: int) -> StreamableParser:
        """Consume one token; raises ``HarmonyError`` where upstream does."""
        token = operator.index(token)
        if not 0 <= token <= 0xFFFFFFFF:
            raise OverflowError("out of range integral type conversion attempted")
        self._machine.step(token)
        return self

    def process_eos(self) -> StreamableParser:
        """Signal the end of the stream (finishes a message still in its content)."""
        self._machine.step(None)
        return self

    @property
    def current_content(self) -> str:
        """Text of the message being parsed so far ("" outside content)."""
        m = self._machine
        return m.content.text() if m.state is StreamState.CONTENT else ""

    @property
    def current_role(self) -> Role | None:
        """Role of the message being parsed (or the role given for the next header)."""
        m = self._machine
        if m.state is StreamState.CONTENT and m.header is not None:
            return m.header.role
        return m.next_role

    @property
    def current_content_type(self) -> str | None:
        """Content type of the message being parsed, once its header is complete."""
        header = self._header()
        return None if header is None else header.content_type

    @property
    def current_recipient(self) -> str | None:
        """Recipient of the message being parsed, once its header is complete."""
        header = self._header()
        return None if header is None else header.recipient

    @property
    def current_channel(self) -> str | None:
        """Channel of the message being parsed, once its header is complete."""
        header = self._header()
        return None if header is None else header.channel

    @property
    def last_content_delta(self) -> str | None:
        """Text the last token added to the content (``None`` if it added none)."""
        return self._machine.last_delta

    @property
    def messages(self) -> list[Message]:
        """Completed messages (new objects on every access, as upstream's are)."""
        return [_message(p) for p in self._machine.messages]

    @property
    def tokens(self) -> list[int]:
        """Every token processed so far."""
        return list(self._machine.tokens)

    @property
    def state_data(self) -> dict[str, Any]:
        """The parser's state in upstream's JSON shape."""
        m = self._machine
        if m.state is StreamState.EXPECT_START:
            return {"state": "ExpectStart"}
        if m.state is StreamState.HEADER:
            return {"state": "Header", "header_tokens": list(m.header_tokens)}
        header = m.header
        assert header is not None
        author: dict[str, Any] = {"role": header.role.value}
        if header.name is not None:
            author["name"] = header.name
        return {
            "state": "Content",
            "header": {
                "author": author,
                "recipient": header.recipient,
                "channel": header.channel,
                "content_type": header.content_type,
            },
            "content_tokens": m.content_tokens(),
        }

    @property
    def state(self) -> StreamState:
        """``EXPECT_START``, ``HEADER`` or ``CONTENT``."""
        return self._machine.state

    def _header(self) -> Any:
        m = self._machine
        return m.header if m.state is StreamState.CONTENT else None


def load_harmony_encoding(name: str | HarmonyEncodingName) -> HarmonyEncoding:
    """The encoding called ``name``. Works offline: the vocabulary comes from
    ``harmony_agent.load_encoding()`` (no download, no environment variable needed)."""
    if not isinstance(name, str):
        name = str(name)
    if name != _GPT_OSS:
        raise ValueError(f"Invalid HarmonyEncodingName: {name}")
    return HarmonyEncoding(core())


def raise_disallowed_special_token(token: str) -> None:
    """Raise the ``HarmonyError`` that ``encode`` raises for disallowed special-token text."""
    raise_disallowed(token)
