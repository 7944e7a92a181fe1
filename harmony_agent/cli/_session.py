"""A conversation with a model server, shared by ``chat`` and ``run``.

:class:`Session` keeps the messages so far, rebuilds the agent when the reasoning
effort or the tools change, and shows each run as it streams: the answer on stdout,
reasoning (when asked for), tool calls and tool answers on stderr.

A session runs every turn on one event loop of its own and keeps each built-in tool's
per-run state (the python kernel, the browser's pages) for the whole conversation:
what the model computed or opened in one turn is still there in the next. ``/new``
starts them afresh.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING

from typing_extensions import assert_never

from harmony_agent.cli import _setup
from harmony_agent.cli._console import Output
from harmony_agent.cli._io import load_conversation, save_conversation
from harmony_agent.events import (
    AgentEvent,
    ContentDelta,
    MessageEnd,
    MessageStart,
    ParseIssue,
    Preamble,
    RunEnd,
    ToolCallStart,
    ToolResult,
)
from harmony_agent.format import Conversation, DeveloperContent, Message, Role, SystemContent
from harmony_agent.format._visible import VisibleTextFilter

if TYPE_CHECKING:
    from harmony_agent.agent import Agent, RunResult
    from harmony_agent.tools import Tool

__all__ = ["Session", "one_line"]

_PRELUDE = (Role.SYSTEM, Role.DEVELOPER)


def one_line(text: str, limit: int = 160) -> str:
    """``text`` on one line, cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


