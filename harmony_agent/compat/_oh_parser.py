"""openai-harmony 0.0.8's completion parser, reproduced exactly (errors included).

harmony_agent's own ``StreamParser`` is lenient by design; code written against
openai-harmony expects upstream's rules instead, which are:

* a header is the text between ``<|start|>`` (or the stream start, when a role is given)
  and ``<|message|>``; its ``<|channel|>`` value ends at whitespace or ``<``; the rest is
  split on ASCII whitespace into [role] [recipient] [content type], where a last word
  starting with ``to=`` is a recipient and an unknown first word means a tool's name;
  any word left over is an error ("unexpected tokens remaining in message header");
* strict mode (the default) accumulates ``<|end|>``/``<|call|>``/``<|return|>`` into an
  unfinished header, which then fails; lenient mode turns a header cut short by a stop
  token into a message whose text is the header's leftover words;
* a token other than ``<|start|>`` between messages is an error in both modes, and so is
  the end of input inside a header;
* content is decoded incrementally; an invalid UTF-8 sequence becomes U+FFFD.

``parse_tokens`` is the fast path used by ``parse_messages_from_completion_tokens``: it
jumps from one structural token to the next instead of stepping token by token, and gives
the same messages and errors as ``Machine`` fed one token at a time.
"""

from __future__ import annotations

import re
from enum import Enum
from typing import NamedTuple

from harmony_agent.compat._oh_codec import Core, HarmonyError
from harmony_agent.compat._oh_models import Role
from harmony_agent.format import _tokens as T

__all__ = ["Header", "Machine", "Parsed", "StreamState", "parse_tokens"]

_START, _MESSAGE = T.START, T.MESSAGE
_STOPS = frozenset({T.END, T.RETURN, T.CALL})
_REPLACEMENT = "\ufffd"
#: Unicode White_Space (what Rust's ``char::is_whitespace`` and ``str::trim`` use)
_WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007"
    "\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
#: a word between ASCII whitespace (Rust's ``split_ascii_whitespace``; no vertical tab)
_WORD = re.compile(r"[^ \t\n\x0c\r]+")
_CHANNEL_END = re.compile("[" + re.escape(_WHITE_SPACE) + "<]")
_ROLES = {r.value: r for r in Role}


class StreamState(Enum):
    """Where a ``StreamableParser`` is: between messages, in a header, or in content."""

    EXPECT_START = "ExpectStart"
    HEADER = "Header"
    CONTENT = "Content"


class Header(NamedTuple):
    """A parsed message header."""

    role: Role
    name: str | None
    recipient: str | None
    channel: str | None
    content_type: str | None


class Parsed(NamedTuple):
    """A finished message: its header and its text."""

    header: Header
    text: str


# -- header text ------------------------------------------------------------------------------
def _rust_debug(text: str) -> str:
    """``text`` quoted the way Rust's ``{:?}`` writes a string."""
    out = ['"']
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\0":
            out.append("\\0")
        elif not ch.isprintable():
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def parse_header_text(
    text: str, role: Role | None, with_recipient: bool
) -> tuple[Header, str | None]:
    """Split a decoded header into its fields; also returns the words left over."""
    channel = None
    at = text.find("<|channel|>")
    if at >= 0:
        after = text[at + len("<|channel|>") :]
        end = _CHANNEL_END.search(after)
        stop = end.start() if end else len(after)
        if stop == 0:
            raise HarmonyError("channel marker present but no channel value found in header")
        channel = after[:stop]
        text = text[:at] + after[stop:]
    text = text.strip(_WHITE_SPACE)
    if "<|constrain|>" in text:
        text = text.replace("<|constrain|>", " <|constrain|>").strip(_WHITE_SPACE)
    words = _WORD.findall(text)

    name = None
    if role is None:
        if not words:
            raise HarmonyError("message header did not contain a role")
        first = words[0]
        found = _ROLES.get(first)
        if found is None:
            if len(words) == 1 and not first.startswith("to="):
                raise HarmonyError(f"Unknown role: {first}")
            del words[0]
            found = Role.TOOL
        role = found
        if role is Role.TOOL:
            name = first
    if words and words[0] == role.value:
        del words[0]

    recipient = content_type = None
    if with_recipient and words:
        count = len(words)
        last = words.pop()
        if last.startswith("to="):
            recipient = last[3:]
        elif count == 1:
            recipient = last
        else:
            content_type = last
            if words:
                word = words.pop()
                recipient = word[3:] if word.startswith("to=") else word
    rest = " ".join(words) if words else None
    return Header(role, name, recipient, channel, content_type), rest


