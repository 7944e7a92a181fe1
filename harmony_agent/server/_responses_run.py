"""One ``/v1/responses`` request: its :class:`~harmony_agent.server.Generation`, and the
response object built from the generation's events.

``previous_response_id`` continues a stored response: its input and output messages
(tool answers and the chain of thought of an unfinished turn included) come first, then
the new input. ``instructions`` are not carried over (as OpenAI documents). Function
tools are the client's (a call ends the run); ``code_interpreter`` and ``web_search``
ask for the server's python and browser tools, which must be enabled
(``harmony-agent serve --tools python,browser``).
"""

from __future__ import annotations

import json
import time
from typing import Any

from harmony_agent.format._messages import Message
from harmony_agent.server._convert import instructions_from
from harmony_agent.server._errors import APIError, bad_request
from harmony_agent.server._generate import Finished, Generation, ItemEnd
from harmony_agent.server._responses_events import OutputBuilder, new_id
from harmony_agent.server._responses_items import (
    ConvertedInput,
    ResponsesRequest,
    convert_input,
)
from harmony_agent.server._state import ServerState
from harmony_agent.server._store import ResponseStore, StoredResponse

__all__ = ["TERMINAL", "finish", "generation_for", "skeleton"]

#: The event that ends a stream, by the response's status.
TERMINAL = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}

_TOKEN_LIMITS = ("max_tokens", "token_budget", "context_window")
_TOOL_NAMES = {"python": "code_interpreter", "browser": "web_search"}


def generation_for(
    request: ResponsesRequest, state: ServerState, store: ResponseStore
) -> tuple[Generation, ConvertedInput]:
    """The generation a request asks for, and its input as harmony messages.

    Raises:
        APIError: 400 for a request harmony cannot express or a tool the server lacks,
            404 for an unknown ``previous_response_id``.
    """
    request.refuse_unsupported()
    start = ConvertedInput()
    if request.previous_response_id is not None:
        previous = store.get(request.previous_response_id)
        if previous is None:
            raise APIError(
                404,
                f"Previous response with id '{request.previous_response_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        start.messages.extend(previous.messages)
        start.calls.update(previous.calls)
    converted = convert_input(request.input, start=start, recall=store.recall)
    builtins = request.builtin_tools()
    offered = {t.namespace.name for t in state.tools}
    for name in builtins:
        if name not in offered:
            raise bad_request(
                f"the {_TOOL_NAMES[name]} tool is not enabled on this server (start it with "
                f"--tools {name})",
                param="tools",
                code="unsupported_value",
            )
    gen = Generation(
        messages=converted.messages,
        instructions=instructions_from([request.instructions, *converted.instructions]),
        functions=request.functions(),
        builtins=builtins,
        reasoning=request.effort,
        max_tokens=request.max_output_tokens,
        temperature=1.0 if request.temperature is None else request.temperature,
        top_p=1.0 if request.top_p is None else request.top_p,
    )
    return gen, converted


def skeleton(request: ResponsesRequest, state: ServerState) -> dict[str, Any]:
    """The response object before any output (``status: "in_progress"``)."""
    effort = request.effort or state.config.reasoning
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": time.time(),
        "status": "in_progress",
        "background": False,
        "model": state.config.model,
        "output": [],
        "error": None,
        "incomplete_details": None,
        "instructions": request.instructions,
        "max_output_tokens": request.max_output_tokens,
        "metadata": dict(request.metadata or {}),
        "parallel_tool_calls": False,
        "previous_response_id": request.previous_response_id,
        "reasoning": {"effort": effort.value, "summary": None},
        "store": request.store is not False,
        "temperature": 1.0 if request.temperature is None else request.temperature,
        "top_p": 1.0 if request.top_p is None else request.top_p,
        "text": {"format": {"type": "text"}},
        "tool_choice": request.tool_choice or "auto",
        "tools": list(request.tools),
        "truncation": "disabled",
        "usage": None,
    }


def finish(
    response: dict[str, Any],
    builder: OutputBuilder,
    *,
    request: ResponsesRequest,
    converted: ConvertedInput,
    store: ResponseStore,
    error: str | None = None,
) -> dict[str, Any]:
    """Complete ``response`` from the builder's output and keep it (unless ``store`` is
    false or it failed). ``error``: why the run failed, if it did."""
    finished = builder.finished
    if error is None and finished is not None and finished.error is not None:
        error = finished.error.message
    status, details = "completed", None
    if error is not None or finished is None:
        status = "failed"
        error = error or "the generation ended early"
    elif finished.stop_reason in _TOKEN_LIMITS:
        status, details = "incomplete", {"reason": "max_output_tokens"}
    elif finished.stop_reason == "max_turns":
        status, details = "incomplete", {"reason": "max_turns"}
    response.update(
        status=status,
        output=builder.output,
        output_text="".join(
            part["text"]
            for item in builder.output
            if item["type"] == "message" and item.get("phase") == "final_answer"
            for part in item["content"]
        ),
        incomplete_details=details,
        error=None if error is None else {"code": "server_error", "message": error},
        usage=_usage(finished, builder),
        completed_at=time.time() if status == "completed" else None,
    )
    if finished is not None and finished.parse_issues:
        response["metadata"] = {
            **response["metadata"],
            "harmony_parse_issues": str(len(finished.parse_issues)),
            "harmony_parse_detail": _clip(json.dumps(list(finished.parse_issues))),
        }
    if finished is not None:
        response["harmony"] = {
            "stop_reason": finished.stop_reason,
            "parse_issues": list(finished.parse_issues),
        }
    if request.store is not False and status != "failed":
        calls = dict(converted.calls)
        new: list[Message] = []
        for out in finished.outputs if finished is not None else ():
            if isinstance(out, ItemEnd):
                new.append(out.message)
                if out.item.call_id is not None and out.message.recipient is not None:
                    calls[out.item.call_id] = out.message.recipient
            else:
                new.extend(out.messages)
        stored = StoredResponse(messages=(*converted.messages, *new), calls=calls, body=response)
        store.put(response["id"], stored, builder.item_messages)
    return response


def _usage(finished: Finished | None, builder: OutputBuilder) -> dict[str, Any]:
    prompt = finished.usage.prompt_tokens if finished is not None else 0
    completion = finished.usage.completion_tokens if finished is not None else 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": builder.reasoning_tokens},
        "total_tokens": prompt + completion,
    }


def _clip(text: str) -> str:
    """Metadata values hold at most 512 characters."""
    return text if len(text) <= 512 else text[:509] + "..."
