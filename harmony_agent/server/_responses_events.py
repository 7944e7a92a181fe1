"""The Responses API's output side: the generation's items in, stream events out.

:class:`OutputBuilder` follows one generation (:data:`~harmony_agent.server.ServerEvent`)
and emits the Responses API's stream events as plain dicts, in order, each with its
``sequence_number``, building the response's ``output`` items as it goes:

- ``text`` (final) → a ``message`` item (``phase: "final_answer"``) with ``output_text``
  deltas; a ``preamble`` (commentary, no recipient) → a ``message`` item with
  ``phase: "commentary"``; ``reasoning`` → a ``reasoning`` item whose ``reasoning_text``
  content is the chain of thought (never in ``output_text``).
- ``function_call`` (the client's function) → a ``function_call`` item, arguments
  streamed as deltas; the run stops there for the client to run it.
- a built-in call to ``python`` → a ``code_interpreter_call`` item (code streamed, the
  logs in ``outputs`` once the sandbox answered); to ``browser.*`` → a
  ``web_search_call`` item (added once the call's arguments give its action).
- a call to an unknown tool: no item (the agent answers the model with an error).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Literal

from harmony_agent.format._encoding import Encoding
from harmony_agent.format._messages import Message
from harmony_agent.server._generate import (
    Finished,
    Item,
    ItemDelta,
    ItemEnd,
    ItemStart,
    ServerEvent,
    ToolAnswer,
)
from harmony_agent.server._responses_items import arguments_of
from harmony_agent.server._sse import dumps
from harmony_agent.tools._base import Tool, resolve, route_table

__all__ = ["OutputBuilder", "OutputKind", "new_id"]

#: What an item is in the Responses API.
OutputKind = Literal["message", "preamble", "reasoning", "function", "python", "browser", "hidden"]

_PAGE_URL = re.compile(r"^\[\d+\] .*\((\S+)\)\s*$", re.M)


def new_id(prefix: str) -> str:
    """A fresh id such as ``msg_3f2a...`` (OpenAI's prefixes)."""
    return f"{prefix}_{secrets.token_hex(16)}"


_DELTAS: dict[OutputKind, tuple[str, str]] = {
    "message": ("response.output_text.delta", ',"logprobs":[]}\n\n'),
    "preamble": ("response.output_text.delta", ',"logprobs":[]}\n\n'),
    "reasoning": ("response.reasoning_text.delta", "}\n\n"),
    "function": ("response.function_call_arguments.delta", "}\n\n"),
    "python": ("response.code_interpreter_call_code.delta", "}\n\n"),
}


@dataclass
class _Output:
    kind: OutputKind
    body: dict[str, Any]
    output_index: int = -1
    messages: list[Message] = field(default_factory=list)
    # a delta frame is head + sequence number + middle + the JSON string + tail
    head: str = ""
    middle: str = ""
    tail: str = ""

    def frames_deltas(self) -> None:
        """Make the constant parts of this item's delta frames (built once per item)."""
        type, self.tail = _DELTAS[self.kind]
        self.head = f'event: {type}\ndata: {{"type":"{type}","sequence_number":'
        content = ',"content_index":0' if self.kind in ("message", "preamble", "reasoning") else ""
        self.middle = (
            f',"item_id":{dumps(self.body["id"])},"output_index":{self.output_index}'
            f'{content},"delta":'
        )


class OutputBuilder:
    """Turns one generation's events into Responses stream events and output items.

    Args:
        tools: the built-in tools the run offers (to tell python from browser calls).
        encoding: counts the reasoning tokens.
        stream: make the stream's SSE frames (else only the output items).
        container_id: the ``container_id`` of code interpreter calls.
    """

    def __init__(
        self,
        tools: tuple[Tool, ...],
        *,
        encoding: Encoding,
        stream: bool = True,
        container_id: str = "cntr_harmony_agent",
    ) -> None:
        self.stream = stream
        self.tools = tools
        self.routes = route_table(tools)
        self.encoding = encoding
        self.container_id = container_id
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        #: (item id, the harmony messages it stands for), for the store.
        self.item_messages: list[tuple[str, list[Message]]] = []
        self.reasoning_tokens = 0
        self.finished: Finished | None = None
        self._items: dict[int, _Output] = {}  # by the generation's item index

    def event(self, type: str, **fields: Any) -> list[str]:
        """One stream event with the next sequence number, as an SSE frame (none when
        not streaming)."""
        if not self.stream:
            return []
        event = {"type": type, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return [f"event: {type}\ndata: {dumps(event)}\n\n"]

    def feed(self, event: ServerEvent) -> list[str]:
        """The SSE frames one generation event makes (often one)."""
        if isinstance(event, ItemDelta):
            return self._delta(event)
        if isinstance(event, ItemStart):
            return self._start(event.item)
        if isinstance(event, ItemEnd):
            return self._end(event)
        if isinstance(event, ToolAnswer):
            return self._answer(event)
        self.finished = event
        return []

    # -- items --------------------------------------------------------------------------
    def _kind(self, item: Item) -> OutputKind:
        if item.kind == "text":
            return "message"
        if item.kind in ("preamble", "reasoning"):
            return item.kind
        if item.kind == "function_call":
            return "function"
        index = resolve(self.routes, item.recipient or "")
        name = self.tools[index].namespace.name if index is not None else None
        return "python" if name == "python" else "browser" if name == "browser" else "hidden"

    def _start(self, item: Item) -> list[str]:
        kind = self._kind(item)
        if kind in ("message", "preamble"):
            phase = "final_answer" if kind == "message" else "commentary"
            body: dict[str, Any] = {
                "id": new_id("msg"),
                "type": "message",
                "role": "assistant",
                "status": "in_progress",
                "content": [],
                "phase": phase,
            }
        elif kind == "reasoning":
            body = {"id": new_id("rs"), "type": "reasoning", "summary": [], "content": []}
            body["status"] = "in_progress"
        elif kind == "function":
            body = {
                "id": new_id("fc"),
                "type": "function_call",
                "call_id": item.call_id or new_id("call"),
                "name": item.name or "",
                "arguments": "",
                "status": "in_progress",
            }
        elif kind == "python":
            body = {
                "id": new_id("ci"),
                "type": "code_interpreter_call",
                "status": "in_progress",
                "code": "",
                "outputs": None,
                "container_id": self.container_id,
            }
        else:  # browser: added once its action is known; hidden: never
            body = {"id": new_id("ws"), "type": "web_search_call", "status": "in_progress"}
        out = self._items[item.index] = _Output(kind, body)
        return [] if kind in ("browser", "hidden") else self._add(out)

    def _add(self, out: _Output) -> list[str]:
        out.output_index = len(self.output)
        self.output.append(out.body)
        body, index = out.body, out.output_index
        if self.stream and out.kind in _DELTAS:
            out.frames_deltas()
        events = self.event("response.output_item.added", output_index=index, item=dict(body))
        part = _part(out.kind, "")
        if part is not None:
            events += self.event(
                "response.content_part.added",
                item_id=body["id"],
                output_index=index,
                content_index=0,
                part=part,
            )
        if out.kind == "python":
            events += self._item_event(out, "response.code_interpreter_call.in_progress")
        elif out.kind == "browser":
            events += self._item_event(out, "response.web_search_call.in_progress")
        return events

    def _item_event(self, out: _Output, type: str) -> list[str]:
        return self.event(type, item_id=out.body["id"], output_index=out.output_index)

    def _delta(self, delta: ItemDelta) -> list[str]:
        out = self._items.get(delta.item.index)
        if out is None or not out.head or not delta.text or not self.stream:
            return []
        sequence = self.sequence
        self.sequence += 1
        return [f"{out.head}{sequence}{out.middle}{encode_basestring(delta.text)}{out.tail}"]

    def _end(self, end: ItemEnd) -> list[str]:
        out = self._items.get(end.item.index)
        if out is None:
            self._start(end.item)
            out = self._items[end.item.index]
        out.messages.append(end.message)
        text, body = end.message.text, out.body
        status = "incomplete" if end.incomplete else "completed"
        ids = {"item_id": body["id"], "output_index": out.output_index}
        events: list[str] = []
        if out.kind in ("message", "preamble", "reasoning"):
            part = _part(out.kind, text)
            if out.kind == "reasoning":
                self.reasoning_tokens += len(self.encoding.encode_ordinary(text))
                events += self.event(
                    "response.reasoning_text.done", **ids, content_index=0, text=text
                )
            else:
                events += self.event(
                    "response.output_text.done", **ids, content_index=0, text=text, logprobs=[]
                )
            events += self.event("response.content_part.done", **ids, content_index=0, part=part)
            body["content"] = [part]
            return events + self._done(out, status)
        if out.kind == "function":
            body["arguments"] = text
            events += self.event(
                "response.function_call_arguments.done",
                **ids,
                name=body["name"],
                arguments=text,
            )
            return events + self._done(out, status)
        if out.kind == "python":
            body["code"] = text
            events += self.event("response.code_interpreter_call_code.done", **ids, code=text)
            if not end.incomplete:
                body["status"] = "interpreting"
                events += self._item_event(out, "response.code_interpreter_call.interpreting")
        elif out.kind == "browser":
            body["action"] = _action(end.item.recipient or "", text)
            events += self._add(out)
            if not end.incomplete:
                body["status"] = "searching"
                events += self._item_event(out, "response.web_search_call.searching")
        else:
            return []
        if end.incomplete:  # the call never runs
            return events + self._done(out, "incomplete")
        return events

    def _answer(self, answer: ToolAnswer) -> list[str]:
        out = self._items.get(answer.item.index)
        if out is None or out.kind not in ("python", "browser"):
            return []
        out.messages.extend(answer.messages)
        text = "".join(m.text for m in answer.messages)
        if out.kind == "python":
            out.body["outputs"] = [{"type": "logs", "logs": text}]
            events = self._item_event(out, "response.code_interpreter_call.completed")
        else:
            _observe(out.body["action"], text)
            events = self._item_event(out, "response.web_search_call.completed")
        return events + self._done(out, "failed" if answer.error else "completed")

    def _done(self, out: _Output, status: str) -> list[str]:
        out.body["status"] = status
        self.item_messages.append((out.body["id"], out.messages))
        return self.event(
            "response.output_item.done", output_index=out.output_index, item=dict(out.body)
        )


def _part(kind: OutputKind, text: str) -> dict[str, Any] | None:
    if kind in ("message", "preamble"):
        return {"type": "output_text", "text": text, "annotations": []}
    if kind == "reasoning":
        return {"type": "reasoning_text", "text": text}
    return None


def _action(recipient: str, arguments: str) -> dict[str, Any]:
    """A web search call's ``action`` from the browser call's name and arguments."""
    args = arguments_of(arguments)
    function = recipient.strip().rpartition(".")[2]
    if function == "search":
        query = args.get("query")
        return {"type": "search", "query": query if isinstance(query, str) else ""}
    if function == "find":
        pattern = args.get("pattern")
        return {"type": "find_in_page", "pattern": pattern if isinstance(pattern, str) else "",
                "url": ""}  # fmt: skip
    target = args.get("id")
    return {"type": "open_page", "url": target if isinstance(target, str) else None}


def _observe(action: dict[str, Any], page: str) -> None:
    """Fill in the URL the browser's answer shows in its header (``[3] Title (URL)``)."""
    urls = _PAGE_URL.findall(page.split("\n", 1)[0])
    if action["type"] != "search" and urls and not action.get("url"):
        action["url"] = urls[0]
