"""Token helpers every backend shares: the stop set, the gate, and text re-encoding.

Nothing here speaks HTTP: in-process backends (``Scripted``, ``Transformers``,
``VLLMEngine``) use it without loading httpx.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._backend import Finish, FinishReason, SamplingParams
from harmony_agent.format import _tokens as T
from harmony_agent.format._encoding import O200K_PATTERN

if TYPE_CHECKING:
    from harmony_agent.format import Encoding

__all__ = ["TextTokenizer", "TokenGate", "end_of_stream", "special_token_id", "stop_set"]


def stop_set(params: SamplingParams) -> tuple[int, ...]:
    """The stop tokens of ``params``: the harmony action stops when none are given."""
    if params.stop_tokens is None:
        return T.ACTION_STOPS
    return tuple(params.stop_tokens)


class TokenGate:
    """Cuts a completion at its first stop token (kept) or at ``max_tokens``.

    Engines differ in whether they honour every stop token and the exact limit; the
    gate makes every adapter behave the same.
    """

    def __init__(self, params: SamplingParams) -> None:
        self.stops = frozenset(stop_set(params))
        self.remaining = params.max_tokens
        self.done = False
        self.stopped = False  #: ended on a stop token
        self.tokens: list[int] = []

    def take(self, tokens: Iterable[int]) -> list[int]:
        """The part of ``tokens`` that belongs to the completion."""
        out: list[int] = []
        for token in tokens:
            if self.done:
                break
            out.append(int(token))
            self.remaining -= 1
            if token in self.stops:
                self.done = self.stopped = True
            elif self.remaining <= 0:
                self.done = True
        self.tokens += out
        return out

    def finish(self, tail: Sequence[int] = (), reason: FinishReason | None = None) -> Finish:
        """The stream's last chunk: ``tail`` (already taken) and why it ended.

        Without ``reason``: ``"length"`` when the gate cut the completion at
        ``max_tokens``, else ``"stop"``.
        """
        if reason is None:
            reason = "length" if self.done and not self.stopped else "stop"
        return Finish(tail, reason)


def special_token_id(text: str, encoding: Encoding) -> int | None:
    """The id of a special token given by its text (``"<|call|>"``), else None."""
    ids = encoding.encode(text, allowed_special="all") if text.startswith("<|") else []
    return ids[0] if len(ids) == 1 and encoding.is_special_token(ids[0]) else None


_SPECIAL_RE = re.compile(r"<\|[^<>|\s]{1,64}\|>")
_PARTIAL_SPECIAL_RE = re.compile(r"<(?:\|[^<>|\s]{0,64}\|?)?\Z")


class TextTokenizer:
    """Re-encodes streamed harmony text (special tokens literal) into token ids.

    Text is encoded only up to a point no later text can change: the end of the last
    special token, or a pre-tokenizer piece boundary after it that later text cannot move. With
    ``restore_end``, a ``<|end|>`` the engine left out of its text (llama.cpp and Ollama
    do not render control tokens) is put back before each ``<|start|>``; ``after`` is the
    token the text follows (the prompt's last), so that holds across a resumed stream too.
    """

    def __init__(
        self, encoding: Encoding, *, restore_end: bool = False, after: int | None = None
    ) -> None:
        self.encoding = encoding
        self.restore_end = restore_end
        self._pending = ""
        self._specials = encoding.special_tokens_set
        #: the token before the text (the prompt's last, when a stream is resumed)
        self._last: int | None = after
        try:
            import regex  # type: ignore[import-untyped]  # tiktoken's own dependency
        except ImportError:  # pragma: no cover - cut at special tokens only
            self._pieces: Any = None
        else:
            self._pieces = regex.compile(O200K_PATTERN)

    def feed(self, text: str) -> list[int]:
        """Tokens for the text that is now final."""
        self._pending += text
        cut = self._safe_cut(self._pending)
        if cut == 0:
            return []
        ready, self._pending = self._pending[:cut], self._pending[cut:]
        return self._encode(ready)

    def flush(self) -> list[int]:
        """Tokens for whatever is still held back (end of stream)."""
        ready, self._pending = self._pending, ""
        return self._encode(ready) if ready else []

    def _safe_cut(self, text: str) -> int:
        boundary = 0
        for match in _SPECIAL_RE.finditer(text):
            if match.group() in self._specials:
                boundary = match.end()
        tail = text[boundary:]
        partial = _PARTIAL_SPECIAL_RE.search(tail)  # may still become a special token
        ordinary = tail[: partial.start()] if partial else tail
        if not ordinary or self._pieces is None:
            return boundary
        # The last two pieces may still change ("Let" + "'" becomes "Let's" once "s"
        # comes), and a piece ending in whitespace depends on what follows it.
        starts: list[int] = [match.start() for match in self._pieces.finditer(ordinary)]
        for start in reversed(starts[1:-1]):
            if not ordinary[start - 1].isspace():
                return boundary + start
        return boundary

    def _encode(self, text: str) -> list[int]:
        tokens = self.encoding.encode(text, allowed_special="all")
        if not self.restore_end:
            return tokens
        out: list[int] = []
        for token in tokens:
            if token == T.START and self._last is not None and self._last != T.END:
                out.append(T.END)
            out.append(token)
            self._last = token
        return out


def end_of_stream(
    gate: TokenGate, text: TextTokenizer | None, named_stop: int | None, *, length: bool
) -> Finish:
    """The last chunk of a stream the engine finished: what re-encoded text still held,
    the stop token the engine named when the reply left it out, and why it ended
    (``length``: the engine's limit; else as the gate says)."""
    tail = gate.take(text.flush()) if text is not None else []
    if named_stop is not None and not gate.done:
        tail += gate.take([named_stop])
    return gate.finish(tail, "length" if length else None)
