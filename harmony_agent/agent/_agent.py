"""The :class:`Agent`: a model, its tools and limits, and the ways to run it.

The loop itself is :func:`~harmony_agent.agent._loop.run_loop`. Within a run the prompt
only grows: each next prompt is the previous one, plus the tokens the model generated
exactly as generated, plus the tool answers' tokens, plus ``<|start|>assistant``. So a
server's prefix cache always hits and the model sees its own tokens. Only the newly
generated tokens are parsed. Between runs the conversation is rendered again, which drops
the chain of thought of finished turns.
"""

from __future__ import annotations

import copy
from collections.abc import AsyncGenerator, Callable, Iterable, Sequence
from typing import Any, Union

from harmony_agent.agent._aio import closing, released, run_sync
from harmony_agent.agent._backend import Backend, SamplingParams, as_backend
from harmony_agent.agent._events import AgentEvent, RunEnd
from harmony_agent.agent._limits import Limits
from harmony_agent.agent._loop import run_loop
from harmony_agent.agent._output import OutputSpec
from harmony_agent.agent._record import RecordTarget, as_recorder
from harmony_agent.agent._result import RunResult
from harmony_agent.agent._resume import ResumePolicy
from harmony_agent.agent._turn import TurnOutcome, end_of_turn
from harmony_agent.format import _tokens as T
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._messages import (
    DeveloperContent,
    Message,
    ReasoningEffort,
    Role,
    SystemContent,
)
from harmony_agent.format._render import RenderConfig
from harmony_agent.tools import Tool, as_tool
from harmony_agent.tools._base import declarations, route_table

__all__ = ["Agent", "AgentInput", "TurnOutcome", "end_of_turn", "released"]

# Kept under its former name for modules that import it from here.
_run_sync = run_sync

#: What a run starts from: a user's question, a message, or a whole conversation.
AgentInput = Union[str, Message, Conversation, Sequence[Message]]  # noqa: UP007


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
        output_type: a pydantic model, or any type pydantic can validate: the developer
            message declares its JSON Schema (``# Response Formats``), the final answer
            is parsed (a code fence or text around one JSON value is tolerated) and
            validated into ``RunResult.output``. An answer that fails goes back to the
            model as a short correction (a user message) and it answers again, within
            ``max_turns``; a run whose answers never validate ends with
            ``stop_reason="invalid_output"`` and the last error in ``RunResult.error``.
        reasoning_budget: the most ``analysis`` tokens one completion may write. Past
            it the stream is closed (which aborts an HTTP request), the loop appends
            ``<|end|><|start|>assistant<|channel|>final<|message|>`` and the model
            answers from the reasoning it has. Checked per chunk the backend delivers.
        run_reasoning_budget: the same for the whole run; once spent, every later
            completion starts on ``final``. ``RunResult.usage`` reports
            ``reasoning_tokens`` and ``forced_answers``.
        constrain_output: with ``output_type``, have the engine constrain the answer to
            its JSON Schema, the ``final`` message only, never the reasoning: once the
            model opens ``<|channel|>final<|message|>`` (or the budget forces it) the
            stream is stopped and the rest of the message requested with
            ``SamplingParams.json_schema`` (vLLM, SGLang, llama.cpp and Ollama honour it;
            other backends ignore it and the answer is validated all the same).
        record: record every run token for token, one JSON line per run: a file path
            (appended to) or a :class:`~harmony_agent.Recorder`; replay it with
            :class:`~harmony_agent.backends.Replay`.

    Backend failures: a run whose very first request fails before any token (server
    unreachable, HTTP 4xx) raises :class:`~harmony_agent.BackendError`; once the run has
    generated anything, a failure ends it with ``stop_reason="interrupted"``, the error
    in ``RunResult.error`` and the messages so far kept (the cut one marked by
    ``RunResult.incomplete``). ``run``, ``arun``, ``stream`` and ``run_many`` all do
    this alike.

    ``max_turns``, ``token_budget``, ``context_window``, ``tool_timeout`` and the reasoning
    budgets are kept together in ``agent.limits`` (a frozen
    :class:`~harmony_agent.agent.Limits`).

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
        output_type: Any = None,
        reasoning_budget: int | None = None,
        run_reasoning_budget: int | None = None,
        constrain_output: bool = False,
        record: RecordTarget = None,
    ) -> None:
        self.limits = Limits(
            max_turns=max_turns,
            token_budget=token_budget,
            context_window=context_window,
            tool_timeout=tool_timeout,
            reasoning_budget=reasoning_budget,
            run_reasoning_budget=run_reasoning_budget,
        )
        self.output_type = output_type
        self._output = None if output_type is None else OutputSpec(output_type)
        if constrain_output and self._output is None:
            raise ValueError("constrain_output=True needs an output_type to take the schema from")
        #: the JSON Schema the rest of a final message is constrained to (None: not asked)
        self._schema = (
            self._output.format.json_schema if constrain_output and self._output else None
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
        # What the loop writes to make the model answer: from inside an analysis message,
        # and at the start of a completion.
        self._final_header = [T.CHANNEL, *self.encoding.encode_ordinary("final"), T.MESSAGE]
        self._force_answer = [T.END, *self._start_assistant, *self._final_header]
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

    @property
    def reasoning_budget(self) -> int | None:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.reasoning_budget

    @property
    def run_reasoning_budget(self) -> int | None:
        """See :class:`~harmony_agent.agent.Limits`."""
        return self.limits.run_reasoning_budget

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
        """The run as events: parser events, preambles, tool calls and results, ``RunEnd``.

        Message indices in parser events count within one completion. Closing the
        generator early (``await events.aclose()``, or ``contextlib.aclosing``) aborts
        the backend request in flight.
        """
        return run_loop(self, self.conversation_for(input))

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

    def _prelude(self, system: SystemContent) -> tuple[Message, Message | None]:
        """The system and developer messages that declare the tools."""
        system = system.with_reasoning_effort(self.reasoning)
        developer = DeveloperContent(instructions=self.instructions)
        for namespace, placement in declarations(self.tools):
            if placement == "system":
                system = system.with_tools(namespace)
            else:
                developer = developer.with_tools(namespace)
        if self._output is not None:
            developer = developer.with_response_format(self._output.format)
        has_developer = (
            developer.instructions is not None
            or bool(developer.tools)
            or bool(developer.response_formats)
        )
        return (
            Message(role=Role.SYSTEM, content=system),
            Message(role=Role.DEVELOPER, content=developer) if has_developer else None,
        )
