"""Tiny things many tests share, defined once: harmony text as tokens, two tools."""

from __future__ import annotations

import harmony_agent as ha

__all__ = ["lookup", "ping", "tokens"]


def tokens(encoding: ha.Encoding, text: str) -> list[int]:
    """``text`` with its special tokens, as token ids."""
    return encoding.encode(text, allowed_special="all")


@ha.tool
def lookup(topic: str) -> str:
    """Look a topic up.

    Args:
        topic: what to look up.
    """
    return f"{topic}: 42"


@ha.tool
def ping() -> str:
    """Answer pong."""
    return "pong"
