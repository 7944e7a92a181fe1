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
import weakref
from collections.abc import Iterable
from enum import Enum
from itertools import compress, count
from typing import TYPE_CHECKING, Any, Final

from harmony_agent.errors import ParseError
from harmony_agent.format import _tokens as T
from harmony_agent.format._events import (
    ContentDelta,
    Event,
    MessageEnd,
    MessageStart,
    ParseIssue,
    StopKind,
)
from harmony_agent.format._header import Header, parse_header, show
from harmony_agent.format._messages import Message, Role

if TYPE_CHECKING:
    from harmony_agent.format._encoding import Encoding

__all__ = ["ParserState", "StreamParser", "parse_completion_tokens"]


class ParserState(str, Enum):
    """Where the parser is: between messages, in a header, or in a message's content.

    A ``str`` enum: ``parser.state == "header"`` holds as it did when states were strings.
    """

    EXPECT_START = "expect_start"
    HEADER = "header"
    CONTENT = "content"

    def __str__(self) -> str:
        return self.value


# Module-level names for the hot paths (a global load, compared with ``is``).
EXPECT_START: Final = ParserState.EXPECT_START
HEADER: Final = ParserState.HEADER
CONTENT: Final = ParserState.CONTENT
_STOPS: Final[dict[int, StopKind]] = {T.END: "end", T.CALL: "call", T.RETURN: "return"}
_MAX_HEADER: Final = 64
_utf8_decode = codecs.utf_8_decode
_NO_FAST: Final[dict[int, ContentDelta]] = {}  # never written: the hot path is off
_new = object.__new__

_TABLES: weakref.WeakKeyDictionary[Any, _Tables] = weakref.WeakKeyDictionary()


class _Tables:
    """Per-encoding lookups the hot paths share between parsers."""

    def __init__(self, encoding: Encoding) -> None:
        #: each ordinary token's text when its bytes are complete UTF-8 on their own,
        #: else None: the per-token path looks text up instead of running a decoder
        self.strings: list[str | None] = []
        for data in encoding.token_byte_table:
            try:
                self.strings.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                self.strings.append(None)
        #: parsed headers: a run repeats the same few headers over and over
        self.headers: dict[tuple[Any, ...], Header] = {}

    @classmethod
    def empty(cls) -> _Tables:
        """Tables of no encoding: what a parser holds until it loads its encoding."""
        tables = cls.__new__(cls)
        tables.strings, tables.headers = [], {}
        return tables

    @staticmethod
    def of(encoding: Encoding) -> _Tables:
        tables = _TABLES.get(encoding)
        if tables is None:
            tables = _TABLES[encoding] = _Tables(encoding)
        return tables


_NO_TABLES: Final = _Tables.empty()


class _Draft:
    """Same slots as ContentDelta, but writable: deltas are built as drafts and then
    become ContentDelta (assigning ``__class__`` between classes of identical layout).

    Why (measured with ``tools/bench_parser.py``): a frozen dataclass sets each field
    through ``object.__setattr__``; on the per-token path that costs more than all the
    parsing, and this builds an identical object in under a third of the time.
    ``tests/format/test_parser.py`` checks that the layouts match, so no check runs at
    import.
    """

    __slots__ = ("channel", "index", "recipient", "text", "type")
    index: int
    channel: str | None
    recipient: str | None
    text: str
    type: str


def _draft_delta(index: int, channel: str | None, recipient: str | None, text: str) -> Any:
    d = _new(_Draft)
    d.index = index
    d.channel = channel
    d.recipient = recipient
    d.text = text
    d.type = "content_delta"
    d.__class__ = ContentDelta  # type: ignore[assignment]
    return d


_delta = _draft_delta


