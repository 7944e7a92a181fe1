"""Token ids and names of the o200k_harmony vocabulary's special tokens."""

from __future__ import annotations

from typing import Final

__all__ = [
    "ACTION_STOPS",
    "CALL",
    "CHANNEL",
    "CONSTRAIN",
    "END",
    "ENDOFTEXT",
    "FIRST_SPECIAL",
    "LAST_SPECIAL",
    "MESSAGE",
    "NAMED_SPECIALS",
    "N_ORDINARY",
    "RETURN",
    "START",
    "STARTOFTEXT",
    "is_special",
    "special_name",
    "special_tokens",
]


START: Final = 200006
END: Final = 200007
MESSAGE: Final = 200008
CHANNEL: Final = 200005
CONSTRAIN: Final = 200003
RETURN: Final = 200002
CALL: Final = 200012
STARTOFTEXT: Final = 199998
ENDOFTEXT: Final = 199999
#: The tokens that end sampling, the harmony action stops: ``<|return|>`` (an answer is
#: done) and ``<|call|>`` (a tool call waits for its answer). The one definition of the
#: default stop set: ``SamplingParams(stop_tokens=None)`` means these.
ACTION_STOPS: Final[tuple[int, int]] = (RETURN, CALL)
#: lowest and highest id of a special token
FIRST_SPECIAL: Final = 199998
LAST_SPECIAL: Final = 201087
#: ordinary (non-special) tokens are below this id
N_ORDINARY: Final = 199998

NAMED_SPECIALS: Final[dict[str, int]] = {
    "<|startoftext|>": STARTOFTEXT,
    "<|endoftext|>": ENDOFTEXT,
    "<|return|>": RETURN,
    "<|constrain|>": CONSTRAIN,
    "<|channel|>": CHANNEL,
    "<|start|>": START,
    "<|end|>": END,
    "<|message|>": MESSAGE,
    "<|call|>": CALL,
}


def special_tokens() -> dict[str, int]:
    """The 1,091 special-token names of o200k_harmony, exactly as tiktoken defines them."""
    table = {"<|endofprompt|>": 200018, "<|startoftext|>": STARTOFTEXT, "<|endoftext|>": ENDOFTEXT}
    table["<|reserved_200000|>"] = 200000
    table["<|reserved_200001|>"] = 200001
    table.update((name, tid) for name, tid in NAMED_SPECIALS.items() if tid >= 200002)
    for i in (200004, 200009, 200010, 200011, *range(200013, LAST_SPECIAL + 1)):
        table[f"<|reserved_{i}|>"] = i
    return table


def is_special(token: int) -> bool:
    """True for ids of special tokens (and ids beyond the vocabulary)."""
    return token >= FIRST_SPECIAL


def special_name(token: int) -> str:
    """The literal text of a special token id, e.g. ``200007`` -> ``"<|end|>"``."""
    for name, tid in NAMED_SPECIALS.items():
        if tid == token:
            return name
    if 200000 <= token <= LAST_SPECIAL:
        return f"<|reserved_{token}|>"
    return f"<|token_{token}|>"
