"""The agent loop: complete, parse, call the tool, append, repeat.

Within a run the prompt only grows: each next prompt is the previous one, plus the tokens
the model generated exactly as generated, plus the tool answers' tokens, plus
``<|start|>assistant``. So a server's prefix cache always hits and the model sees its own
tokens. Only the newly generated tokens are parsed. Between runs the conversation is
rendered again, which drops the chain of thought of finished turns.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Callable,
    Iterable,
    Sequence,
)
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any, TypeVar, Union

from harmony_agent.agent._aio import Expired, closing, released, run_sync, within
from harmony_agent.agent._backend import Backend, Finish, FinishReason, SamplingParams, as_backend
from harmony_agent.agent._events import AgentEvent, RunEnd, ToolCallStart
from harmony_agent.agent._events import ToolResult as ToolResultEvent
from harmony_agent.agent._limits import Limits
from harmony_agent.agent._record import RecordTarget, as_recorder
from harmony_agent.agent._result import RunResult, StopReason, Usage
from harmony_agent.agent._resume import Resume, ResumePolicy
from harmony_agent.agent._turn import TurnOutcome, end_of_turn
from harmony_agent.errors import BackendError, ConversationError, ToolError
from harmony_agent.format import _tokens as T
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._events import Event, MessageEnd, MessageStart
from harmony_agent.format._messages import (
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
)
from harmony_agent.format._parser import StreamParser
from harmony_agent.format._render import RenderConfig, messages_to_render
from harmony_agent.format._stops import stop_token_for
from harmony_agent.tools import Tool, ToolCall, as_tool
from harmony_agent.tools._base import declarations, resolve, route_table

__all__ = ["Agent", "AgentInput", "TurnOutcome", "end_of_turn", "released"]

# Kept under its former name for modules that import it from here.
_run_sync = run_sync

logger = logging.getLogger("harmony_agent.agent")

#: What a run starts from: a user's question, a message, or a whole conversation.
AgentInput = Union[str, Message, Conversation, Sequence[Message]]  # noqa: UP007

_T = TypeVar("_T")


class Agent:
    """A gpt-oss model, a set of tools, and the loop that lets the model use them.

    Args:
        backend: a :class:`~harmony_agent.Backend` or a plain callable
            ``fn(prompt_tokens, params)`` returning token ids (see ``ha.backends``).
        tools: :class:`~harmony_agent.Tool` objects and plain functions (wrapped as
            :class:`~harmony_agent.FunctionTool` in the ``functions`` namespace).
        instructions: the developer message's ``# Instructions``.
        reasoning: reasoning effort, ``"low"``, ``"medium"`` or ``"high"``.
        max_turns: the most completions one run may ask for.
        sampling: sampling parameters of every completion; ``max_tokens`` caps each one.
        token_budget: the most tokens the model may generate in one run, all completions
            together (None: no budget).
        context_window: the model's context length; a run stops before a prompt plus
            its completion would overflow it (None: unchecked).
        tool_timeout: seconds before a tool call is abandoned and reported to the model
            as timed out (a tool's own ``timeout`` wins; None: wait forever).
        resume: what to do when a completion's stream breaks after tokens arrived
            (connection closed, read timeout, server gone): resume it from those tokens
            (``True``, the default: up to 3 times with backoff; or a
            :class:`~harmony_agent.agent.ResumePolicy`), or not (``False``). A stream that
            stays broken ends the run with ``stop_reason="interrupted"``.
        system: the system message's content (model identity, knowledge cutoff, current
            date); the agent sets its reasoning effort and the built-in tools.
        encoding: the harmony encoding (default: :func:`~harmony_agent.load_encoding`).
        render_config: how conversations are rendered between runs.
        record: record every run token for token, one JSON line per run: a file path
            (appended to) or a :class:`~harmony_agent.Recorder`; replay it with
            :class:`~harmony_agent.backends.Replay`.

    Backend failures: a run whose very first request fails before any token (server
    unreachable, HTTP 4xx) raises :class:`~harmony_agent.BackendError`; once the run has
    generated anything, a failure ends it with ``stop_reason="interrupted"``, the error
    in ``RunResult.error`` and the messages so far kept (the cut one marked by
    ``RunResult.incomplete``). ``run``, ``arun``, ``stream`` and ``run_many`` all do
    this alike.

    ``max_turns``, ``token_budget``, ``context_window`` and ``tool_timeout`` are kept
    together in ``agent.limits`` (a frozen :class:`~harmony_agent.agent.Limits`).

    The agent keeps no state between runs; one agent may serve many concurrent runs.
    The prompt list a backend receives belongs to the agent and grows after the call:
    a backend that keeps it must copy it.
    """

    def __init__(
        self,
        backend: Backend | Callable[..., Any],
        tools: Iterable[Tool | Callable[..., Any]] = (),
        *,
        instructions: str | None = None,
        reasoning: ReasoningEffort | str = ReasoningEffort.MEDIUM,
        max_turns: int = 32,
        sampling: SamplingParams | None = None,
        token_budget: int | None = None,
        context_window: int | None = None,
        tool_timeout: float | None = 300.0,
        resume: ResumePolicy | bool = True,
        system: SystemContent | None = None,
        encoding: Encoding | None = None,
        render_config: RenderConfig | None = None,
        record: RecordTarget = None,
    ) -> None:
        self.limits = Limits(
            max_turns=max_turns,
            token_budget=token_budget,
            context_window=context_window,
            tool_timeout=tool_timeout,
        )
        self.backend = as_backend(backend)
        self.tools: tuple[Tool, ...] = tuple(as_tool(t) for t in tools)
        self.instructions = instructions
        self.reasoning = ReasoningEffort(str(reasoning).lower())
        sampling = sampling or SamplingParams()
        if sampling.stop_tokens is None:
            sampling = sampling.model_copy(update={"stop_tokens": T.ACTION_STOPS})
        self.sampling = sampling
        if isinstance(resume, bool):
            resume = ResumePolicy() if resume else ResumePolicy(tries=0)
        self.resume = resume
        self.encoding = encoding or load_encoding()
        self.render_config = render_config or RenderConfig()
        self._system = system or SystemContent()
        self._routes = route_table(self.tools)
        self.system_message, self.developer_message = self._prelude(self._system)
        self._start_assistant = [T.START, *self.encoding.encode_ordinary(Role.ASSISTANT.value)]
        self._stops = frozenset(sampling.stop_tokens or ())
        self.recorder = as_recorder(record)

    def __repr__(self) -> str:
        tools = ", ".join(name for t in self.tools for name in t.names)
        return f"Agent({self.backend!r}, tools=[{tools}])"

    # The limits, also readable one by one.
    @property
    def max_turns(self) -> int:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.max_turns

    @property
    def token_budget(self) -> int | None:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.token_budget

    @property
    def context_window(self) -> int | None:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.context_window

    @property
    def tool_timeout(self) -> float | None:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.tool_timeout

    # -- public API -------------------------------------------------------------------
    def with_tools(self, tools: Iterable[Tool | Callable[..., Any]]) -> Agent:
        """A copy of this agent with other tools (declared anew), everything else shared.

        Handy to pin a tool's per-run state across runs: enter ``tool.session()`` once
        and give the agent the session, whose own ``session()`` is itself::

            async with python.session() as kernel:
                pinned = agent.with_tools([kernel])
                await pinned.arun("x = 1")
                await pinned.arun("print(x)")  # the same kernel
        """
        clone = copy.copy(self)
        clone.tools = tuple(as_tool(t) for t in tools)
        clone._routes = route_table(clone.tools)
        clone.system_message, clone.developer_message = clone._prelude(self._system)
        return clone

    def run(self, input: AgentInput) -> RunResult:
        """Run until the model answers or a limit is reached (blocking; see :meth:`arun`).

        Raises:
            RuntimeError: called while this thread runs an event loop (a notebook cell,
                an async function): ``await agent.arun(input)`` there instead.
        """
        return run_sync(
            lambda: released(self.backend, self.arun(input)),
            entry="Agent.run",
            instead="agent.arun",
        )

    async def arun(self, input: AgentInput) -> RunResult:
        """Run until the model answers or a limit is reached.

        ``input`` is a question, a message, or a conversation to continue (such as a
        previous result's ``conversation`` with a new user message appended). A
        conversation without a system message gets the agent's system and developer
        messages; one with its own is used as it is.
        """
        async with closing(self.stream(input)) as events:
            async for event in events:
                if isinstance(event, RunEnd):
                    result: RunResult = event.result
                    return result
        raise AssertionError("the agent loop ended without a RunEnd event")  # pragma: no cover

    def stream(self, input: AgentInput) -> AsyncGenerator[AgentEvent, None]:
        """The run as events: the parser's events, tool calls and results, then ``RunEnd``.

        Message indices in parser events count within one completion. Closing the
        generator early (``await events.aclose()``, or ``contextlib.aclosing``) aborts
        the backend request in flight.
        """
        return self._loop(self.conversation_for(input))

    def conversation_for(self, input: AgentInput) -> Conversation:
        """The conversation a run of ``input`` starts from (system and developer added).

        A :class:`~harmony_agent.Conversation` is taken as it is (it was checked when it
        was built); messages in a list are checked here.
        """
        if isinstance(input, str):
            messages: Sequence[Message] = (Message.user(input),)
        elif isinstance(input, Message):
            messages = (input,)
        elif isinstance(input, Conversation):
            messages = input.messages
        else:
            messages = tuple(input)
        head: list[Message] = []
        if not messages or messages[0].role is not Role.SYSTEM:
            head.append(self.system_message)
            if self.developer_message is not None and not (
                messages and messages[0].role is Role.DEVELOPER
            ):
                head.append(self.developer_message)
        if isinstance(input, Conversation):
            return input if not head else Conversation.unchecked([*head, *messages])
        return Conversation([*head, *messages])

    # -- the loop ---------------------------------------------------------------------
    async def _loop(self, start: Conversation) -> AsyncGenerator[AgentEvent, None]:
        encoding, parser = self.encoding, StreamParser(self.encoding)
        prompt = encoding.render_conversation_for_completion(
            start, Role.ASSISTANT, self.render_config
        )
        new: list[Message] = []
        prompt_tokens = completion_tokens = turns = resumes = tool_errors = 0
        stop: StopReason | None = None
        error: BackendError | None = None
        ends: list[MessageEnd] = []  # the messages of the latest completion
        tape = None if self.recorder is None else self.recorder.start(self, start)

        async with self._sessions() as tools:
            while stop is None:
                if turns == self.limits.max_turns:
                    stop = "max_turns"
                    break
                params, limited_by = self._params(len(prompt), completion_tokens)
                if params is None:
                    stop = limited_by
                    break
                turns += 1

                # 1. One completion, parsed as it streams; resumed where it breaks.
                parser.reset()
                generated: list[int] = []
                ends = []
                open_start: MessageStart | None = None
                finish: FinishReason | None = None
                resume = Resume(self.resume, prompt, params)
                attempt: tuple[list[int], SamplingParams] | None = (prompt, params)
                while attempt is not None:
                    try:
                        async with closing(self.backend.stream(*attempt)) as chunks:
                            async for chunk in chunks:
                                if isinstance(chunk, Finish):
                                    finish = chunk.reason
                                generated += chunk
                                for event in parser.feed(chunk):
                                    if isinstance(event, MessageStart):
                                        open_start = event
                                    elif isinstance(event, MessageEnd):
                                        ends.append(event)
                                        open_start = None
                                    yield event
                        break
                    except BackendError as exc:
                        try:
                            attempt = resume.after(exc, generated)
                        except BackendError as final:
                            if not generated and completion_tokens == 0:
                                raise  # the run produced nothing: the caller's error
                            error = final
                            break
                    if attempt is None:
                        finish = "length"  # it broke with max_tokens used up
                    else:
                        logger.warning(
                            "turn %d: resuming the completion (resume %d): %s",
                            turns, resume.resumes, resume.cut,
                        )  # fmt: skip
                        await resume.wait()
                if tape is not None:
                    tape.completion(prompt, params, generated, finish, error)
                resumes += resume.resumes
                truncated = finish == "length" or len(generated) >= params.max_tokens
                tail: list[Event] = []  # events of a restored stop token
                if (
                    error is None
                    and open_start is not None
                    and not truncated
                    and generated[-1] not in self._stops
                ):
                    # The engine stripped the stop token: restore the one the model wrote.
                    # (The only place that does; adapters add only a stop the engine named.)
                    stop_token = stop_token_for(open_start.recipient)
                    generated.append(stop_token)
                    tail = parser.feed(stop_token)
                prompt_tokens += len(prompt)
                completion_tokens += len(
                    generated
                )  # a restored stop token counts: the model made it
                for event in tail + parser.finish():
                    if isinstance(event, MessageEnd):
                        ends.append(event)
                    yield event
                new += (end.message for end in ends)
                prompt += generated

                # 2. What the completion means: an answer, a call, more thinking, or a cut.
                last = ends[-1] if ends else None
                outcome = end_of_turn(last, generated, error, truncated, limited_by)
                if outcome == "call":
                    # 3. The model called a tool: answer it and let the model go on.
                    assert last is not None
                    yield ToolCallStart(last.message, turns)
                    replies, failed = await self._call(tools, last.message)
                    tool_errors += failed
                    yield ToolResultEvent(last.message, replies, failed, turns)
                    if tape is not None:
                        tape.tool(last.message, replies, failed)
                    new += replies
                    for reply in replies:
                        prompt += encoding.render(reply)
                    prompt += self._start_assistant
                elif outcome == "continue":
                    prompt += self._start_assistant  # a message ended with <|end|>: go on
                else:
                    stop = outcome
        incomplete = bool(ends) and ends[-1].stop == "incomplete"

        usage = Usage(
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, resumes=resumes
        )
        assert stop is not None  # the loop ends only once it has a reason
        result = self._result(start, new, stop, usage, turns, incomplete, error)
        if tool_errors:
            result = result.model_copy(update={"tool_errors": tool_errors})
        if tape is not None:
            tape.end(result, prompt)
        yield RunEnd(result)

    # -- pieces of the loop -------------------------------------------------------------
    def _params(
        self, prompt_length: int, generated: int
    ) -> tuple[SamplingParams | None, StopReason]:
        """This completion's parameters (None: no room left), and the limit that binds."""
        limit = self.sampling.max_tokens
        reason: StopReason = "max_tokens"
        budget, window = self.limits.token_budget, self.limits.context_window
        if budget is not None and budget - generated < limit:
            limit, reason = budget - generated, "token_budget"
        if window is not None and window - prompt_length < limit:
            limit, reason = window - prompt_length, "context_window"
        if limit <= 0:
            return None, reason
        if limit == self.sampling.max_tokens:
            return self.sampling, reason
        return self.sampling.model_copy(update={"max_tokens": limit}), reason

    async def _call(
        self, tools: Sequence[Tool], message: Message
    ) -> tuple[tuple[Message, ...], bool]:
        """Run one tool call; every failure becomes an error answer to the model."""
        call = ToolCall.from_message(message)
        index = resolve(self._routes, call.recipient)
        if index is None:
            logger.info("the model called an unknown tool %r", call.recipient)
            known = ", ".join(self._routes) or "none"
            return (call.error(f"no tool is called {call.recipient!r}. Tools: {known}."),), True
        tool = tools[index]
        timeout = tool.timeout if tool.timeout is not None else self.limits.tool_timeout
        try:
            replies = await within(timeout, tool.call(call))
        except ToolError as exc:
            logger.info("tool %s answered an error: %s", call.recipient, exc)
            return (call.error(str(exc)),), True
        except Expired:
            logger.warning("tool %s did not answer within %g s", call.recipient, timeout)
            return (
                call.error(
                    f"{call.recipient} did not answer within {timeout:g} seconds and was "
                    "stopped. Try a smaller request or another approach."
                ),
            ), True
        except Exception as exc:
            logger.warning("tool %s raised; the model is told", call.recipient, exc_info=True)
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return (call.error(f"{call.recipient} failed with {detail}"),), True
        if isinstance(replies, str):
            return (call.reply(replies),), False
        return tuple(replies), False

    @asynccontextmanager
    async def _sessions(self) -> AsyncIterator[list[Tool]]:
        """Each tool's per-run session (most tools: the tool itself)."""
        if not self.tools:
            yield []
            return
        async with AsyncExitStack() as stack:
            yield [await stack.enter_async_context(t.session()) for t in self.tools]

    def _result(
        self,
        start: Conversation,
        new: list[Message],
        stop: StopReason,
        usage: Usage,
        turns: int,
        incomplete: bool,
        error: BackendError | None,
    ) -> RunResult:
        shown = messages_to_render((*start.messages, *new), self.render_config)
        try:
            conversation = Conversation(shown)
        except ConversationError:  # the model broke a rule; keep what it wrote
            conversation = Conversation.unchecked(shown)
        final = None
        if error is None:  # a cut answer is never the answer
            final = next(
                (
                    m.text
                    for m in reversed(new)
                    if m.role is Role.ASSISTANT and m.channel == "final"
                ),
                None,
            )
        return RunResult(
            final_text=final,
            messages=tuple(new),
            conversation=conversation,
            stop_reason=stop,
            usage=usage,
            turns=turns,
            incomplete=incomplete,
            error=None if error is None else str(error),
        )

    def _prelude(self, system: SystemContent) -> tuple[Message, Message | None]:
        """The system and developer messages that declare the tools."""
        system = system.with_reasoning_effort(self.reasoning)
        developer = DeveloperContent(instructions=self.instructions)
        for namespace, placement in declarations(self.tools):
            if placement == "system":
                system = system.with_tools(namespace)
            else:
                developer = developer.with_tools(namespace)
        has_developer = developer.instructions is not None or bool(developer.tools)
        return (
            Message(role=Role.SYSTEM, content=system),
            Message(role=Role.DEVELOPER, content=developer) if has_developer else None,
        )
