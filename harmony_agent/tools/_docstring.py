"""Docstring parsing for function tools: summary and per-parameter docs (google, numpy, sphinx)."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]


@dataclass(frozen=True, slots=True)
class Docstring:
    """What a docstring tells the model: the description and each parameter's doc."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)
    returns: str | None = None

    @property
    def text(self) -> str:
        """The description, followed by what the function returns when documented."""
        if self.returns:
            return f"{self.description}\nReturns: {self.returns}".strip()
        return self.description


_PARAM_SECTIONS = {
    "args",
    "arguments",
    "parameters",
    "params",
    "keyword args",
    "keyword arguments",
    "other parameters",
}
_RETURN_SECTIONS = {"returns", "return", "yields", "yield"}
_GOOGLE_HEADER = re.compile(
    r"^(args|arguments|parameters|params|keyword args|keyword arguments|other parameters|"
    r"returns?|yields?|raises|exceptions|examples?|notes?|warnings?|see also|attributes|"
    r"references|todo|methods)\s*:\s*$",
    re.IGNORECASE,
)
_NUMPY_RULE = re.compile(r"^\s*-{3,}\s*$")
_SPHINX_FIELD = re.compile(
    r"^:(param|parameter|arg|argument|key|keyword|type|returns?|rtype|raises?|except|"
    r"exception|yields?|ytype)\b",
    re.IGNORECASE,
)
_GOOGLE_ENTRY = re.compile(r"^\**([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ENTRY = re.compile(r"^\**([A-Za-z_]\w*(?:\s*,\s*\**[A-Za-z_]\w*)*)\s*(?::\s*.*)?$")
_SPHINX_ENTRY = re.compile(r"^:(\w+)(?:\s+(.*?))?\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> Docstring:
    """Split a docstring into its description, parameter docs and returns doc.

    Understands google (``Args:``), numpy (``Parameters`` over a ``----`` rule) and
    sphinx (``:param name:``) styles; anything else is all description.
    """
    if not doc:
        return Docstring()
    lines = inspect.cleandoc(doc).splitlines()
    sections: list[tuple[str, list[str]]] = []
    body_end = len(lines)
    i = 0
    while i < len(lines):
        line = lines[i]
        header: str | None = None
        if _SPHINX_FIELD.match(line):
            body_end = min(body_end, i)
            sections.append((":sphinx", lines[i:]))
            break
        if match := _GOOGLE_HEADER.match(line):
            header, skip = match.group(1).lower(), 1
        elif line.strip() and i + 1 < len(lines) and _NUMPY_RULE.match(lines[i + 1]):
            header, skip = "numpy:" + line.strip().lower(), 2
        if header is not None:
            body_end = min(body_end, i)
            sections.append((header, []))
            i += skip
            continue
        if sections:
            sections[-1][1].append(line)
        i += 1
    params: dict[str, str] = {}
    returns: list[str] = []
    for header, body in sections:
        kind = header.removeprefix("numpy:")
        if header == ":sphinx":
            _sphinx_fields(body, params, returns)
        elif kind in _PARAM_SECTIONS:
            entry = _NUMPY_ENTRY if header.startswith("numpy:") else _GOOGLE_ENTRY
            _entries(body, entry, params)
        elif kind in _RETURN_SECTIONS:
            returns.append(_join(body))
    description = "\n".join(lines[:body_end]).strip()
    return Docstring(description, params, " ".join(r for r in returns if r) or None)


def _entries(body: list[str], entry: re.Pattern[str], params: dict[str, str]) -> None:
    """Parameter entries: a line at the section's base indent, continued by deeper lines."""
    indents = [len(line) - len(line.lstrip()) for line in body if line.strip()]
    if not indents:
        return
    base = min(indents)
    names: list[str] = []
    for line in body:
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        match = entry.match(line.strip()) if indent == base else None
        if match:
            names = [n.strip().lstrip("*") for n in match.group(1).split(",")]
            first = match.group(2) if entry is _GOOGLE_ENTRY else ""
            for name in names:
                params[name] = (first or "").strip()
        elif names:
            for name in names:
                params[name] = f"{params[name]} {line.strip()}".strip()


def _sphinx_fields(body: list[str], params: dict[str, str], returns: list[str]) -> None:
    current: tuple[str, str] | None = None  # (kind, name)
    for line in body:
        stripped = line.strip()
        match = _SPHINX_ENTRY.match(stripped) if stripped.startswith(":") else None
        if match:
            kind, arg, text = match.group(1).lower(), match.group(2) or "", match.group(3)
            if kind in ("param", "parameter", "arg", "argument", "key", "keyword") and arg:
                name = arg.split()[-1].lstrip("*")
                params[name] = text.strip()
                current = ("param", name)
            elif kind in ("returns", "return", "yields", "yield"):
                returns.append(text.strip())
                current = ("returns", "")
            else:
                current = None
        elif current and stripped:
            if current[0] == "param":
                params[current[1]] = f"{params[current[1]]} {stripped}".strip()
            else:
                returns[-1] = f"{returns[-1]} {stripped}".strip()


def _join(body: list[str]) -> str:
    return " ".join(line.strip() for line in body if line.strip())
