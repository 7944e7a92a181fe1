"""The harmony codec: ``Encoding`` (render/parse/encode/decode) and ``load_encoding``."""

from __future__ import annotations

import os
import threading
from collections.abc import Collection, Iterable, Sequence
from typing import Literal

import tiktoken

from harmony_agent.format import _tokens as T
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._messages import Channel, Message, Role
from harmony_agent.format._render import _DEFAULT_CONFIG, RenderConfig, Renderer
from harmony_agent.format._vocab import load_ranks

__all__ = ["O200K_PATTERN", "Encoding", "load_encoding"]

#: o200k's pre-tokenizer pattern: BPE merges never cross the pieces it cuts text into.
O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

Messages = Conversation | Sequence[Message]


def _messages(conversation: Messages) -> Sequence[Message]:
    if isinstance(conversation, Conversation):
        return conversation.messages
    return conversation


class Encoding:
    """The o200k_harmony codec with openai-harmony's ``HarmonyEncoding`` method names.

    Rendering is token-for-token identical to openai-harmony 0.0.8 except for the
    documented deviations (chain-of-thought policy, TypeScript for JSON Schemas), each
    of which has a ``RenderConfig`` switch restoring upstream's behaviour.
    """

    name = "HarmonyGptOss"

    def __init__(self, ranks: list[bytes], source: str = "") -> None:
        self.source = source
        #: bytes of every ordinary token, indexed by token id
        self.token_byte_table: list[bytes] = ranks
        self._tiktoken: tiktoken.Encoding | None = None
        self._bpe_lock = threading.Lock()
        # Made with the BPE tables, bound to their encoder for good.
        self._renderer: Renderer | None = None
        self._specials = frozenset(T.special_tokens())

    @property
    def tiktoken(self) -> tiktoken.Encoding:
        """The underlying tiktoken encoding (o200k_harmony).

        Its BPE tables are built on first use (about 0.1 s), so programs that only
        parse or decode never pay for them.
        """
        enc = self._tiktoken
        if enc is None:
            with self._bpe_lock:
                enc = self._tiktoken
                if enc is None:
                    ranks = self.token_byte_table
                    enc = tiktoken.Encoding(
                        "o200k_harmony",
                        pat_str=O200K_PATTERN,
                        mergeable_ranks=dict(zip(ranks, range(len(ranks)), strict=True)),
                        special_tokens=T.special_tokens(),
                    )
                    self._renderer = Renderer(enc.encode_ordinary)
                    self._tiktoken = enc
        return enc

    def encode_ordinary(self, text: str) -> list[int]:
        """Encode text with no special tokens at all (what message content uses)."""
        return self.tiktoken.encode_ordinary(text)

    def __repr__(self) -> str:
        return f"Encoding({self.name!r}, source={self.source!r})"

    @property
    def renderer(self) -> Renderer:
        """The cached renderer, bound to this encoding's tokenizer (built on first use)."""
        renderer = self._renderer
        if renderer is None:
            self.tiktoken  # noqa: B018 - builds the BPE tables and the renderer
            renderer = self._renderer
            assert renderer is not None
        return renderer

    # -- rendering --------------------------------------------------------------------
    def render_conversation_for_completion(
        self,
        conversation: Messages,
        next_turn_role: Role | str = Role.ASSISTANT,
        config: RenderConfig | None = None,
    ) -> list[int]:
        """Tokens of the conversation followed by ``<|start|>{next_turn_role}``."""
        out: list[int] = []
        self.renderer.conversation_into(out, _messages(conversation), config)
        out.append(T.START)
        out += self.encode_ordinary(Role(next_turn_role).value)
        return out

    def render_conversation_for_training(
        self, conversation: Messages, config: RenderConfig | None = None
    ) -> list[int]:
        """Tokens for training: a final assistant message ends in ``<|return|>``.

        With the default ``"turns"`` policy the analysis of the last turn is kept
        (it is what the model learns to produce).
        """
        messages = _messages(conversation)
        out: list[int] = []
        self.renderer.conversation_into(out, messages, config, training=True)
        if (
            messages
            and messages[-1].role is Role.ASSISTANT
            and messages[-1].channel is Channel.FINAL
        ):
            out[-1] = T.RETURN
        return out

    def render_conversation(
        self, conversation: Messages, config: RenderConfig | None = None
    ) -> list[int]:
        """Tokens of the conversation, with no trailing header."""
        out: list[int] = []
        self.renderer.conversation_into(out, _messages(conversation), config)
        return out

    def render(
        self,
        message: Message,
        *,
        has_function_tools: bool = False,
        config: RenderConfig | None = None,
    ) -> list[int]:
        """Tokens of one message (``<|start|>`` ... ``<|end|>``/``<|call|>``)."""
        out: list[int] = []
        flavor = (config or _DEFAULT_CONFIG).schema_flavor
        self.renderer.message_into(out, message, has_function_tools, flavor)
        return out

    # -- parsing ----------------------------------------------------------------------
    def parse_messages_from_completion_tokens(
        self, tokens: Iterable[int], role: Role | str | None = None, strict: bool = True
    ) -> list[Message]:
        """Parse completion tokens into messages (the streaming parser, fed in one go).

        The defaults are openai-harmony's, not :class:`~harmony_agent.StreamParser`'s:
        ``role=None`` expects the tokens to begin with ``<|start|>`` (a whole rendered
        message), and ``strict=True`` raises :class:`~harmony_agent.ParseError` on
        malformed output. What a model generates after a completion prompt (which ends
        in ``<|start|>assistant``) begins with ``<|channel|>``: parse it with
        ``role=Role.ASSISTANT``, the parser's default. ``strict=False`` never raises.
        """
        from harmony_agent.format._parser import parse_completion_tokens

        return parse_completion_tokens(
            self, list(tokens), None if role is None else Role(role), strict
        )

    # -- tokens -----------------------------------------------------------------------
    def stop_tokens(self) -> list[int]:
        """Every token that ends a message: ``<|return|>``, ``<|end|>``, ``<|call|>``."""
        return [T.RETURN, T.END, T.CALL]

    def stop_tokens_for_assistant_actions(self) -> list[int]:
        """Tokens that end sampling: ``<|return|>`` and ``<|call|>``."""
        return list(T.ACTION_STOPS)

    def encode(
        self,
        text: str,
        allowed_special: Literal["all"] | Collection[str] = (),
        disallowed_special: Literal["all"] | Collection[str] = (),
    ) -> list[int]:
        """Encode text; special-token text becomes a special token only if allowed.

        Unlike tiktoken, disallowed special-token text is encoded as plain text by default
        (``disallowed_special="all"`` raises instead).
        """
        allowed = self._specials if allowed_special == "all" else set(allowed_special)
        return self.tiktoken.encode(
            text, allowed_special=allowed, disallowed_special=disallowed_special
        )

    def decode(self, tokens: Iterable[int], errors: str = "replace") -> str:
        """Decode to text; special tokens appear literally (``<|end|>``)."""
        return self.decode_bytes(tokens).decode("utf-8", errors=errors)

    def decode_utf8(self, tokens: Iterable[int]) -> str:
        """Decode, raising ``UnicodeDecodeError`` on invalid UTF-8."""
        return self.decode_bytes(tokens).decode("utf-8")

    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        """The raw bytes of ``tokens``."""
        table = self.token_byte_table
        n = len(table)
        out = bytearray()
        for t in tokens:
            if 0 <= t < n:
                out += table[t]
            else:
                out += T.special_name(t).encode()
        return bytes(out)

    @property
    def special_tokens_set(self) -> set[str]:
        """Names of all special tokens."""
        return set(self._specials)

    def is_special_token(self, token: int) -> bool:
        """True for special-token ids."""
        return T.FIRST_SPECIAL <= token <= T.LAST_SPECIAL


_CACHE: dict[str | None, Encoding] = {}
_LOCK = threading.Lock()


def load_encoding(vocab: str | os.PathLike[str] | None = None) -> Encoding:
    """The harmony encoding, cached per process. Works offline (see ``_vocab``).

    Raises :class:`~harmony_agent.VocabError` listing every place searched when no
    verified vocabulary is found.
    """
    key = None if vocab is None else os.fspath(vocab)
    enc = _CACHE.get(key)
    if enc is not None:
        return enc
    with _LOCK:
        enc = _CACHE.get(key)
        if enc is None:
            ranks, source = load_ranks(vocab)
            enc = _CACHE[key] = Encoding(ranks, source)
    return enc