def parse_header_tokens(core: Core, tokens: list[int], role: Role | None) -> Header:
    """The header of a message whose ``<|message|>`` token was reached."""
    try:
        text = core.decode_utf8(tokens)
    except HarmonyError:
        raise HarmonyError("could not decode header") from None
    header, rest = parse_header_text(text, role, True)
    if rest is not None:
        raise HarmonyError(
            f"unexpected tokens remaining in message header: Some({_rust_debug(rest)})"
        )
    return header


def recover_header(core: Core, tokens: list[int], role: Role) -> Parsed:
    """Lenient mode: a header ended by a stop token becomes a message of its leftover words."""
    header, rest = parse_header_text(core.decode_utf8(tokens), role, False)
    return Parsed(header, rest or "")


# -- content decoding ---------------------------------------------------------------------
class _Content:
    """Incremental UTF-8 decoding of message content, upstream's way.

    Each step emits the longest valid prefix; the first invalid sequence becomes one
    U+FFFD, and bytes after it wait for the next token. An undecodable id stalls decoding
    for the rest of the message (its remainder then reads as one U+FFFD).
    """

    __slots__ = ("delta", "pending", "pieces", "stalled")

    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.pending = bytearray()
        self.stalled = False  # an undecodable id was seen
        self.delta: str | None = None

    def feed(self, table: list[bytes], token: int) -> None:
        if self.stalled or token >= len(table):
            self.stalled = True
            self.delta = None
            return
        pending = self.pending
        pending += table[token]
        try:
            text = pending.decode("utf-8")
        except UnicodeDecodeError as err:
            delta = ""
            if err.start:
                delta = pending[: err.start].decode("utf-8")
                self.pieces.append(delta)
                del pending[: err.start]
            if err.reason == "unexpected end of data":
                self.delta = None
            else:
                self.pieces.append(_REPLACEMENT)
                delta += _REPLACEMENT
                del pending[: err.end - err.start]
            if delta:
                self.delta = delta
            return
        self.pieces.append(text)
        self.delta = text
        pending.clear()

    def text(self) -> str:
        return "".join(self.pieces)

    def finish(self) -> str:
        tail = _REPLACEMENT if self.stalled else ""
        return self.text() + tail + self.pending.decode("utf-8", "replace")


def content_text(core: Core, tokens: list[int]) -> str:
    """The text of a whole message body (same result as feeding ``_Content`` token by token)."""
    if not tokens:
        return ""
    try:
        return b"".join(map(core.table.__getitem__, tokens)).decode("utf-8")
    except (IndexError, UnicodeDecodeError):
        pass
    decoder = _Content()
    for t in tokens:
        decoder.feed(core.table, t)
    return decoder.finish()


# -- the streaming state machine ----------------------------------------------------------
_EXPECT, _HEADER, _CONTENT = StreamState.EXPECT_START, StreamState.HEADER, StreamState.CONTENT


