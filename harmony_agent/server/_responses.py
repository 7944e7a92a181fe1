"""``POST /v1/responses``: one request, one agent run, as a response object or a stream.

:class:`ResponsesService` holds what every request shares (the backend, the built-in
tools, the response store) and runs each request as one :class:`~harmony_agent.Agent`
run: the client's function tools are declared in the developer message, and a call to
one ends the run with a ``function_call`` item (the client runs it and sends a
``function_call_output`` back); ``code_interpreter`` and ``web_search`` run here, in the
sandboxed python tool and the browser, with their items in the output.
:func:`responses_router` serves it with FastAPI.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from contextlib import aclosing
from typing import Any

from harmony_agent.agent._agent import Agent
from harmony_agent.agent._aio import closing
from harmony_agent.agent._backend import Backend, SamplingParams, as_backend
from harmony_agent.agent._resume import ResumePolicy
from harmony_agent.errors import BackendError, ConversationError, ToolError
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._messages import Message, ReasoningEffort, ToolNamespace, ToolSpec
from harmony_agent.server._responses_events import OutputBuilder, new_id
from harmony_agent.server._responses_items import (
    ConvertedInput,
    RequestProblem,
    ResponsesRequest,
    convert_input,
    parse_request,
)
from harmony_agent.server._store import ResponseStore, StoredResponse
from harmony_agent.tools._base import Tool, ToolCall

__all__ = ["ClientFunctions", "EngineFailure", "ResponsesService"]

logger = logging.getLogger("harmony_agent.server")

_TOKEN_LIMITS = ("max_tokens", "token_budget", "context_window")


class EngineFailure(Exception):
    """The engine failed before the run produced anything: an HTTP error to the client.

    ``status`` is 502 (the engine is unreachable or failed) unless the engine refused
    the request itself (a 4xx, such as a prompt longer than its context): then 400.
    """

    def __init__(self, error: BackendError) -> None:
        super().__init__(str(error))
        engine = error.status
        self.status = 400 if engine is not None and 400 <= engine < 500 else 502

    def body(self) -> dict[str, Any]:
        """The JSON error object (``{"error": {...}}``)."""
        kind = "invalid_request_error" if self.status == 400 else "server_error"
        return {
            "error": {
                "message": f"the engine failed: {self}",
                "type": kind,
                "param": None,
                "code": "engine_error",
            }
        }


class ClientFunctions(Tool):
    """The client's function tools: declared to the model, run by the client.

    The agent never calls it: the service ends the run at a call addressed to it.
    """

    def __init__(self, specs: Sequence[ToolSpec]) -> None:
        self._namespace = ToolNamespace(name="functions", tools=tuple(specs))

    @property
    def namespace(self) -> ToolNamespace:
        """The ``functions`` namespace with the client's functions."""
        return self._namespace

    async def call(self, call: ToolCall) -> Sequence[Message]:
        """Not reached in a served run (the client runs its functions)."""
        raise ToolError(f"{call.recipient} is run by the client")  # pragma: no cover


