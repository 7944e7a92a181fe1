"""Typed answers: the response format an ``output_type`` asks for, and its validation.

The agent declares the type's JSON Schema in the developer message's
``# Response Formats`` section; the model's ``final`` answer is then parsed and validated
here. Models wrap JSON in a code fence or a sentence now and then, so one JSON value is
also found inside such text. What fails becomes a short correction the agent sends back
to the model as a user message.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import TypeAdapter, ValidationError

from harmony_agent.format._content import ResponseFormat
from harmony_agent.format._events import MessageStart

__all__ = ["OutputSpec", "opens_answer"]

_FENCE = re.compile(r"```[ \t]*(?:json5?|JSON)?[ \t]*\r?\n?(.*?)```", re.DOTALL)
_OPENERS = re.compile(r"[\[{]")
_DECODER = json.JSONDecoder()
#: Validation errors listed in one correction (the rest are counted).
MAX_LISTED = 6


class OutputSpec:
    """What ``Agent(output_type=...)`` expects of the final answer.

    Args:
        output_type: a pydantic model, or any type pydantic can validate.
    """

    __slots__ = ("_plain_text", "adapter", "format", "output_type")

    def __init__(self, output_type: Any) -> None:
        self.output_type = output_type
        self.adapter: TypeAdapter[Any] = TypeAdapter(output_type)
        self.format = ResponseFormat.of(output_type)
        self._plain_text = self.format.json_schema.get("type") == "string"

    def __repr__(self) -> str:
        return f"OutputSpec({self.format.name})"

    def parse(self, text: str) -> tuple[Any, str | None]:
        """The validated answer and None, or None and a correction for the model."""
        stripped = text.strip()
        try:
            return self.adapter.validate_json(stripped), None
        except ValidationError as exc:
            if not _is_bad_json(exc):
                return None, self._mismatch(exc)
            first = exc
        for candidate in _json_candidates(text):
            try:
                return self.adapter.validate_json(candidate), None
            except ValidationError as exc:
                return None, self._mismatch(exc)
        if self._plain_text:  # a string answer needs no quotes
            try:
                return self.adapter.validate_python(stripped), None
            except ValidationError as exc:
                return None, self._mismatch(exc)
        if stripped[:1] in ("{", "["):  # JSON, but broken
            return None, self._mismatch(first)
        return None, (
            f"Your answer must be JSON following the response format {self.format.name}, "
            "but it holds no JSON value. Reply with only that JSON."
        )

    def _mismatch(self, exc: ValidationError) -> str:
        errors = exc.errors(include_url=False)
        if len(errors) == 1 and errors[0]["type"] == "json_invalid":
            return (
                f"Your answer is not valid JSON ({errors[0]['msg']}). Reply with only the "
                f"JSON for the response format {self.format.name}."
            )
        parts = [_describe(e) for e in errors[:MAX_LISTED]]
        if len(errors) > MAX_LISTED:
            parts.append(f"and {len(errors) - MAX_LISTED} more")
        return (
            f"Your answer does not match the response format {self.format.name}: "
            f"{'; '.join(parts)}. Reply with only the corrected JSON."
        )


def opens_answer(start: MessageStart) -> bool:
    """Whether ``start`` opens the answer: ``final``, addressed to no one."""
    return start.channel == "final" and start.recipient is None


def _is_bad_json(exc: ValidationError) -> bool:
    return any(e["type"] == "json_invalid" for e in exc.errors(include_url=False))


def _json_candidates(text: str) -> list[str]:
    """One JSON value inside ``text``: a fenced block's, else the first that decodes."""
    fenced = [m.group(1).strip() for m in _FENCE.finditer(text)]
    if fenced:
        return fenced[:1]
    for match in _OPENERS.finditer(text):
        try:
            _, end = _DECODER.raw_decode(text, match.start())
        except json.JSONDecodeError:
            continue
        return [text[match.start() : end]]
    return []


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error["loc"]) or "the answer"
    got = error.get("input")
    shown = "" if isinstance(got, dict | list) else f" (got {json.dumps(got)[:40]})"
    return f"{where}: {error['msg']}{shown}"
