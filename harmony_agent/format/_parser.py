"""The streaming harmony parser: model tokens in, typed events and messages out.

One state machine serves everything that parses completions: :class:`StreamParser`
(token by token or in chunks), ``Encoding.parse_messages_from_completion_tokens`` and
the openai-harmony compatibility layer. Its states are openai-harmony's:
``expect_start`` (between messages), ``header`` (collecting header tokens; the header
is parsed only at ``<|message|>``, by :mod:`._header`) and ``content`` (decoding text
until ``<|end|>``, ``<|call|>`` or ``<|return|>``).

Lenient mode (the default) never raises and never drops a token: each one ends up in
a message (header, text or terminator) or in a :class:`ParseIssue`. It accepts what
gpt-oss models and servers emit: the recipient before or after the channel, content
types with or without ``<|constrain|>``, extra spaces; a missing ``<|start|>assistant``
between messages; ``<|start|>`` or ``<|channel|>`` inside text (the message lost its
end token: it ends ``"incomplete"``); doubled ``<|start|>``, stray end tokens and
filler words between messages (issues); a stream cut off anywhere (``"incomplete"``).
Text outside any header becomes a message without channel, as openai-harmony's lenient
mode does for the first message; a header that never reaches ``<|message|>`` keeps its
channel and the text after it. After 64 header tokens without ``<|message|>`` the
rest is streamed as content, so plain-text output is not held back.

Channels are kept verbatim, with no issue for ones other than analysis/commentary/
final: a system message may declare other valid channels. Readers that care
(:func:`~harmony_agent.visible_text`) filter on the channel.

Strict mode raises :class:`~harmony_agent.ParseError` (with the token position) where
lenient mode would report its first issue. Where openai-harmony fails on the same
input the message starts with its words ("Unexpected token ... while expecting start
token 200006", "unexpected tokens remaining in message header", "Unexpected EOS while
waiting for message header to complete"), so a compatibility layer can map them.
Deliberate differences from openai-harmony are listed in
``tests/data/model_outputs/README.md``.
"""

from __future__ import annotations

import codecs
import operator
import reprlib
from collections.abc import Iterable
from itertools import compress, count
from typing import TYPE_CHECKING

from harmony_agent.format import _tokens as T
from harmony_agent.format._events import Event
from harmony_agent.format._messages import Message, Role
from harmony_agent.format._parse_states import (
    CONTENT,
    HEADER,
    MAX_HEADER,
    Machine,
    ParserState,
)
from harmony_agent.format._parse_tables import NO_FAST, Tables, delta

if TYPE_CHECKING:
    from harmony_agent.format._encoding import Encoding

__all__ = ["ParserState", "StreamParser", "parse_completion_tokens"]


