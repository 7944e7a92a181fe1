"""Request validation for the fake servers: each field type-checked the way the engine's
own request model would, answered with a 400 naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harmony_agent.testing._fake_base import RequestError

__all__ = ["KINDS", "check"]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_ints(value: Any) -> bool:
    return isinstance(value, list) and all(_is_int(t) for t in value)


def _is_strs(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(t, str) for t in value)


KINDS: dict[str, Callable[[Any], bool]] = {
    "int": _is_int,
    "number": _is_number,
    "bool": lambda v: isinstance(v, bool),
    "str": lambda v: isinstance(v, str),
    "dict": lambda v: isinstance(v, dict),
    "ints": _is_ints,
    "strs": _is_strs,
}


def check(body: dict[str, Any], name: str, kind: str, *, required: bool = False) -> Any:
    """Type-check ``body[name]`` like a pydantic model would; None means absent."""
    value = body.get(name)
    if value is None:
        if required:
            raise RequestError(400, f"`{name}` is required", name)
        return None
    ok = KINDS[kind](value)
    if not ok:
        raise RequestError(400, f"`{name}` must be of type {kind}, got {value!r:.60}", name)
    return value
