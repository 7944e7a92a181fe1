"""Parsing one harmony message header from its tokens (the part between ``<|start|>``
and ``<|message|>``), tolerantly.

The header is read from *tokens*, not from decoded text, so special tokens stay
structure: ``<|channel|>`` introduces the channel, ``<|constrain|>`` glues to the word
after it (``"<|constrain|>json"``), and any other special token is reported instead of
ending up inside a recipient the way openai-harmony's text-based parser lets it.
Words are split on ASCII whitespace, as openai-harmony does. Accepted forms::

    assistant to=functions.f<|channel|>commentary <|constrain|>json   (as rendered)
    assistant<|channel|>commentary to=functions.f <|constrain|>json   (as gpt-oss writes)
    assistant<|channel|>commentary to=functions.f<|constrain|>json    (no space)
    assistant to=functions.f<|channel|>analysis code                  (plain content type)
    functions.f to=assistant<|channel|>commentary                     (a tool's answer)

Every problem becomes an issue ``(detail, start, end)`` whose range indexes the header's
tokens, so the parser can report exactly which tokens it could not place.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from harmony_agent.format import _tokens as T
from harmony_agent.format._messages import Role

__all__ = ["Header", "parse_header", "show"]

_PLAIN, _CHANNEL, _CONSTRAIN = 0, 1, 2
_WORD = re.compile(rb"[^ \t\n\x0c\r]+")  # openai-harmony splits on ASCII whitespace
_ROLES = {r.value: r for r in Role}
#: words that can only be pieces of a broken header, never a message on their own
_HEADER_WORDS = frozenset(("assistant", "analysis", "commentary", "final"))

Issue = tuple[str, int, int]


@dataclass(slots=True)
class Header:
    """What a header says. ``content`` is set only when recovering a header that never
    reached ``<|message|>`` (the text that followed the header words); ``lead`` when
    plain text preceded an unwritten author's ``<|channel|>`` (``Let me check.<|channel|>``).
    """

    role: Role
    name: str | None = None
    channel: str | None = None
    recipient: str | None = None
    content_type: str | None = None
    issues: list[Issue] = field(default_factory=list)
    content: bytes = b""
    lead: int = 0  # header tokens [0, lead) are text that came before the header proper


@dataclass(slots=True)
class _Word:
    kind: int
    text: bytes  # the channel name / the word after <|constrain|> / the plain word
    start: int  # header-token range of the word (markers included)
    end: int
    seg: int  # segment it came from, and its byte offset there (for recovered content)
    at: int


@dataclass(slots=True)
class _Segment:
    data: bytes
    index: list[int]  # header-token index of every ordinary token of the segment
    offsets: list[int]  # byte offset where each of those tokens begins

    def span(self, b0: int, b1: int) -> tuple[int, int]:
        """Header-token range covering bytes ``b0:b1`` of the segment."""
        k0 = bisect_right(self.offsets, b0) - 1
        k1 = bisect_left(self.offsets, b1)
        return self.index[k0], self.index[k1 - 1] + 1


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def _split(
    tokens: list[int], first: int, table: list[bytes]
) -> tuple[list[_Word], list[_Segment], list[Issue]]:
    """Words and text segments of the header; special tokens other than channel and
    constrain markers become issues (and separate words)."""
    words: list[_Word] = []
    segments: list[_Segment] = []
    issues: list[Issue] = []
    n = len(table)
    i, end = first, len(tokens)
    marker, marker_at = _PLAIN, -1
    while True:
        data, index, offsets = bytearray(), [], []
        while i < end and 0 <= tokens[i] < n:
            index.append(i)
            offsets.append(len(data))
            data += table[tokens[i]]
            i += 1
        seg = _Segment(bytes(data), index, offsets)
        s = len(segments)
        segments.append(seg)
        matches = [(m.group(), m.start()) for m in _WORD.finditer(seg.data)]
        if marker != _PLAIN:  # the word right after the marker is its value
            value, at = matches.pop(0) if matches else (b"", -1)
            if marker == _CHANNEL and b"<" in value[1:]:  # "final<x": the channel ends at '<'
                cut = value.index(b"<", 1)
                matches.insert(0, (value[cut:], at + cut))
                value = value[:cut]
            stop = seg.span(at, at + len(value))[1] if value else marker_at + 1
            words.append(_Word(marker, value, marker_at, stop, s, -1))
        for value, at in matches:
            words.append(_Word(_PLAIN, value, *seg.span(at, at + len(value)), s, at))
        if i >= end:
            return words, segments, issues
        t = tokens[i]
        if t == T.CHANNEL or t == T.CONSTRAIN:
            marker, marker_at = (_CHANNEL if t == T.CHANNEL else _CONSTRAIN), i
        else:
            detail = f"unexpected special token {T.special_name(t)} in message header"
            issues.append((detail, i, i + 1))
            marker = _PLAIN
        i += 1


def _author(word: bytes) -> tuple[Role, str | None]:
    text = _text(word)
    role = _ROLES.get(text)
    if role is not None:
        return role, ("tool" if role is Role.TOOL else None)
    prefix, sep, name = text.partition(":")
    if sep and prefix in _ROLES and prefix != "tool" and name:
        return _ROLES[prefix], name  # "user:alice"
    return Role.TOOL, text  # a tool answering: "functions.get_weather", "browser.search"


def parse_header(
    tokens: list[int], table: list[bytes], role: Role | None, *, recover: bool = False
) -> Header:
    """Parse header ``tokens`` (a leading ``<|start|>`` means the author is written out).

    ``role`` is the author when the header does not name one (the stream began after
    ``<|start|>assistant``), or None to read it from the first word. With ``recover``
    the header never reached ``<|message|>``: words after the header words are
    returned as ``content`` instead of being reported.
    """
    first = 1 if tokens and tokens[0] == T.START else 0
    if first:
        role = None
    words, segments, issues = _split(tokens, first, table)
    header = Header(role=role or Role.ASSISTANT, issues=issues)
    original = words[:1]

    channels = [k for k, w in enumerate(words) if w.kind == _CHANNEL]
    if len(channels) > 1:  # "<|channel|>commentary to=assistant<|channel|>final": keep the last
        a, b = words[channels[0]].start, words[channels[-1]].start
        text = show(tokens[a:b], table)
        issues.append((f"abandoned header fragment {text!r} (another <|channel|> followed)", a, b))
        words = words[: channels[0]] + words[channels[-1] :]

    if role is None:
        if words and words[0].kind == _PLAIN and not words[0].text.startswith(b"to="):
            header.role, header.name = _author(words.pop(0).text)
        else:
            issues.append(("message header did not contain a role (assuming assistant)", 0, 0))
    elif words and words[0].kind == _PLAIN and words[0].text == role.value.encode():
        words.pop(0)

    split = next((k for k, w in enumerate(words) if w.kind == _CHANNEL), len(words))
    before, after = words[:split], words[split:]
    recipients: list[_Word] = []
    constrained: list[_Word] = []
    bare: list[_Word] = []
    content_at: _Word | None = None

    for w in before:
        if w.kind == _PLAIN and not w.text.startswith(b"to="):
            if after:  # words between the author and <|channel|> that are not a recipient
                a, b = w.start, after[0].start
                text = show(tokens[a:b], table, 10**9).strip()
                if role is not None and not set(text.split()) <= _HEADER_WORDS:
                    # No author was written: this is text that lost its own header.
                    header.lead = b
                    recipients.clear()
                    constrained.clear()
                    bare.clear()
                else:
                    detail = f"unexpected tokens remaining in message header: {text!r}"
                    issues.append((detail, a, b))
                break
            if recover:
                content_at = w
                break
        _sort(w, recipients, constrained, bare)
    if after and content_at is None:
        channel = after.pop(0)
        if channel.text:
            header.channel = _text(channel.text)
        else:
            issues.append(
                (
                    "channel marker present but no channel value found in header",
                    channel.start,
                    channel.end,
                )
            )
        for w in after:
            if recover and w.kind == _PLAIN and not w.text.startswith(b"to="):
                content_at = w
                break
            _sort(w, recipients, constrained, bare)

    _assign(header, recipients, constrained, bare)

    if content_at is not None:
        seg = segments[content_at.seg]
        # Text that never had a header at all is kept exactly, leading spaces included.
        at = 0 if content_at is original[0] else content_at.at
        rest = [seg.data[at:]]
        for later in segments[content_at.seg + 1 :]:
            rest.append(later.data)
        for w in words:
            if w.kind != _PLAIN and w.start > content_at.start:
                detail = "unexpected special token in text that never reached <|message|>"
                issues.append((detail, w.start, w.start + 1))
        content = b"".join(rest)
        if not set(_text(content).split()) <= _HEADER_WORDS:
            header.content = content
    return header


def _assign(
    header: Header, recipients: list[_Word], constrained: list[_Word], bare: list[_Word]
) -> None:
    """Recipient and content type from the header's words; the rest are issues."""
    issues = header.issues
    for w in recipients[1:]:
        issues.append(_extra(w, "another recipient"))
    if recipients:
        value = _text(recipients[0].text[3:])
        if value:
            header.recipient = value
        else:
            issues.append(("empty recipient 'to=' in message header", *_range(recipients[0])))
    for w in constrained:
        if not w.text:
            issues.append(("<|constrain|> without a content type", w.start, w.end))
        elif header.content_type is None:
            header.content_type = "<|constrain|>" + _text(w.text)
        else:
            issues.append(_extra(w, "another content type"))
    if header.content_type is None and bare:
        if len(bare) == 2 and header.recipient is None:  # "to=" omitted: openai-harmony's rule
            header.recipient = _text(bare.pop(0).text)
        header.content_type = _text(bare.pop().text)
    for w in bare:
        issues.append(_extra(w, None))


def _sort(w: _Word, recipients: list[_Word], constrained: list[_Word], bare: list[_Word]) -> None:
    if w.kind == _CONSTRAIN:
        constrained.append(w)
    elif w.text.startswith(b"to="):
        recipients.append(w)
    else:
        bare.append(w)


def _range(w: _Word) -> tuple[int, int]:
    return w.start, w.end


def _extra(w: _Word, what: str | None) -> Issue:
    word = _text(w.text)
    if w.kind == _CONSTRAIN:
        word = "<|constrain|>" + word
    note = f" ({what})" if what else ""
    return f"unexpected tokens remaining in message header: {word!r}{note}", w.start, w.end


def show(tokens: list[int], table: list[bytes], limit: int = 80) -> str:
    """Tokens as text for messages (special tokens by name), shortened to ``limit``."""
    n = len(table)
    data = b"".join(table[t] if 0 <= t < n else T.special_name(t).encode() for t in tokens)
    text = _text(data)
    return text if len(text) <= limit else text[: limit - 3] + "..."