class _Counted:
    """A backend that counts the tokens sent to and received from the engine."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.prompt_tokens = 0
        self.completion_tokens = 0

    async def stream(self, prompt_tokens: list[int], params: SamplingParams) -> AsyncIterator[Any]:
        self.prompt_tokens += len(prompt_tokens)
        async with closing(self.backend.stream(prompt_tokens, params)) as chunks:
            async for chunk in chunks:
                self.completion_tokens += len(chunk)
                yield chunk


class ResponsesService:
    """Runs Responses API requests on one backend.

    Args:
        backend: the engine (any :class:`~harmony_agent.Backend`).
        model: the model name reported in responses.
        tools: the built-in tools a request may ask for (a
            :class:`~harmony_agent.PythonTool` for ``code_interpreter``, a
            :class:`~harmony_agent.BrowserTool` for ``web_search``).
        store_size: responses kept for ``previous_response_id`` (least recently used
            dropped; 0 keeps none).
        reasoning: the reasoning effort when a request names none.
        max_tokens: the most tokens one completion may generate (a request's
            ``max_output_tokens`` lowers it).
        context_window: the model's context length (None: the engine checks).
        max_turns: the most completions one request may run (built-in tool calls).
        resume: resume a completion whose stream broke (see :class:`~harmony_agent.Agent`).
        encoding: the harmony encoding.
    """

    def __init__(
        self,
        backend: Backend | Callable[..., Any],
        *,
        model: str = "gpt-oss",
        tools: Sequence[Tool] = (),
        store_size: int = 1024,
        reasoning: ReasoningEffort | str = ReasoningEffort.MEDIUM,
        max_tokens: int = 16384,
        context_window: int | None = None,
        max_turns: int = 32,
        resume: ResumePolicy | bool = True,
        encoding: Encoding | None = None,
    ) -> None:
        self.backend = as_backend(backend)
        self.model = model
        self.builtins = {t.namespace.name: t for t in tools}
        self.store = ResponseStore(store_size)
        self.reasoning = ReasoningEffort(str(reasoning).lower())
        self.max_tokens = max_tokens
        self.context_window = context_window
        self.max_turns = max_turns
        self.resume = resume
        self.encoding = encoding or load_encoding()

    # -- entry points -------------------------------------------------------------------
    async def create(self, body: Any) -> dict[str, Any]:
        """Run a request to its end; the response object.

        Raises:
            RequestProblem: a bad request (400) or an unknown previous response (404).
            EngineFailure: the engine failed before producing anything.
        """
        final: dict[str, Any] | None = None
        async with aclosing(self.events(body)) as events:
            async for event in events:
                if event["type"] in (
                    "response.completed",
                    "response.incomplete",
                    "response.failed",
                ):
                    final = event["response"]
        assert final is not None
        return final

    async def events(self, body: Any) -> AsyncGenerator[dict[str, Any], None]:
        """The run as Responses stream events, ending with the terminal one.

        The request is checked before the first event, and an engine that fails before
        the first token raises :class:`EngineFailure` (before any model output); later
        failures end the stream with ``response.failed``.
        """
        request = parse_request(body)
        async with aclosing(self._prepare(request)) as run:
            async for event in run:
                yield event

    # -- one run ------------------------------------------------------------------------
    def _prepare(self, request: ResponsesRequest) -> AsyncGenerator[dict[str, Any], None]:
        start = ConvertedInput()
        if request.previous_response_id is not None:
            previous = self.store.get(request.previous_response_id)
            if previous is None:
                raise RequestProblem(
                    f"Previous response with id '{request.previous_response_id}' not found.",
                    status=404,
                    param="previous_response_id",
                    code="previous_response_not_found",
                )
            start.messages.extend(previous.messages)
            start.calls.update(previous.calls)
        converted = convert_input(request.input, start=start, recall=self.store.recall)
        if request.instructions:
            converted.instructions.insert(0, request.instructions)
        tools: list[Tool] = []
        specs = request.function_specs()
        client = ClientFunctions(specs) if specs else None
        if client is not None:
            tools.append(client)
        for name in sorted(request.builtin_tools()):
            tool = self.builtins.get(name)
            if tool is None:
                kind = "code_interpreter" if name == "python" else "web_search"
                raise RequestProblem(
                    f"the {kind} tool is not enabled on this server (start it with --tools {name})",
                    param="tools",
                    code="unsupported_value",
                )
            tools.append(tool)
        limit = request.max_output_tokens
        sampling = SamplingParams(
            max_tokens=min(self.max_tokens, limit) if limit else self.max_tokens,
            temperature=1.0 if request.temperature is None else request.temperature,
            top_p=1.0 if request.top_p is None else request.top_p,
        )
        counted = _Counted(self.backend)
        try:
            agent = Agent(
                counted,
                tools,
                instructions="\n\n".join(converted.instructions) or None,
                reasoning=request.effort or self.reasoning,
                max_turns=self.max_turns,
                sampling=sampling,
                token_budget=limit,
                context_window=self.context_window,
                resume=self.resume,
                encoding=self.encoding,
            )
            conversation = agent.conversation_for(converted.messages)
        except (ConversationError, ToolError) as exc:
            raise RequestProblem(f"the input does not make a valid conversation: {exc}") from None
        return self._run(request, agent, conversation.messages, converted, client, counted)

    async def _run(
        self,
        request: ResponsesRequest,
        agent: Agent,
        messages: Sequence[Message],
        converted: ConvertedInput,
        client: Tool | None,
        counted: _Counted,
    ) -> AsyncGenerator[dict[str, Any], None]:
        builder = OutputBuilder(agent.tools, client=client, encoding=self.encoding)
        response = self._skeleton(request)
        yield builder.event("response.created", response=dict(response))
        yield builder.event("response.in_progress", response=dict(response))
        error: str | None = None
        try:
            async with aclosing(agent.stream(list(messages))) as run:
                async for event in run:
                    for out in builder.feed(event):
                        yield out
                    if builder.client_call:
                        break
        except BackendError as exc:
            if counted.completion_tokens == 0:
                raise EngineFailure(exc) from exc
            error = str(exc)
        except Exception as exc:  # a bug: the client still gets a clear failure
            logger.exception("the run failed")
            error = f"{type(exc).__name__}: {exc}"
        result = builder.result.result if builder.result is not None else None
        if error is None and result is not None and result.stop_reason == "interrupted":
            error = result.error or "the engine stream broke"
        status, details = "completed", None
        if error is not None:
            status = "failed"
        elif result is not None and result.stop_reason in _TOKEN_LIMITS:
            status, details = "incomplete", {"reason": "max_output_tokens"}
        elif result is not None and result.stop_reason == "max_turns":
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
            usage=self._usage(counted, builder),
            completed_at=time.time() if status == "completed" else None,
        )
        if builder.issues:
            response["metadata"] = {
                **response["metadata"],
                "harmony_parse_issues": str(len(builder.issues)),
                "harmony_parse_detail": _issues(builder.issues),
            }
        if request.store is not False and status != "failed":
            calls = dict(converted.calls)
            for item in builder.output:
                if item["type"] == "function_call":
                    calls[item["call_id"]] = f"functions.{item['name']}"
            stored = StoredResponse(
                messages=(*converted.messages, *builder.messages), calls=calls, body=response
            )
            self.store.put(response["id"], stored, builder.item_messages)
        kind = {
            "completed": "response.completed",
            "incomplete": "response.incomplete",
            "failed": "response.failed",
        }[status]
        yield builder.event(kind, response=response)

    def _skeleton(self, request: ResponsesRequest) -> dict[str, Any]:
        effort = request.effort or self.reasoning
        return {
            "id": new_id("resp"),
            "object": "response",
            "created_at": time.time(),
            "status": "in_progress",
            "model": request.model or self.model,
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

    @staticmethod
    def _usage(counted: _Counted, builder: OutputBuilder) -> dict[str, Any]:
        return {
            "input_tokens": counted.prompt_tokens,
            "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
            "output_tokens": counted.completion_tokens,
            "output_tokens_details": {"reasoning_tokens": builder.reasoning_tokens},
            "total_tokens": counted.prompt_tokens + counted.completion_tokens,
        }


def _issues(details: list[str]) -> str:
    """Parse issues as metadata allows: one string of at most 512 characters."""
    text = json.dumps(details)
    return text if len(text) <= 512 else text[:509] + "..."


def sse(event: dict[str, Any]) -> bytes:
    """One server-sent event as the Responses API frames it."""
    data = json.dumps(event, separators=(",", ":"), ensure_ascii=False)
    return f"event: {event['type']}\ndata: {data}\n\n".encode()
