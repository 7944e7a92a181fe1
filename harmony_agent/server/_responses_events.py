"""The Responses API's output side: agent events in, output items and stream events out.

:class:`OutputBuilder` follows one run's events (the parser's and the agent's) and emits
the Responses API's stream events as plain dicts, in order, each with its
``sequence_number``; it builds the response's ``output`` items as it goes. What each
harmony message becomes:

- ``final`` → a ``message`` item (``phase: "final_answer"``), ``output_text`` deltas;
  a ``commentary`` message without recipient (a preamble) → a ``message`` item with
  ``phase: "commentary"``; ``analysis`` and unlabeled messages → a ``reasoning`` item
  with ``reasoning_text`` content (never in ``output_text``).
- a call to a client's function → a ``function_call`` item, arguments streamed as
  deltas; the run stops there for the client to run it.
- a call to ``python`` → a ``code_interpreter_call`` item (code streamed; logs in
  ``outputs`` once the sandbox answered); to ``browser.*`` → a ``web_search_call`` item
  (its action is known once the call's arguments are complete).
- a call to an unknown recipient: no item (the agent answers the model with an error).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from harmony_agent.agent._events import AgentEvent, RunEnd, ToolCallStart, ToolResult
from harmony_agent.format._encoding import Encoding
from harmony_agent.format._events import ContentDelta, MessageEnd, MessageStart, ParseIssue
from harmony_agent.format._messages import Message
from harmony_agent.server._responses_items import arguments_of
from harmony_agent.tools._base import Tool, resolve, route_table

__all__ = ["CallKind", "OutputBuilder", "classify", "new_id"]

#: What a message becomes in the output.
CallKind = Literal["message", "preamble", "reasoning", "function", "python", "browser", "hidden"]


def new_id(prefix: str) -> str:
    """A fresh id such as ``msg_3f2a...`` (OpenAI's prefixes)."""
    return f"{prefix}_{uuid.uuid4().hex}"


def classify(
    channel: str | None,
    recipient: str | None,
    tools: tuple[Tool, ...],
    routes: dict[str, int],
    client: Tool | None,
) -> tuple[CallKind, str]:
    """The kind of item a message makes, and for a function call its function's name."""
    if recipient is None or not recipient.strip():
        if channel == "final":
            return "message", ""
        if channel == "commentary":
            return "preamble", ""
        return "reasoning", ""
    index = resolve(routes, recipient)
    if index is None:
        return "hidden", ""
    tool = tools[index]
    if tool is client:
        name = recipient.strip().rpartition(".")[2]
        return "function", name
    namespace = tool.namespace.name
    if namespace == "python":
        return "python", ""
    if namespace == "browser":
        return "browser", ""
    return "hidden", ""


@dataclass
class _Item:
    kind: CallKind
    output_index: int
    body: dict[str, Any]
    messages: list[Message] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    added: bool = False


class OutputBuilder:
    """Turns one run's events into Responses stream events and output items.

    Args:
        tools: the run's tools, in the agent's order.
        client: the tool that stands for the client's functions (its calls end the run).
        encoding: counts the reasoning tokens.
        container_id: the ``container_id`` of code interpreter calls.
    """

    def __init__(
        self,
        tools: tuple[Tool, ...],
        *,
        client: Tool | None,
        encoding: Encoding,
        container_id: str = "cntr_harmony_agent",
    ) -> None:
        self.tools = tools
        self.routes = route_table(tools)
        self.client = client
        self.encoding = encoding
        self.container_id = container_id
        self.sequence = 0
        self.output: list[dict[str, Any]] = []
        #: (item id, the harmony messages it stands for), for the store.
        self.item_messages: list[tuple[str, list[Message]]] = []
        #: every message the run added, tool answers included, in order.
        self.messages: list[Message] = []
        self.issues: list[str] = []
        self.reasoning_tokens = 0
        #: set when the model called a client function: the run stops there.
        self.client_call = False
        self.result: RunEnd | None = None
        self._open: _Item | None = None
        self._tool: _Item | None = None  # a built-in call waiting for its answer

    # -- events ------------------------------------------------------------------------
    def event(self, type: str, **fields: Any) -> dict[str, Any]:
        """One stream event with the next sequence number."""
        event = {"type": type, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return event

    def feed(self, event: AgentEvent) -> list[dict[str, Any]]:
        """The stream events one agent event makes (often none or one)."""
        if isinstance(event, ContentDelta):
            return self._delta(event.text)
        if isinstance(event, MessageStart):
            return self._start(event)
        if isinstance(event, MessageEnd):
            self.messages.append(event.message)
            return self._end(event)
        if isinstance(event, ParseIssue):
            self.issues.append(event.detail)
            return []
        if isinstance(event, ToolCallStart):
            return self._call_start(event)
        if isinstance(event, ToolResult):
            self.messages.extend(event.messages)
            return self._call_end(event)
        self.result = event
        return []

    # -- one message --------------------------------------------------------------------
    def _start(self, start: MessageStart) -> list[dict[str, Any]]:
        kind, name = classify(start.channel, start.recipient, self.tools, self.routes, self.client)
        index = len(self.output)
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
            body = {
                "id": new_id("rs"),
                "type": "reasoning",
                "summary": [],
                "content": [],
                "status": "in_progress",
            }
        elif kind == "function":
            body = {
                "id": new_id("fc"),
                "type": "function_call",
                "call_id": new_id("call"),
                "name": name,
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
        else:  # browser (added once its action is known) or hidden (never)
            body = {"id": new_id("ws"), "type": "web_search_call", "status": "in_progress"}
        item = self._open = _Item(kind, index, body)
        if kind in ("browser", "hidden"):
            return []
        return self._add(item)

    def _add(self, item: _Item) -> list[dict[str, Any]]:
        item.added = True
        item.output_index = len(self.output)
        self.output.append(item.body)
        body, index = item.body, item.output_index
        events = [self.event("response.output_item.added", output_index=index, item=dict(body))]
        part = self._part(item, "")
        if part is not None:
            events.append(
                self.event(
                    "response.content_part.added",
                    item_id=body["id"],
                    output_index=index,
                    content_index=0,
                    part=part,
                )
            )
        if item.kind == "python":
            events.append(self._item_event(item, "response.code_interpreter_call.in_progress"))
        elif item.kind == "browser":
            events.append(self._item_event(item, "response.web_search_call.in_progress"))
        return events

    def _part(self, item: _Item, text: str) -> dict[str, Any] | None:
        if item.kind in ("message", "preamble"):
            return {"type": "output_text", "text": text, "annotations": []}
        if item.kind == "reasoning":
            return {"type": "reasoning_text", "text": text}
        return None

    def _item_event(self, item: _Item, type: str) -> dict[str, Any]:
        return self.event(type, item_id=item.body["id"], output_index=item.output_index)

    def _delta(self, text: str) -> list[dict[str, Any]]:
        item = self._open
        if item is None or not text:
            return []
        item.text.append(text)
        if not item.added:
            return []
        ids = {"item_id": item.body["id"], "output_index": item.output_index}
        if item.kind in ("message", "preamble"):
            return [
                self.event(
                    "response.output_text.delta", **ids, content_index=0, delta=text, logprobs=[]
                )
            ]
        if item.kind == "reasoning":
            return [self.event("response.reasoning_text.delta", **ids, content_index=0, delta=text)]
        if item.kind == "function":
            return [self.event("response.function_call_arguments.delta", **ids, delta=text)]
        return [self.event("response.code_interpreter_call_code.delta", **ids, delta=text)]

    def _end(self, end: MessageEnd) -> list[dict[str, Any]]:
        item, self._open = self._open, None
        if item is None:  # a message without a parsed start: place it now
            start = MessageStart(
                end.index,
                end.message.role,
                end.message.channel,
                end.message.recipient,
                end.message.content_type,
            )
            self._start(start)
            item, self._open = self._open, None
            assert item is not None
        message = end.message
        item.messages.append(message)
        text = message.text
        cut = end.stop == "incomplete"
        body, events = item.body, []
        ids = {"item_id": body["id"], "output_index": item.output_index}
        if item.kind in ("message", "preamble", "reasoning"):
            part = self._part(item, text)
            assert part is not None
            if item.kind == "reasoning":
                events.append(
                    self.event("response.reasoning_text.done", **ids, content_index=0, text=text)
                )
                self.reasoning_tokens += len(self.encoding.encode_ordinary(text))
            else:
                events.append(
                    self.event(
                        "response.output_text.done", **ids, content_index=0, text=text, logprobs=[]
                    )
                )
            events.append(
                self.event("response.content_part.done", **ids, content_index=0, part=part)
            )
            body["content"] = [part]
            return events + self._done(item, "incomplete" if cut else "completed")
        if item.kind == "function":
            body["arguments"] = text
            events.append(
                self.event(
                    "response.function_call_arguments.done",
                    **ids,
                    name=body["name"],
                    arguments=text,
                )
            )
            return events + self._done(item, "incomplete" if cut else "completed")
        if item.kind == "python":
            body["code"] = text
            events.append(self.event("response.code_interpreter_call_code.done", **ids, code=text))
        elif item.kind == "browser":
            body["action"] = _action(message.recipient or "", text)
            events += self._add(item)
        else:
            return []
        if cut:  # the call never runs
            return events + self._done(item, "incomplete")
        self._tool = item
        return events

    def _done(self, item: _Item, status: str) -> list[dict[str, Any]]:
        item.body["status"] = status
        self.item_messages.append((item.body["id"], item.messages))
        return [
            self.event(
                "response.output_item.done", output_index=item.output_index, item=dict(item.body)
            )
        ]

    # -- built-in tool calls ------------------------------------------------------------
    def _call_start(self, start: ToolCallStart) -> list[dict[str, Any]]:
        kind, _ = classify(
            start.message.channel, start.message.recipient, self.tools, self.routes, self.client
        )
        if kind == "function":
            self.client_call = True
            return []
        item = self._tool
        if item is None:
            return []
        if item.kind == "python":
            item.body["status"] = "interpreting"
            return [self._item_event(item, "response.code_interpreter_call.interpreting")]
        item.body["status"] = "searching"
        return [self._item_event(item, "response.web_search_call.searching")]

    def _call_end(self, result: ToolResult) -> list[dict[str, Any]]:
        item, self._tool = self._tool, None
        if item is None:
            return []
        item.messages.extend(result.messages)
        status = "failed" if result.error else "completed"
        if item.kind == "python":
            logs = "".join(m.text for m in result.messages)
            item.body["outputs"] = [{"type": "logs", "logs": logs}]
            events = [self._item_event(item, "response.code_interpreter_call.completed")]
        else:
            events = [self._item_event(item, "response.web_search_call.completed")]
        return events + self._done(item, status)


def _action(recipient: str, arguments: str) -> dict[str, Any]:
    """A web search call's ``action`` from the browser call's name and arguments."""
    args = arguments_of(arguments)
    function = recipient.strip().rpartition(".")[2]
    if function == "search":
        query = args.get("query")
        return {"type": "search", "query": query if isinstance(query, str) else ""}
    if function == "find":
        pattern, cursor = args.get("pattern"), args.get("cursor")
        return {
            "type": "find_in_page",
            "pattern": pattern if isinstance(pattern, str) else "",
            "url": "" if cursor is None else f"cursor:{cursor}",
        }
    target = args.get("id", args.get("cursor"))
    url = target if isinstance(target, str) else None
    return {"type": "open_page", "url": url}
