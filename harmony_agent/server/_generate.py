"""The one generation loop every endpoint uses: an :class:`~harmony_agent.Agent` run as items.

An endpoint turns its request into a :class:`Generation` and reads the run as a short
stream of :data:`ServerEvent`: each assistant message is an :class:`Item` (reasoning,
answer text, a preamble, a client-side function call, or a built-in tool call the server
runs) that starts, streams its text and ends; a built-in call's answer follows as
:class:`ToolAnswer`; :class:`Finished` comes last, with the finish reason, usage, parse
problems and every output in order. The agent does the rest: rendering, append-only
prompts within a tool loop (prefix cache), resuming broken streams, limits.

Client-side functions are a :class:`~harmony_agent.tools.ClientTool`: the run stops at
a call to one (``finish_reason="tool_calls"``); the client runs it and sends the result
in its next request. The event types live in ``_items.py`` and are re-exported here.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing

from harmony_agent.agent._agent import Agent
from harmony_agent.agent._backend import Backend, SamplingParams
from harmony_agent.agent._events import AgentEvent, RunEnd, ToolResult
from harmony_agent.agent._result import RunResult, StopReason, Usage
from harmony_agent.errors import BackendError, ConversationError, RenderError, ToolError
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._events import ContentDelta, MessageEnd, MessageStart, ParseIssue
from harmony_agent.format._messages import Channel, Message
from harmony_agent.server._convert import call_id
from harmony_agent.server._errors import APIError, bad_request, engine_error
from harmony_agent.server._items import (
    FINISH_REASONS,
    Finished,
    FinishReason,
    Generation,
    Item,
    ItemDelta,
    ItemEnd,
    ItemKind,
    ItemStart,
    ServerEvent,
    ToolAnswer,
)
from harmony_agent.server._state import ServerState
from harmony_agent.tools._base import resolve, route_table

__all__ = [
    "FINISH_REASONS",
    "FinishReason",
    "Finished",
    "Generation",
    "Item",
    "ItemDelta",
    "ItemEnd",
    "ItemKind",
    "ItemStart",
    "ServerEvent",
    "ToolAnswer",
    "collect",
    "generate",
    "open_generation",
]


# -- the loop -------------------------------------------------------------------------------
def generate(state: ServerState, gen: Generation) -> AsyncGenerator[ServerEvent, None]:
    """Run ``gen`` on the server's backend: items as they stream, then :class:`Finished`.

    Raises:
        APIError: 400 for a conversation harmony cannot hold, an engine error (502, 503,
            504) when the engine fails before the first token. Once tokens have
            streamed, a failure ends the run with ``Finished.error`` set instead.
    """
    return _prepare(state, gen).events()


async def open_generation(state: ServerState, gen: Generation) -> AsyncGenerator[ServerEvent, None]:
    """:func:`generate` once the engine has answered (its first tokens arrived).

    A streaming endpoint awaits this before it sends its response headers, so an engine
    that is down or refuses the request still gets a proper HTTP error status.
    """
    run = _prepare(state, gen)
    await run.open()
    return run.events()


async def collect(state: ServerState, gen: Generation) -> Finished:
    """Run ``gen`` to the end (non-streaming endpoints); the outputs are in the result."""
    async with aclosing(generate(state, gen)) as events:
        async for event in events:
            if isinstance(event, Finished):
                return event
    raise AssertionError("the generation ended without Finished")  # pragma: no cover


def _prepare(state: ServerState, gen: Generation) -> _Run:
    try:
        agent = _agent(state, gen)
    except ToolError as exc:  # a client function clashing with a server-side one
        raise bad_request(f"the tools cannot be declared: {exc}", "tools") from None
    try:
        conversation = agent.conversation_for(gen.messages)
    except ConversationError as exc:
        raise bad_request(
            f"the messages do not form a valid conversation: {exc}", "messages"
        ) from None
    return _Run(agent, gen, conversation)


def _early(exc: Exception) -> APIError | None:
    """What a failure before the first token means to the client."""
    if isinstance(exc, BackendError):
        return engine_error(exc)
    if isinstance(exc, RenderError):
        return bad_request(f"the messages cannot be rendered as harmony: {exc}", "messages")
    return None


def _agent(state: ServerState, gen: Generation) -> Agent:
    config = state.config
    tools = [t for t in state.tools if gen.builtins is None or t.namespace.name in gen.builtins]
    if gen.functions is not None and gen.functions.namespace.tools:
        tools.append(gen.functions)
    sampling = SamplingParams(
        max_tokens=gen.max_tokens or config.max_tokens,
        temperature=gen.temperature,
        top_p=gen.top_p,
        seed=gen.seed,
    )
    backend: Backend = _Counted(state.backend) if gen.stop else state.backend
    return Agent(
        backend,
        tools,
        instructions=gen.instructions,
        reasoning=gen.reasoning or config.reasoning,
        max_turns=config.max_turns,
        sampling=sampling,
        token_budget=gen.max_tokens,
        context_window=config.context_window,
        tool_timeout=config.tool_timeout,
        system=config.system,
        encoding=state.encoding,
    )


#: An item's kind by its channel when it has no recipient (any other channel: reasoning).
_KINDS: dict[str, ItemKind] = {"final": "text", "commentary": "preamble"}


class _Counted:
    """A backend that counts the tokens it sends and receives (usage of a run cut short)."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.usage = Usage()

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        received = 0
        try:
            async with aclosing(self.backend.stream(prompt_tokens, params)) as chunks:  # type: ignore[type-var]
                async for chunk in chunks:
                    received += len(chunk)
                    yield chunk
        finally:
            self.usage += Usage(prompt_tokens=len(prompt_tokens), completion_tokens=received)