class StreamParser(Machine):
    """Incremental harmony parser for model output.

    ``role`` is the author of the first message when the stream starts right after
    ``<|start|>assistant`` (what a completion prompt ends with); pass None when the
    stream starts at ``<|start|>``. To continue a prefilled message, feed the prefill's
    tokens first. ``encoding`` defaults to :func:`~harmony_agent.load_encoding`'s,
    loaded on first use.

    ``feed`` takes one token or an iterable of tokens and returns the events they
    complete; ``finish`` ends the stream. Messages, issues and the text of each message
    do not depend on how the stream is chunked; only the boundaries of
    :class:`ContentDelta` texts do, and those never split a UTF-8 character.

    Read-only state (for compatibility layers and UIs): ``state`` (``"expect_start"``,
    ``"header"`` or ``"content"``), ``current_role``/``current_channel``/
    ``current_recipient``/``current_content_type`` (of the message being read, else
    None), ``current_text``, ``last_delta`` (text of the last delta of the latest feed,
    or None), ``tokens`` (everything fed), ``messages``, ``issues``, ``spans`` (the
    ``(start, stop)`` token range of each message, header to terminator) and
    ``issue_spans`` (the token range of each issue; empty for issues that hold no tokens).
    """

    __slots__ = ()

    def __init__(
        self,
        encoding: Encoding | None = None,
        role: Role | str | None = Role.ASSISTANT,
        strict: bool = False,
    ) -> None:
        super().__init__(encoding, None if role is None else Role(role), strict)

    def _load(self) -> None:
        if self.encoding is None:
            from harmony_agent.format._encoding import load_encoding

            self.encoding = load_encoding()
        self._table = self.encoding.token_byte_table
        self._tables = Tables.of(self.encoding)
        self._strs = self._tables.strings
        self._n = min(len(self._table), T.FIRST_SPECIAL)

    @property
    def current_text(self) -> str:
        """Decoded text of the message being read (complete characters only)."""
        if self.state is not CONTENT:
            return ""
        return codecs.utf_8_decode(self._content(len(self.tokens)), "replace", False)[0]

    def feed(self, tokens: int | Iterable[int]) -> list[Event]:
        """Parse one token or several; returns the events they produce, in order."""
        if type(tokens) is int:
            t = tokens
            self.tokens.append(t)
            # The hot path: a token of text inside a message, at a character boundary.
            # Deltas are immutable, so one per distinct token and message is enough.
            fast = self._fast
            d = fast.get(t)
            if d is None and fast is not NO_FAST and 0 <= t < self._n:
                text = self._strs[t]
                if text is not None:
                    d = fast[t] = delta(
                        self._index, self.current_channel, self.current_recipient, text
                    )
            if d is not None:
                self.last_delta = d.text
                return [d]
            if self.state is HEADER and 0 <= t < self._n and len(self._header) < MAX_HEADER:
                self._header.append(t)  # headers are parsed at <|message|>
                self.last_delta = None
                return []
            if not self._n:
                self._load()
            out: list[Event] = []
            self._step(t, len(self.tokens) - 1, out)
            self._last_delta(out)
            return out
        if not isinstance(tokens, Iterable):
            return self.feed(operator.index(tokens))
        if isinstance(tokens, (str, bytes, bytearray)):
            raise TypeError(
                "StreamParser.feed takes token ids (an int or a list of ints), got "
                f"{type(tokens).__name__} {reprlib.repr(tokens)}; encode text first: "
                "encoding.encode(text, allowed_special='all')"
            )
        return self._feed_many(tokens if type(tokens) is list else list(tokens))

    def process(self, token: int) -> None:
        """Parse one token like :meth:`feed`, without returning the events (messages
        still arrive in ``messages``): for callers that poll ``last_delta`` and the
        ``current_*`` state, such as an openai-harmony compatible ``StreamableParser``."""
        self.feed(token)

    def _feed_many(self, toks: list[int]) -> list[Event]:
        out: list[Event] = []
        if not toks:
            self.last_delta = None
            return out
        if not self._n:
            self._load()
        try:
            negative = min(toks) < 0
        except TypeError:
            bad = next((t for t in toks if not isinstance(t, int)), None)
            raise TypeError(
                f"StreamParser.feed takes token ids (ints), got {type(bad).__name__} "
                f"{reprlib.repr(bad)} among them"
            ) from None
        base = len(self.tokens)
        self.tokens += toks
        n, step = self._n, self._step
        if negative:  # not token ids: no shortcuts
            for k, t in enumerate(toks):
                step(t, base + k, out)
        else:
            # Positions of special tokens, found in C; the text between them is decoded
            # in one go while the parser is inside a message.
            marks = list(compress(count(), map(n.__le__, toks))) if max(toks) >= n else []
            marks.append(len(toks))
            table, i = self._table, 0
            for j in marks:
                while i < j:
                    if self.state is CONTENT:
                        self._text(b"".join(map(table.__getitem__, toks[i:j])), out)
                        break
                    step(toks[i], base + i, out)
                    i += 1
                if j < len(toks):
                    step(toks[j], base + j, out)
                i = j + 1
        self._last_delta(out)
        return out

    def finish(self) -> list[Event]:
        """End of stream: deliver the message in progress (``stop="incomplete"``).

        The parser then waits for ``<|start|>``; call :meth:`reset` for a new stream.
        """
        out: list[Event] = []
        end = len(self.tokens)
        if self.state is CONTENT:
            self._close(out, "incomplete", end, end)
        elif self.state is HEADER and self._header:
            self._recover(out, None, end, eos=True)
        self._clear()
        self._last_delta(out)
        return out


def parse_completion_tokens(
    encoding: Encoding | None,
    tokens: Iterable[int],
    role: Role | str | None = None,
    strict: bool = True,
) -> list[Message]:
    """All messages in ``tokens`` (``Encoding.parse_messages_from_completion_tokens``)."""
    parser = StreamParser(encoding, role=role, strict=strict)
    parser.feed(tokens)
    parser.finish()
    return parser.messages