class Session:
    """The state of a chat: options, tools, messages; one agent per configuration.

    Args:
        args: the parsed ``chat``/``run`` options (see :func:`_setup.add_agent_arguments`).
        out: where to show the runs.
    """

    def __init__(self, args: argparse.Namespace, out: Output) -> None:
        self.args = args
        self.out = out
        self.backend = _setup.build_backend(args)
        self.effort: str = args.reasoning or "medium"
        self.instructions: str | None = args.instructions
        self.show_reasoning: bool = args.show_reasoning
        self.tool_names: tuple[str, ...] = ()
        self.tools: list[Tool] = []
        self.history: list[Message] = []  # without the system and developer messages
        self.conversation: Conversation | None = None  # the last full conversation
        self._agent: Agent | None = None
        self._loop = asyncio.new_event_loop()  # every turn runs here: clients and tool
        self._sessions: dict[int, tuple[Tool, AsyncExitStack]] = {}  # state persists
        self.set_tools(args.tools)

    # -- configuration ------------------------------------------------------------------
    def set_tools(self, names: Sequence[str]) -> None:
        """Turn on exactly the built-in tools ``names`` (starting any that are new)."""
        names = tuple(names)
        if names == self.tool_names:
            return
        running = dict(zip(self.tool_names, self.tools, strict=True))
        kept = {n: t for n, t in running.items() if n in names}
        new = _setup.build_tools([n for n in names if n not in kept])  # may fail: keep all
        dropped = [t for n, t in running.items() if n not in names]
        self._end_sessions(dropped)
        _setup.close_tools(dropped)
        fresh = iter(new)
        self.tools = [kept[n] if n in kept else next(fresh) for n in names]
        self.tool_names = names
        self._agent = None

    def set_effort(self, effort: str) -> None:
        """Change the reasoning effort for the next answers."""
        self.effort = effort
        self._agent = None

    def agent(self) -> Agent:
        """The agent for the current effort, instructions and tools."""
        if self._agent is None:
            self._agent = _setup.build_agent(
                self.args,
                self.backend,
                self.tools,
                reasoning=self.effort,
                instructions=self.instructions,
            )
        return self._agent

    async def _tool_sessions(self) -> list[Tool]:
        """Each tool's session for this conversation, entered the first time it is asked."""
        for tool in self.tools:
            if id(tool) not in self._sessions:
                stack = AsyncExitStack()
                entered = await stack.enter_async_context(tool.session())
                self._sessions[id(tool)] = (entered, stack)
        return [self._sessions[id(tool)][0] for tool in self.tools]

    def _end_sessions(self, tools: Sequence[Tool]) -> None:
        """Close the sessions of ``tools`` (their state is gone)."""
        for tool in tools:
            entry = self._sessions.pop(id(tool), None)
            if entry is not None:
                self._loop.run_until_complete(entry[1].aclose())

    # -- transcripts ------------------------------------------------------------------
    def load(self, path: str) -> int:
        """Continue the conversation in ``path``; returns how many messages it had.

        Its instructions and reasoning effort are taken over unless ``--instructions``
        or ``--reasoning`` say otherwise.
        """
        conversation = load_conversation(path)
        system, developer = conversation.system, conversation.developer
        content = system.content if system is not None else None
        effort = content.reasoning_effort if isinstance(content, SystemContent) else None
        if effort is not None and self.args.reasoning is None:
            self.set_effort(effort.value)
        if developer is not None and self.args.instructions is None:
            body = developer.content
            self.instructions = body.instructions if isinstance(body, DeveloperContent) else None
            if isinstance(body, str):
                self.instructions = body
            self._agent = None
        self.history = [m for m in conversation if m.role not in _PRELUDE]
        self.conversation = conversation
        return len(conversation)

    def save(self, path: str) -> int:
        """Write the conversation so far to ``path``; returns how many messages it has."""
        conversation = self.conversation or self.agent().conversation_for(
            Conversation.unchecked(self.history)
        )
        save_conversation(conversation, path)
        return len(conversation)

    def clear(self) -> None:
        """Start a new conversation (and new tool state)."""
        self.history = []
        self.conversation = None
        self._end_sessions(self.tools)

    # -- asking -------------------------------------------------------------------------
    def ask(self, text: str | None, *, stream: bool = True) -> RunResult:
        """Send ``text`` as the next user message (None: answer the conversation as it
        is) and show the run; the conversation grows only when the run finishes."""
        messages = [*self.history] + ([Message.user(text)] if text is not None else [])
        result = self._loop.run_until_complete(self._ask(Conversation.unchecked(messages), stream))
        self.conversation = result.conversation
        self.history = [m for m in result.conversation if m.role not in _PRELUDE]
        return result

    async def _ask(self, conversation: Conversation, stream: bool) -> RunResult:
        agent = self.agent()
        start = time.perf_counter()
        try:
            # the conversation's own tool sessions: the agent's per-run sessions of
            # these are the sessions themselves, so their state outlives the turn
            pinned = agent.with_tools(await self._tool_sessions())
            result = await self.show(pinned.stream(conversation), stream=stream)
        finally:
            self.out.stop_spinner()
        if self.out.interactive:
            usage = result.usage
            self.out.note(
                f"({result.turns} completion(s), {usage.prompt_tokens} prompt + "
                f"{usage.completion_tokens} generated tokens, "
                f"{time.perf_counter() - start:.1f} s, stop: {result.stop_reason})"
            )
        return result

    async def show(self, events: AsyncIterator[AgentEvent], *, stream: bool = True) -> RunResult:
        """Show a run's events as they come; returns its result."""
        out, visible = self.out, VisibleTextFilter()
        shown = False
        out.spinner("thinking…")
        async for event in events:
            if isinstance(event, ContentDelta):
                text = visible.feed(event)
                if text and stream:
                    out.write(text)
                    shown = True
                elif self.show_reasoning and event.channel == "analysis":
                    out.side(event.text)
            elif isinstance(event, MessageStart):
                visible.feed(event)
                if self.show_reasoning and event.channel == "analysis":
                    out.side("thinking: ", style="dim italic")
            elif isinstance(event, MessageEnd):
                text = visible.feed(event)
                if text and stream:
                    out.write(text)
                    shown = True
                if self.show_reasoning and event.message.channel == "analysis":
                    out.side("\n")
            elif isinstance(event, ToolCallStart):
                call = event.message
                out.note(f"→ {call.recipient} {one_line(call.text)}", style="cyan")
                out.spinner(f"running {call.recipient}…")
            elif isinstance(event, ToolResult):
                for answer in event.messages:
                    style = "red" if event.error else "dim"
                    out.note(f"← {answer.name}: {one_line(answer.text)}", style=style)
                out.spinner("thinking…")
            elif isinstance(event, RunEnd):
                result: RunResult = event.result
                if shown:
                    out.write("\n")
                return result
            elif not isinstance(event, ParseIssue | Preamble):
                # (issues stay in the result; a preamble's text came with its deltas)
                assert_never(event)
        raise AssertionError("the run ended without a RunEnd event")  # pragma: no cover

    def close(self) -> None:
        """End the tool sessions, stop the tools, close the backend and the event loop."""
        try:
            self._end_sessions(self.tools)
            close = getattr(self.backend, "aclose", None)
            if close is not None:
                self._loop.run_until_complete(close())
        finally:
            _setup.close_tools(self.tools)
            self.tools, self.tool_names = [], ()
            self._loop.close()