class _Run:
    """One generation's bookkeeping: items, stop strings, parse issues, outputs."""

    def __init__(self, agent: Agent, gen: Generation, conversation: Conversation) -> None:
        self.agent = agent
        self.stream = agent.stream(conversation)
        self.first: AgentEvent | None = None
        self.stops = tuple(s for s in gen.stop if s)
        self.functions = gen.functions
        self._routes = route_table([gen.functions]) if gen.functions is not None else {}
        self.items = 0
        self.current: Item | None = None
        self.last_call: Item | None = None
        self.outputs: list[ItemEnd | ToolAnswer] = []
        self.issues: list[str] = []
        # the answer text of the current text item, and how much of it was sent
        self.text = ""
        self.sent = 0
        self.stopped = False

    async def open(self) -> None:
        """Wait for the agent's first event: the engine answered (or raise, mapped)."""
        try:
            self.first = await anext(self.stream)
        except Exception as exc:
            await self.stream.aclose()
            mapped = _early(exc)
            if mapped is None:
                raise
            raise mapped from exc

    # The agent's events → items.
    async def events(self) -> AsyncGenerator[ServerEvent, None]:
        if self.first is None:
            await self.open()  # a failure before the first event: mapped to an API error
        event = self.first
        assert event is not None
        async with aclosing(self.stream) as stream:
            while True:
                if isinstance(event, ContentDelta):  # the per-token path first
                    for out in self._delta(event):
                        yield out
                    if self.stopped:
                        break  # closing the agent's stream aborts the engine request
                elif isinstance(event, MessageStart):
                    yield self._start(event.channel, event.recipient, event.content_type)
                elif isinstance(event, MessageEnd):
                    for out in self._end(event):
                        yield out
                elif isinstance(event, ParseIssue):
                    self.issues.append(event.detail)
                elif isinstance(event, ToolResult):
                    if self.last_call is not None:
                        answer = ToolAnswer(self.last_call, event.messages, event.error)
                        self.outputs.append(answer)
                        yield answer
                elif isinstance(event, RunEnd):
                    yield self._finished(event.result)
                    return
                event = await anext(stream)
        yield self._stopped()  # a stop string ended the answer (usage counted on close)

    def _start(
        self, channel: str | None, recipient: str | None, content_type: str | None
    ) -> ItemStart:
        if recipient in ("assistant", "user"):
            recipient = None
        kind: ItemKind
        name: str | None = None
        cid: str | None = None
        if recipient is None:
            # no channel, or one gpt-oss does not use: kept, but never shown as the answer
            kind = _KINDS.get(str(channel), "reasoning")
        else:
            index = resolve(self._routes, recipient) if self._routes else None
            if index is not None and self.functions is not None:
                kind, name = "function_call", self._function_name(recipient)
                cid = call_id()
            else:
                kind, name = "builtin_call", recipient
        item = Item(self.items, kind, channel, recipient, name, cid, content_type)
        self.items += 1
        self.current = item
        self.text, self.sent = "", 0
        return ItemStart(item)

    def _function_name(self, recipient: str) -> str:
        assert self.functions is not None
        names = [spec.name for spec in self.functions.namespace.tools]
        bare = recipient.strip().rpartition(".")[2]
        return bare if bare in names else names[0]

    def _delta(self, event: ContentDelta) -> list[ServerEvent]:
        out: list[ServerEvent] = []
        if self.current is None:
            out.append(self._start(event.channel, event.recipient, None))
        item = self.current
        assert item is not None
        if item.kind != "text" or not self.stops:
            out.append(ItemDelta(item, event.text))
            return out
        self.text += event.text
        cut = _find_stop(self.text, self.stops, self.sent)
        if cut is not None:
            if cut > self.sent:
                out.append(ItemDelta(item, self.text[self.sent : cut]))
            self.text = self.text[:cut]
            self.sent = cut
            self.stopped = True
            message = Message.assistant(self.text, channel=Channel.FINAL)
            end = ItemEnd(item, message)
            self.outputs.append(end)
            out.append(end)
            self.current = None
            return out
        safe = len(self.text) - _held_back(self.text, self.stops)
        if safe > self.sent:
            out.append(ItemDelta(item, self.text[self.sent : safe]))
            self.sent = safe
        return out

    def _end(self, event: MessageEnd) -> list[ServerEvent]:
        out: list[ServerEvent] = []
        message = event.message
        if self.current is None:
            out.append(self._start(message.channel, message.recipient, message.content_type))
        item = self.current
        assert item is not None
        if item.kind == "text" and self.stops and len(self.text) > self.sent:
            out.append(ItemDelta(item, self.text[self.sent :]))
        end = ItemEnd(item, message, event.stop == "incomplete")
        self.outputs.append(end)
        out.append(end)
        if item.kind == "builtin_call":
            self.last_call = item
        self.current = None
        return out

    def _finished(self, result: RunResult) -> Finished:
        error = None
        if result.stop_reason == "interrupted":
            error = APIError(
                502,
                f"the inference engine failed mid-generation: {result.error}",
                code="engine_interrupted",
            )
        stop: StopReason = result.stop_reason
        return Finished(
            FINISH_REASONS.get(stop, "stop"),
            stop,
            result.usage,
            tuple(self.outputs),
            tuple(self.issues),
            error,
            result,
        )

    def _stopped(self) -> Finished:
        backend = self.agent.backend
        usage = backend.usage if isinstance(backend, _Counted) else Usage()
        return Finished("stop", "stop_sequence", usage, tuple(self.outputs), tuple(self.issues))


def _find_stop(text: str, stops: tuple[str, ...], sent: int) -> int | None:
    """Where the first stop string starts in ``text`` (searching past what was sent)."""
    found: int | None = None
    for stop in stops:
        at = text.find(stop, max(0, sent - len(stop) + 1))
        if at != -1 and (found is None or at < found):
            found = at
    return found


def _held_back(text: str, stops: tuple[str, ...]) -> int:
    """How many trailing characters of ``text`` could begin a stop string (held back)."""
    longest = min(len(text), max(len(s) for s in stops) - 1)
    for size in range(longest, 0, -1):
        tail = text[-size:]
        if any(s.startswith(tail) for s in stops):
            return size
    return 0
