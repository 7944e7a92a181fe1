"""Reading the command line's inputs: files or stdin, conversation JSON, token lists.

Every problem becomes a :class:`CliError` whose message says what was expected,
what was found, and where.
"""

from __future__ import annotations

import json
import reprlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from harmony_agent.cli._errors import CliError
from harmony_agent.format import (
    Conversation,
    DeveloperContent,
    Message,
    Role,
    SystemContent,
)

__all__ = [
    "CONVERSATION_FORMAT",
    "conversation_from_json",
    "load_conversation",
    "read_text",
    "save_conversation",
    "tokens_from_json",
]

_ROLES = ", ".join(r.value for r in Role)

CONVERSATION_FORMAT = """\
conversation JSON:
  A list of messages, or {"messages": [...]} (what Conversation.model_dump_json()
  writes and chat's /save saves). Each message is an object with
    "role"          system, developer, user, assistant or tool
    "content"       the text; for system and developer an object (below)
    "channel"       assistant messages: analysis, commentary or final
    "recipient"     a tool call's target, e.g. "functions.get_weather"
    "name"          a tool's answer: the tool that answers, e.g. "functions.get_weather"
    "content_type"  optional, e.g. "<|constrain|>json"
  system content:    {"reasoning_effort": "high", "conversation_start_date": "2025-06-28"}
  developer content: {"instructions": "Answer briefly.", "tools": [{"name": "functions",
                      "tools": [{"name": "get_weather", "description": "...",
                                 "parameters": {JSON Schema}}]}]}
  (left out: the defaults; SystemContent and DeveloperContent list every field)
  openai-harmony's JSON form (content as a list of parts) is read too.

example:
  {"messages": [
    {"role": "system", "content": {"reasoning_effort": "low"}},
    {"role": "developer", "content": {"instructions": "Answer in one word."}},
    {"role": "user", "content": "What is the capital of France?"},
    {"role": "assistant", "channel": "final", "content": "Paris."}
  ]}
"""


def _label(source: str) -> str:
    return "stdin" if source == "-" else source


def read_text(source: str) -> str:
    """The text of file ``source``, or of stdin for ``-``."""
    if source == "-":
        return sys.stdin.read()
    path = Path(source)
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CliError(f"{source}: no such file") from None
    except IsADirectoryError:
        raise CliError(f"{source}: is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise CliError(f"{source}: not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"{source}: cannot read it ({exc.strerror or exc})") from None


def _json(text: str, source: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(
            f"{_label(source)}: not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
        ) from None


def _pydantic_problem(exc: ValidationError) -> str:
    """The first problem of a validation error, in one line."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"])
    if first["loc"] and first["loc"][0] == "content":
        return "content must be text (a JSON string)"
    given = reprlib.repr(first.get("input"))
    more = f" (and {len(errors) - 1} more problems)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']} (got {given}){more}"


def _content_model(role: Any) -> type[SystemContent] | type[DeveloperContent] | None:
    if role == Role.SYSTEM.value:
        return SystemContent
    if role == Role.DEVELOPER.value:
        return DeveloperContent
    return None


def _message(i: int, data: Any) -> Message:
    if not isinstance(data, Mapping):
        raise CliError(
            f"message {i}: expected an object such as "
            f'{{"role": "user", "content": "Hi"}}, got {type(data).__name__} '
            f"{reprlib.repr(data)}"
        )
    role = data.get("role")
    if role is None:
        raise CliError(f'message {i}: no "role" (one of {_ROLES})')
    if not isinstance(role, str) or role not in {r.value for r in Role}:
        raise CliError(f"message {i}: unknown role {role!r} (expected one of {_ROLES})")
    model = _content_model(role)
    if "content" not in data:
        if model is None:
            raise CliError(f'message {i} ({role}): no "content": give the text, "content": "..."')
        data = {**data, "content": {}}  # the default system or developer content
    if isinstance(data["content"], list):  # openai-harmony's to_dict() form
        try:
            return Message.from_harmony_dict(data)
        except (ValidationError, ValueError, KeyError, TypeError) as exc:
            detail = _pydantic_problem(exc) if isinstance(exc, ValidationError) else str(exc)
            raise CliError(f"message {i} ({role}): {detail}") from None
    fields = dict(data)
    try:
        if model is not None and isinstance(fields["content"], Mapping):
            content = dict(fields["content"])
            if model is SystemContent and "instructions" in content:
                raise CliError(
                    f"message {i} (system): instructions belong in the developer message: "
                    '{"role": "developer", "content": {"instructions": "..."}}'
                )
            content.setdefault("type", model.model_fields["type"].default)
            fields["content"] = model.model_validate(content)
        return Message.model_validate(fields)
    except ValidationError as exc:
        detail = _pydantic_problem(exc)
        if model is not None and detail.startswith("content must be"):
            detail = "content must be text or a content object"
        elif model is not None:
            detail = f"content.{detail}"
        raise CliError(f"message {i} ({role}): {detail}") from None


def conversation_from_json(data: Any, source: str = "-") -> Conversation:
    """Build a conversation from parsed JSON (see :data:`CONVERSATION_FORMAT`)."""
    messages = data.get("messages") if isinstance(data, Mapping) else data
    if not isinstance(messages, list):
        found = (
            "an object without a messages list"
            if isinstance(data, Mapping)
            else type(data).__name__
        )
        raise CliError(
            f'{_label(source)}: expected a list of messages or {{"messages": [...]}}, got '
            f"{found} (see harmony-agent render --help for the format)"
        )
    built = [_message(i, m) for i, m in enumerate(messages)]
    return Conversation(built)  # ConversationError names the index and the rule


def load_conversation(source: str) -> Conversation:
    """Read and check the conversation JSON in ``source`` (a path, or ``-``)."""
    return conversation_from_json(_json(read_text(source), source), source)


def save_conversation(conversation: Conversation, path: str) -> None:
    """Write ``conversation`` as JSON that :func:`load_conversation` reads back."""
    try:
        Path(path).write_text(conversation.model_dump_json(indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def tokens_from_json(text: str, source: str) -> list[int]:
    """A JSON list of token ids, checked item by item."""
    data = _json(text, source)
    if not isinstance(data, list):
        raise CliError(f"{_label(source)}: expected a JSON list of token ids")
    for i, t in enumerate(data):
        if isinstance(t, bool) or not isinstance(t, int):
            raise CliError(
                f"{_label(source)}: expected a JSON list of token ids (integers); item {i} is "
                f"{reprlib.repr(t)}"
            )
    return data
