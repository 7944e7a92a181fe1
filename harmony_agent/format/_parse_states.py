"""The streaming parser's state machine: what each token does in each state.

:class:`Machine` holds the parser's state and its transitions; :class:`StreamParser`
(in :mod:`._parser`) adds the ways tokens come in (one by one, in chunks, with the fast
paths) on top. The rules it follows, lenient and strict, are in :mod:`._parser`'s
docstring.
"""

from __future__ import annotations

import codecs
from enum import Enum
from typing import TYPE_CHECKING, Final

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
from harmony_agent.format._parse_tables import MAX_CACHED_HEADERS, NO_FAST, NO_TABLES, delta

if TYPE_CHECKING:
    from harmony_agent.format._encoding import Encoding

__all__ = ["CONTENT", "EXPECT_START", "HEADER", "MAX_HEADER", "Machine", "ParserState"]


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
#: After this many header tokens without ``<|message|>`` the rest is read as content.
MAX_HEADER: Final = 64
_STOPS: Final[dict[int, StopKind]] = {T.END: "end", T.CALL: "call", T.RETURN: "return"}
_utf8_decode = codecs.utf_8_decode


class Machine:
    """The parser's state and transitions; every slot is set in ``__init__``."""

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

    def __init__(self, encoding: Encoding | None, role: Role | None, strict: bool) -> None:
        self.encoding = encoding
        self.role = role
        self.strict = strict
        self._table: list[bytes] = []
        self._strs: list[str | None] = []
        self._n = 0  # ordinary tokens are 0 <= t < _n (0 until the encoding is loaded)
        self._tables = NO_TABLES
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
        self._fast = NO_FAST
        self.current_role: Role | None = None
        self.current_channel: str | None = None
        self.current_recipient: str | None = None
        self.current_content_type: str | None = None

    def _last_delta(self, out: list[Event]) -> None:
        for event in reversed(out):
            if type(event) is ContentDelta:
                self.last_delta = event.text
                return
        self.last_delta = None

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
                if len(self._header) > MAX_HEADER:
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
            if len(self._tables.headers) > MAX_CACHED_HEADERS:
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
            self._pending, self._fast = data[used:], NO_FAST
        else:
            self._pending, self._fast = b"", self._cache
        if text:
            out.append(delta(self._index, self.current_channel, self.current_recipient, text))

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
            out.append(delta(self._index, self.current_channel, self.current_recipient, tail))
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