class StreamParser:
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

    __slots__ = (
        "_cache",
        "_cstart",
        "_fast",
        "_header",
        "_hrole",
        "_hstart",
        "_implicit",
        "_index",
        "_mstart",
        "_n",
        "_name",
        "_pending",
        "_prefix",
        "_strays",
        "_strs",
        "_table",
        "_tables",
        "current_channel",
        "current_content_type",
        "current_recipient",
        "current_role",
        "encoding",
        "issue_spans",
        "issues",
        "last_delta",
        "messages",
        "role",
        "spans",
        "state",
        "strict",
        "tokens",
    )

    def __init__(
        self,
        encoding: Encoding | None = None,
        role: Role | str | None = Role.ASSISTANT,
        strict: bool = False,
    ) -> None:
        self.encoding = encoding
        self.role = None if role is None else Role(role)
        self.strict = strict
        self._table: list[bytes] = []
        self._strs: list[str | None] = []
        self._n = 0  # ordinary tokens are 0 <= t < _n (0 until the encoding is loaded)
        self._tables = _NO_TABLES
        # the header being read (set again by each header)
        self._header: list[int] = []
        self._hstart = 0
        self._hrole: Role | None = None
        self._implicit = False
        self.reset()

    def reset(self) -> None:
        """Forget everything fed so far: ready for a new stream."""
        self.tokens: list[int] = []
        self.messages: list[Message] = []
        self.issues: list[ParseIssue] = []
        self.spans: list[tuple[int, int]] = []
        self.issue_spans: list[tuple[int, int]] = []
        self.last_delta: str | None = None
        self._index = self._mstart = self._cstart = 0
        self._prefix = self._pending = b""
        self._strays = False
        self._name: str | None = None
        self._cache: dict[int, ContentDelta] = {}
        self._clear()
        if self.role is not None:
            self._begin(0, [], self.role, implicit=False)

    def _clear(self) -> None:
        self.state: ParserState = EXPECT_START
        self._fast = _NO_FAST
        self.current_role: Role | None = None
        self.current_channel: str | None = None
        self.current_recipient: str | None = None
        self.current_content_type: str | None = None

    def _load(self) -> None:
        if self.encoding is None:
            from harmony_agent.format._encoding import load_encoding

            self.encoding = load_encoding()
        self._table = self.encoding.token_byte_table
        self._tables = _Tables.of(self.encoding)
        self._strs = self._tables.strings
        self._n = min(len(self._table), T.FIRST_SPECIAL)

    @property
    def current_text(self) -> str:
        """Decoded text of the message being read (complete characters only)."""
        if self.state is not CONTENT:
            return ""
        return _utf8_decode(self._content(len(self.tokens)), "replace", False)[0]

    # -- feeding ----------------------------------------------------------------------
    def feed(self, tokens: int | Iterable[int]) -> list[Event]:
        """Parse one token or several; returns the events they produce, in order."""
        if type(tokens) is int:
            t = tokens
            self.tokens.append(t)
            # The hot path: a token of text inside a message, at a character boundary.
            # Deltas are immutable, so one per distinct token and message is enough.
            fast = self._fast
            delta = fast.get(t)
            if delta is None and fast is not _NO_FAST and 0 <= t < self._n:
                text = self._strs[t]
                if text is not None:
                    delta = fast[t] = _delta(
                        self._index, self.current_channel, self.current_recipient, text
                    )
            if delta is not None:
                self.last_delta = delta.text
                return [delta]
            if self.state is HEADER and 0 <= t < self._n and len(self._header) < _MAX_HEADER:
                self._header.append(t)  # headers are parsed at <|message|>
                self.last_delta = None
                return []
            return self._slow(t)
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
        """Parse one token without building events (messages still arrive in
        ``messages``): for callers that poll ``last_delta`` and the ``current_*`` state,
        such as an openai-harmony compatible ``StreamableParser``."""
        self.tokens.append(token)
        if 0 <= token < self._n:
            if self._fast is not _NO_FAST:
                text = self._strs[token]
                if text is not None:
                    self.last_delta = text
                    return
            elif self.state is HEADER and len(self._header) < _MAX_HEADER:
                self._header.append(token)
                self.last_delta = None
                return
        self._slow(token)

    def _slow(self, t: int) -> list[Event]:
        if not self._n:
            self._load()
        out: list[Event] = []
        self._step(t, len(self.tokens) - 1, out)
        self._last_delta(out)
        return out

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

    def _last_delta(self, out: list[Event]) -> None:
        for event in reversed(out):
            if type(event) is ContentDelta:
                self.last_delta = event.text
                return
        self.last_delta = None

    # -- the state machine ------------------------------------------------------------
    def _step(self, t: int, pos: int, out: list[Event]) -> None:
        """Handle token ``t`` at stream position ``pos``."""
        state = self.state
        if state is CONTENT:
            if 0 <= t < self._n:
                self._text(self._table[t], out)
            elif t in _STOPS:
                self._close(out, _STOPS[t], pos + 1, pos)
            elif t == T.START or t == T.CHANNEL:  # the message lost its end token
                name = T.special_name(t)
                self._issue(out, f"message {self._index} has no end token before {name}", pos)
                self._close(out, "incomplete", pos, pos)
                self._begin(pos, [t], None if t == T.START else Role.ASSISTANT, implicit=False)
            else:
                self._strays = True
                detail = f"unexpected special token {T.special_name(t)} in message text"
                self._issue(out, detail, pos, pos + 1)
        elif state is HEADER:
            if t == T.MESSAGE:
                self._open(out, pos)
            elif t in _STOPS:
                if self._header:
                    self._recover(out, _STOPS[t], pos + 1)
                else:  # a stray end token where a header should begin: wait on
                    name = T.special_name(t)
                    self._issue(out, f"unexpected {name} before a message header", pos, pos + 1)
            elif t == T.START:
                if self._header:
                    self._recover(out, "incomplete", pos)
                self._begin(pos, [t], None, implicit=False)
            else:
                self._header.append(t)
                if len(self._header) > _MAX_HEADER:
                    self._recover(out, None, pos + 1)
        elif t == T.START:
            self._begin(pos, [t], None, implicit=False)
        elif 0 <= t < self._n or t == T.CHANNEL or t == T.MESSAGE:
            if self.strict:
                raise ParseError(
                    f"Unexpected token {t} while expecting start token {T.START}{self._hint()}",
                    position=pos,
                )
            self._begin(pos, [], Role.ASSISTANT, implicit=True)
            self._step(t, pos, out)
        else:
            name = T.special_name(t)
            detail = f"Unexpected token {t} ({name}) while expecting start token {T.START}"
            self._issue(out, detail, pos, pos + 1)

    def _hint(self) -> str:
        """Why a stream that starts without ``<|start|>`` fails when no role was given."""
        if self.role is not None or self.messages or self._index:
            return ""
        return (
            " (the tokens do not begin with <|start|>: model output that follows a prompt "
            "ending in <|start|>assistant needs role=ha.Role.ASSISTANT, e.g. "
            "parse_messages_from_completion_tokens(tokens, role=ha.Role.ASSISTANT); "
            "ha.StreamParser starts in that role by default)"
        )

    def _issue(self, out: list[Event], detail: str, start: int, stop: int | None = None) -> None:
        if self.strict:
            raise ParseError(detail, position=start)
        stop = start if stop is None else stop
        issue = ParseIssue(len(self.messages), detail, tuple(self.tokens[start:stop]))
        self.issues.append(issue)
        self.issue_spans.append((start, stop))
        out.append(issue)

    def _begin(self, pos: int, header: list[int], role: Role | None, *, implicit: bool) -> None:
        """A header starts at ``pos``; ``role`` is its author unless it names one."""
        self.state = HEADER
        self._header = header
        self._hstart = pos
        self._hrole = role
        self._implicit = implicit
        self.current_role = role

    def _open(self, out: list[Event], pos: int) -> None:
        """``<|message|>`` at ``pos``: parse the header, start the message."""
        key = (self._hrole, *self._header)
        header = self._tables.headers.get(key)
        if header is None:  # header objects are never changed once parsed
            if len(self._tables.headers) > 4096:
                self._tables.headers.clear()
            header = parse_header(self._header, self._table, self._hrole)
            self._tables.headers[key] = header
        start = self._lead(out, header)
        if self._implicit:
            self._issue(out, "missing <|start|> before a message header", start)
        self._start(out, header, pos + 1, mstart=start)

    def _lead(self, out: list[Event], header: Header) -> int:
        """Text that preceded the header proper becomes a message without a header;
        returns where the header proper begins."""
        if not header.lead:
            return self._hstart
        start, end = self._hstart, self._hstart + header.lead
        lead = self._header[: header.lead]
        detail = (
            f"unexpected tokens remaining in message header: {show(lead, self._table)!r} "
            "(text before <|channel|>: kept as a message of its own)"
        )
        self._issue(out, detail, start)
        n, table = self._n, self._table
        text = b"".join(table[t] for t in lead if 0 <= t < n)
        self._start(out, Header(Role.ASSISTANT), end, text)
        self._close(out, "incomplete", end, end)
        return end

    def _start(
        self,
        out: list[Event],
        header: Header,
        cstart: int,
        prefix: bytes = b"",
        *,
        mstart: int | None = None,
    ) -> None:
        """A message begins (at ``mstart``; its text at ``cstart``, after ``prefix``)."""
        for detail, a, b in header.issues:
            self._issue(out, detail, self._hstart + a, self._hstart + b)
        self.state = CONTENT
        self._index = len(self.messages)
        self._mstart = self._hstart if mstart is None else mstart
        self._cstart = cstart
        self._prefix = prefix
        self._pending = b""
        self._strays = False
        self._cache = self._fast = {}
        self._name = header.name
        self.current_role = header.role
        self.current_channel = header.channel
        self.current_recipient = header.recipient
        self.current_content_type = header.content_type
        out.append(
            MessageStart(
                self._index, header.role, header.channel, header.recipient, header.content_type
            )
        )
        if prefix:
            self._text(prefix, out)

    def _text(self, data: bytes, out: list[Event]) -> None:
        if self._pending:
            data = self._pending + data
        text, used = _utf8_decode(data, "replace", False)
        if used < len(data):
            self._pending, self._fast = data[used:], _NO_FAST
        else:
            self._pending, self._fast = b"", self._cache
        if text:
            out.append(_delta(self._index, self.current_channel, self.current_recipient, text))

    def _content(self, end: int) -> bytes:
        """Bytes of the current message's text up to stream position ``end``."""
        tokens = self.tokens[self._cstart : end]
        if self._strays:
            tokens = [t for t in tokens if 0 <= t < self._n]
        return self._prefix + b"".join(map(self._table.__getitem__, tokens))

    def _close(self, out: list[Event], stop: StopKind, end: int, text_end: int) -> None:
        """The message ends at ``end`` (its text at ``text_end``), as ``stop`` says."""
        if self._pending:  # a character cut short: U+FFFD, as a one-shot decode gives
            tail = self._pending.decode("utf-8", "replace")
            out.append(_delta(self._index, self.current_channel, self.current_recipient, tail))
        assert self.current_role is not None
        message = Message(
            role=self.current_role,
            name=self._name,
            content=self._content(text_end).decode("utf-8", "replace"),
            channel=self.current_channel,
            recipient=self.current_recipient,
            content_type=self.current_content_type,
        )
        self.messages.append(message)
        self.spans.append((self._mstart, end))
        out.append(MessageEnd(self._index, message, stop))
        self._pending = self._prefix = b""
        self._cache = {}
        self._clear()

    def _recover(
        self, out: list[Event], stop: StopKind | None, end: int, eos: bool = False
    ) -> None:
        """The header ended without ``<|message|>`` (at ``end``): a stop token (``stop``),
        ``<|start|>`` (``"incomplete"``), the end of the stream (``eos``), or it grew too
        long (``stop`` None: go on reading it as content)."""
        header = parse_header(self._header, self._table, self._hrole, recover=True)
        start = self._lead(out, header)
        text = show(self._header[start - self._hstart :], self._table)
        eos_note = ""  # openai-harmony's words where it fails the same way, for strict mode
        if eos and not self._implicit:
            eos_note = "Unexpected EOS while waiting for message header to complete; "
        if not header.content:
            detail = f"{eos_note}incomplete message header {text!r} (no <|message|> followed)"
            self._issue(out, detail, start, end)
            self._clear()
            return
        if self._implicit and header.channel is None:
            detail = f"{eos_note}text outside any message: {text!r} (kept as a message)"
        else:
            detail = (
                f"{eos_note}unexpected tokens remaining in message header: {text!r} "
                "(no <|message|> followed: the text after the header words is the content)"
            )
        self._issue(out, detail, start)
        if self._implicit and header.channel is not None:
            self._issue(out, "missing <|start|> before a message header", start)
        self._start(out, header, end, header.content, mstart=start)
        if stop is not None or eos:
            self._close(out, stop or "incomplete", end, end)


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
