"""JSON helpers shared by both TypeScript flavors (Rust/serde_json formatting rules)."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__: list[str] = []  # helpers of the schema renderers, imported by name


def _rust_lines(text: str) -> list[str]:
    """Rust's ``str::lines``: split on ``\\n``, drop a ``\\r`` before it, no final empty line."""
    pieces = text.split("\n")
    last = pieces.pop()
    out = [p[:-1] if p.endswith("\r") else p for p in pieces]
    if last:
        out.append(last)
    return out


_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")


def _comment_lines(text: str) -> list[str]:
    """Split at every JavaScript line terminator, so each piece fits in one ``//`` comment."""
    pieces = _LINE_BREAK.split(text)
    if len(pieces) > 1 and pieces[-1] == "":
        pieces.pop()
    return [] if pieces == [""] else pieces


def _format_f64(x: float) -> str:
    """Format a float the way serde_json prints an ``f64`` (shortest digits, ryu layout)."""
    if not math.isfinite(x):
        return "null"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    raw = (whole + frac).lstrip("0")
    digits = raw.rstrip("0")
    k = (int(exp) if exp else 0) - len(frac) + len(raw) - len(digits)
    n = len(digits)
    kk = n + k  # 10**(kk-1) <= |x| < 10**kk
    if k >= 0 and kk <= 16:
        body = digits + "0" * k + ".0"
    elif 0 < kk <= 16:
        body = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        body = "0." + "0" * -kk + digits
    elif n == 1:
        body = f"{digits}e{kk - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + body


_U64_MAX = 2**64 - 1


def _serde_f64(text: str) -> float:
    """The ``f64`` that serde_json 1.0.140 (no ``float_roundtrip``) reads from a JSON number.

    Its reader keeps at most a u64 of significant digits and scales by one power of ten, so
    17-digit decimals and big exponents can land one ulp away from Python's value.
    """
    positive = not text.startswith("-")
    digits = text.lstrip("-")
    significand = exponent = 0
    i, n = 0, len(digits)
    while i < n and digits[i].isdigit():
        digit = int(digits[i])
        i += 1
        if significand * 10 + digit > _U64_MAX:
            exponent += 1  # serde drops integer digits beyond a u64, keeping their scale
            while i < n and digits[i].isdigit():
                exponent += 1
                i += 1
            break
        significand = significand * 10 + digit
    if i < n and digits[i] == ".":
        i += 1
        while i < n and digits[i].isdigit():
            digit = int(digits[i])
            i += 1
            if significand * 10 + digit > _U64_MAX:
                while i < n and digits[i].isdigit():
                    i += 1
                break
            significand = significand * 10 + digit
            exponent -= 1
    if i < n and digits[i] in "eE":
        exponent += int(digits[i + 1 :])
    value = float(significand)
    while True:
        if abs(exponent) <= 308:
            scale = float(f"1e{abs(exponent)}")
            value = value * scale if exponent >= 0 else value / scale
            break
        if value == 0.0 or exponent > 0:
            break
        value /= 1e308
        exponent += 308
    return value if positive else -value


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _display(value: Any, *, serde: bool = True) -> str:
    """Compact JSON as serde_json's ``Display`` writes it (key order kept, non-ASCII raw).

    With ``serde`` true, numbers go through the same lossy reading as in openai-harmony
    (Python writes the JSON, serde_json reads it back); otherwise floats keep their value.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if -(2**63) <= value <= _U64_MAX:
            return str(value)
        if serde:
            return _format_f64(_serde_f64(str(value)))
        return _format_f64(float(value)) if abs(value) < 2**1024 else "null"
    if isinstance(value, float):
        if serde and math.isfinite(value):
            return _format_f64(_serde_f64(repr(value)))
        return _format_f64(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        inner = ",".join(
            f"{_json_string(str(k))}:{_display(v, serde=serde)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_display(v, serde=serde) for v in value) + "]"
    return "null"


def _get(value: Any, key: str) -> Any:
    """``serde_json::Value::get``: None unless ``value`` is an object holding ``key``."""
    return value.get(key) if isinstance(value, Mapping) else None


def _has(value: Any, key: str) -> bool:
    """``value.get(key).is_some()`` in serde terms: the key is there, even if JSON null."""
    return isinstance(value, Mapping) and key in value


def _get_str(value: Any, key: str) -> str | None:
    found = _get(value, key)
    return found if isinstance(found, str) else None


def _get_list(value: Any, key: str) -> list[Any] | None:
    found = _get(value, key)
    return list(found) if isinstance(found, (list, tuple)) else None


def _is_enum(schema: Any) -> bool:
    return bool(_get_list(schema, "enum"))


def _required(schema: Any) -> set[str]:
    return {r for r in _get_list(schema, "required") or [] if isinstance(r, str)}
