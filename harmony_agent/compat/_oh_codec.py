"""Token tables, encode/decode and the shared codec state of the openai-harmony compat layer.

openai-harmony's tokenizer knows 1,091 special tokens: ``<|startoftext|>`` (199998),
``<|endoftext|>`` (199999), the formatting tokens, and ``<|reserved_N|>`` for every other
id up to 201088 (200018 included). Anything above that fails to decode. The tables here
follow that exactly; the BPE work itself is harmony_agent's codec.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Iterable
from functools import lru_cache
from typing import Literal

from harmony_agent.errors import HarmonyAgentError, VocabError
from harmony_agent.format import _tokens as T
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._render import Renderer

__all__ = [
    "SPECIAL_IDS",
    "SPECIAL_NAMES",
    "Core",
    "HarmonyError",
    "check_u32",
    "core",
    "raise_disallowed",
]

#: highest token id openai-harmony's tokenizer can decode
LAST_TOKEN = 201088
_U32_MAX = 0xFFFFFFFF


class HarmonyError(HarmonyAgentError, RuntimeError):
    """An error from the harmony codec (openai-harmony's ``HarmonyError``).

    A ``RuntimeError``, as upstream's is, and also a ``harmony_agent.HarmonyAgentError``.
    """


def _special_names() -> dict[int, str]:
    named = {tid: name for name, tid in T.NAMED_SPECIALS.items()}
    out = {T.STARTOFTEXT: "<|startoftext|>", T.ENDOFTEXT: "<|endoftext|>"}
    for tid in range(200000, LAST_TOKEN + 1):
        out[tid] = named.get(tid, f"<|reserved_{tid}|>")
    return out


SPECIAL_IDS: dict[str, int] = {name: tid for tid, name in _special_names().items()}
SPECIAL_NAMES: frozenset[str] = frozenset(SPECIAL_IDS)


def check_u32(tokens: list[int]) -> None:
    """Raise ``OverflowError`` as openai-harmony's bindings do for ids outside ``u32``."""
    if tokens and (min(tokens) < 0 or max(tokens) > _U32_MAX):
        raise OverflowError("out of range integral type conversion attempted")


def rust_utf8_error(err: UnicodeDecodeError) -> str:
    """Describe a UTF-8 error in the words of Rust's ``Utf8Error``."""
    if err.reason == "unexpected end of data":
        return f"incomplete utf-8 byte sequence from index {err.start}"
    return f"invalid utf-8 sequence of {err.end - err.start} bytes from index {err.start}"


class Core:
    """What every compat encoding shares: the codec, byte table, renderer and caches."""

    def __init__(self, encoding: Encoding) -> None:
        self.encoding = encoding
        names = _special_names()
        #: bytes of every decodable id, indexed by id
        self.table: list[bytes] = list(encoding.token_byte_table)
        self.table += [names[tid].encode() for tid in range(len(self.table), LAST_TOKEN + 1)]
        self.headers: dict[tuple[object, ...], tuple[int, ...]] = {}
        self.bodies: dict[tuple[object, ...], tuple[int, ...]] = {}
        self._encode_ordinary = encoding.encode_ordinary

    @property
    def renderer(self) -> Renderer:
        """harmony_agent's cached renderer of this encoding."""
        return self.encoding.renderer

    def encode_ordinary(self, text: str) -> list[int]:
        """Text as ordinary tokens (special-token text stays text)."""
        return self._encode_ordinary(text)

    def fast_encoder(self) -> None:
        """Bind tiktoken's encoder directly (builds the BPE tables on first call)."""
        fast = self.encoding.tiktoken.encode_ordinary
        if self._encode_ordinary is not fast:
            self._encode_ordinary = fast

    # -- decoding ------------------------------------------------------------------------
    def decode_bytes(self, tokens: Iterable[int]) -> bytes:
        """Bytes of ``tokens``; ``HarmonyError`` names the first id that has none."""
        tokens = list(tokens)
        check_u32(tokens)
        try:
            return b"".join(map(self.table.__getitem__, tokens))
        except IndexError:
            bad = next(t for t in tokens if t > LAST_TOKEN)
            raise HarmonyError(f"Invalid token for decoding: {bad}") from None

    def decode_utf8(self, tokens: Iterable[int]) -> str:
        """Text of ``tokens``, raising ``HarmonyError`` on bad ids or invalid UTF-8."""
        try:
            data = self.decode_bytes(tokens)
        except HarmonyError as e:
            raise HarmonyError(f"Could not decode tokens: Invalid token error: {e}") from None
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise HarmonyError(
                f"Could not decode tokens: Invalid utf-8 sequence: {rust_utf8_error(e)}"
            ) from None

    # -- encoding ------------------------------------------------------------------------
    def encode(
        self,
        text: str,
        allowed_special: Literal["all"] | Collection[str],
        disallowed_special: Literal["all"] | Collection[str],
    ) -> list[int]:
        """openai-harmony's ``encode``: refuse disallowed special-token text, then encode."""
        every = allowed_special == "all"
        allowed = SPECIAL_NAMES if every else frozenset(allowed_special)
        if disallowed_special == "all":
            disallowed = (
                frozenset() if every else (SPECIAL_NAMES - allowed if allowed else SPECIAL_NAMES)
            )
            only_specials = True
        else:
            disallowed = frozenset(disallowed_special)
            only_specials = disallowed <= SPECIAL_NAMES
        if disallowed:
            if only_specials:
                found = _first_special(text, disallowed)
            else:  # arbitrary strings: upstream matches them too
                match = _alternation(disallowed).search(text)
                found = match.group() if match else None
            if found is not None:
                raise_disallowed(found)
        usable = allowed if every else allowed & SPECIAL_NAMES
        if not usable or "<|" not in text:
            return self.encode_ordinary(text)
        out: list[int] = []
        pos = 0
        for match in _SPECIAL_LIKE.finditer(text):
            name = match.group()
            if name in usable:
                if match.start() > pos:
                    out += self.encode_ordinary(text[pos : match.start()])
                out.append(SPECIAL_IDS[name])
                pos = match.end()
        if pos < len(text):
            out += self.encode_ordinary(text[pos:])
        return out


#: anything shaped like a special token. No special token's text can begin inside such a
#: match (none contains ``<`` or ``|`` past its first two characters), so scanning these
#: matches finds the same special tokens as one big alternation of their names would.
_SPECIAL_LIKE = re.compile(r"<\|[a-z0-9_]+\|>")


def _first_special(text: str, names: frozenset[str]) -> str | None:
    if "<|" not in text:
        return None
    for match in _SPECIAL_LIKE.finditer(text):
        if match.group() in names:
            return match.group()
    return None


@lru_cache(maxsize=64)
def _alternation(names: frozenset[str]) -> re.Pattern[str]:
    # Longest first, so that a name that is a prefix of another never shadows it.
    ordered = sorted(names, key=lambda n: (-len(n), n))
    return re.compile("|".join(re.escape(n) for n in ordered))


def raise_disallowed(token: str) -> None:
    raise HarmonyError(
        f"Encountered text corresponding to disallowed special token {token!r}.\n"
        f"To encode it as the special token, include it in `allowed_special` "
        f"(e.g. `allowed_special={{{token!r}}}`). To encode it as plain text, leave it out "
        f"of `disallowed_special` (e.g. `disallowed_special=enc.special_tokens_set - "
        f"{{{token!r}}}`), or pass `disallowed_special=()` to encode all such text as "
        "plain text.\n"
    )


_CORE: Core | None = None
_LOCK = threading.Lock()


def core() -> Core:
    """The process-wide compat codec state (loads the vocabulary offline on first use)."""
    global _CORE
    c = _CORE
    if c is None:
        with _LOCK:
            c = _CORE
            if c is None:
                try:
                    encoding = load_encoding()
                except VocabError as e:
                    raise HarmonyError(str(e)) from e
                c = _CORE = Core(encoding)
    return c