class Machine:
    """The per-token parser behind ``StreamableParser``."""

    def __init__(self, core: Core, role: Role | None, strict: bool) -> None:
        self.core = core
        self.strict = strict
        self.state = _HEADER if role is not None else _EXPECT
        self.next_role = role
        self.tokens: list[int] = []
        self.messages: list[Parsed] = []
        self.header_tokens: list[int] = []
        self.header: Header | None = None
        self.content = _Content()
        self.last_delta: str | None = None

    def step(self, token: int | None) -> None:
        """Consume one token (``None`` = end of stream); raises ``HarmonyError`` like upstream."""
        if token is not None:
            self.tokens.append(token)
        state = self.state
        if state is _EXPECT:
            if token is None:
                return
            if token != _START:
                raise HarmonyError(f"Unexpected token {token} while expecting start token {_START}")
            self.state = _HEADER
            self.header_tokens = []
        elif state is _HEADER:
            self._header_step(token)
        elif token is None or token in _STOPS:
            assert self.header is not None
            self.messages.append(Parsed(self.header, self.content.finish()))
            self.state = _EXPECT
            self.header = None
            self.content = _Content()
            self.last_delta = None
        else:
            content = self.content
            content.feed(self.core.table, token)
            self.last_delta = content.delta

    def _header_step(self, token: int | None) -> None:
        if token == _MESSAGE:
            tokens = self.header_tokens
            self.state = _EXPECT
            self.header_tokens = []
            self.header = parse_header_tokens(self.core, tokens, self.next_role)
            self.next_role = None
            self.state = _CONTENT
            self.content = _Content()
        elif token is None:
            raise HarmonyError("Unexpected EOS while waiting for message header to complete")
        elif not self.strict and token in _STOPS:
            if self.next_role is not None and self.header_tokens:
                self.messages.append(recover_header(self.core, self.header_tokens, self.next_role))
            self.state = _EXPECT
            self.header_tokens = []
            self.next_role = None
        else:
            self.header_tokens.append(token)

    def content_tokens(self) -> list[int]:
        """The current content as upstream stores it: each decoded piece re-encoded."""
        out: list[int] = []
        for piece in self.content.pieces:
            out += self.core.encode_ordinary(piece)
        return out


# -- the batch fast path ------------------------------------------------------------------
class _Next:
    """Position of the next occurrence of a token id, each search resuming where it ended."""

    __slots__ = ("found", "n", "tokens")

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = tokens
        self.n = len(tokens)
        self.found: dict[int, int] = {}

    def __call__(self, token: int, start: int) -> int:
        at = self.found.get(token, -1)
        if at < start:
            try:
                at = self.tokens.index(token, start)
            except ValueError:
                at = self.n
            self.found[token] = at
        return at

    def stop(self, start: int) -> int:
        return min(self(T.END, start), self(T.RETURN, start), self(T.CALL, start))


def parse_tokens(core: Core, tokens: list[int], role: Role | None, strict: bool) -> list[Parsed]:
    """Parse a whole completion (with the end of input as EOS), as upstream does."""
    out: list[Parsed] = []
    nxt = _Next(tokens)
    n = len(tokens)
    i = 0
    state = _HEADER if role is not None else _EXPECT
    while i < n:
        if state is _EXPECT:
            if tokens[i] != _START:
                raise HarmonyError(
                    f"Unexpected token {tokens[i]} while expecting start token {_START}"
                )
            i += 1
            state = _HEADER
        elif state is _HEADER:
            message = nxt(_MESSAGE, i)
            stop = n if strict else nxt.stop(i)
            if stop < message:
                if role is not None and stop > i:
                    out.append(recover_header(core, tokens[i:stop], role))
                role = None
                state = _EXPECT
                i = stop + 1
            elif message < n:
                header = parse_header_tokens(core, tokens[i:message], role)
                role = None
                body_end = nxt.stop(message + 1)
                out.append(Parsed(header, content_text(core, tokens[message + 1 : body_end])))
                state = _EXPECT
                i = body_end + 1
            else:
                break
    if state is _HEADER:
        raise HarmonyError("Unexpected EOS while waiting for message header to complete")
    return out
