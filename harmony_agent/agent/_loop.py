"""One run of the agent loop: complete, parse, call the tool, append, repeat.

:func:`run_loop` is what :meth:`Agent.stream <harmony_agent.Agent.stream>` returns. Within
a run the prompt only grows (see :mod:`harmony_agent.agent._agent`); only the newly
generated tokens are parsed. The pieces below it choose a completion's parameters, run
one tool call (every failure becomes an answer to the model), open the tools' per-run
sessions and build the :class:`~harmony_agent.RunResult`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._aio import Expired, closing, within
from harmony_agent.agent._backend import Finish, FinishReason, SamplingParams
from harmony_agent.agent._events import AgentEvent, RunEnd, ToolCallStart, preamble_for
from harmony_agent.agent._events import ToolResult as ToolResultEvent
from harmony_agent.agent._output import opens_answer
from harmony_agent.agent._reasoning import analysis_tokens, meter_for
from harmony_agent.agent._result import RunResult, StopReason, Usage
from harmony_agent.agent._resume import Resume
from harmony_agent.agent._turn import book, end_of_turn, handed_back
from harmony_agent.errors import BackendError, ConversationError, ToolError
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._events import Event, MessageEnd, MessageStart
from harmony_agent.format._messages import Message, Role
from harmony_agent.format._parser import StreamParser
from harmony_agent.format._render import messages_to_render
from harmony_agent.format._stops import stop_token_for
from harmony_agent.tools import Tool, ToolCall
from harmony_agent.tools._base import resolve

if TYPE_CHECKING:
    from harmony_agent.agent._agent import Agent

__all__ = ["run_loop"]

logger = logging.getLogger("harmony_agent.agent")


async def run_loop(agent: Agent, start: Conversation) -> AsyncGenerator[AgentEvent, None]:
    """Run ``agent`` from ``start``: every parser and agent event, then ``RunEnd``."""
    encoding, parser = agent.encoding, StreamParser(agent.encoding)
    prompt = encoding.render_conversation_for_completion(start, Role.ASSISTANT, agent.render_config)
    new: list[Message] = []
    prompt_tokens = completion_tokens = turns = resumes = tool_errors = 0
    reasoning_tokens = forced_answers = 0
    stop: StopReason | None = None
    error: BackendError | None = None
    ends: list[MessageEnd] = []  # the messages of the latest completion
    tape = None if agent.recorder is None else agent.recorder.start(agent, start)
    output: Any = None
    invalid: str | None = None  # why the latest answer did not validate

    async with _sessions(agent) as tools:
        while stop is None:
            if turns == agent.limits.max_turns:
                stop = "max_turns" if invalid is None else "invalid_output"
                break
            params, limited_by = _params(agent, len(prompt), completion_tokens)
            if params is None:
                stop = limited_by
                break
            turns += 1

            # 1. One completion, parsed as it streams; resumed where it breaks.
            parser.reset()
            generated: list[int] = []
            ends = []
            marks: list[Event] = []  # message starts and ends, to count reasoning
            open_start: MessageStart | None = None
            finish: FinishReason | None = None
            meter, answer_now = meter_for(agent.limits, reasoning_tokens)
            lead = agent._final_header if answer_now else []
            written = len(lead)  # tokens in ``generated`` the loop wrote itself
            watch = agent._schema is not None  # constrain the final message once it opens
            switch = False  # the final message opened: constrain the rest of it
            if lead:  # the run's reasoning budget is spent: the answer starts now
                forced_answers += 1
                generated += lead
                for event in parser.feed(lead):
                    open_start = book(event, ends, marks, open_start)
                    yield event
                if watch:  # the answer is all that is left: constrain all of it
                    params = params.model_copy(update={"json_schema": agent._schema})
                    watch = False
            sent = len(lead)  # tokens of ``generated`` the request's prompt holds
            resume = Resume(agent.resume, [*prompt, *lead] if lead else prompt, params)
            attempt: tuple[list[int], SamplingParams] | None = resume.prompt, params
            while attempt is not None:
                try:
                    async with closing(agent.backend.stream(*attempt)) as chunks:
                        async for chunk in chunks:
                            if isinstance(chunk, Finish):
                                finish = chunk.reason
                            generated += chunk
                            events = parser.feed(chunk)
                            for event in events:
                                yield event
                                if isinstance(event, MessageStart):
                                    open_start = event
                                    marks.append(event)
                                    if watch:
                                        switch = opens_answer(event)
                                elif isinstance(event, MessageEnd):
                                    ends.append(event)
                                    marks.append(event)
                                    open_start = None
                                    switch = False
                                    if (preamble := preamble_for(event, turns)) is not None:
                                        yield preamble
                            if switch or (meter is not None and meter.over(chunk, events)):
                                break  # closing the stream aborts the request
                        else:
                            break  # the completion is complete
                except BackendError as exc:
                    try:
                        attempt = resume.after(exc, generated[sent:] if sent else generated)
                    except BackendError as final:
                        if len(generated) == written and completion_tokens == 0:
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
                    continue
                # 1b. The stream was stopped: the analysis ran past the reasoning budget
                # (end it and answer now), or the answer began (constrain the rest).
                if not switch:
                    meter = None
                    forced_answers += 1
                    logger.info("turn %d: reasoning budget spent, forcing the answer", turns)
                    generated += agent._force_answer
                    written += len(agent._force_answer)
                    for event in parser.feed(agent._force_answer):
                        open_start = book(event, ends, marks, open_start)
                        yield event
                left = params.max_tokens - (len(generated) - written)
                changes: dict[str, Any] = {"max_tokens": left}
                if watch:
                    changes["json_schema"] = agent._schema
                watch = switch = False
                attempt = None
                resumes += resume.resumes
                if left > 0:
                    rest = params.model_copy(update=changes)
                    resume = Resume(agent.resume, [*prompt, *generated], rest)
                    attempt, sent = (resume.prompt, rest), len(generated)
                else:
                    resume = Resume(agent.resume, prompt, params)  # nothing to resume
                    finish = "length"
            if tape is not None:
                tape.completion(prompt, params, generated, finish, error)
            resumes += resume.resumes
            model_tokens = len(generated) - written
            truncated = finish == "length" or model_tokens >= params.max_tokens
            tail: list[Event] = []  # events of a restored stop token
            if (
                error is None
                and open_start is not None
                and not truncated
                and generated[-1] not in agent._stops
            ):
                # The engine stripped the stop token: restore the one the model wrote.
                # (The only place that does; adapters add only a stop the engine named.)
                stop_token = stop_token_for(open_start.recipient)
                generated.append(stop_token)
                tail = parser.feed(stop_token)
                model_tokens += 1  # a restored stop token counts: the model made it
            prompt_tokens += len(prompt)
            completion_tokens += model_tokens
            for event in tail + parser.finish():
                open_start = book(event, ends, marks, open_start)
                yield event
                if (preamble := preamble_for(event, turns)) is not None:
                    yield preamble
            reasoning_tokens += analysis_tokens(generated, marks)[0]
            new += (end.message for end in ends)
            prompt += generated

            # 2. What the completion means: an answer, a call, more thinking, or a cut.
            last = ends[-1] if ends else None
            outcome = end_of_turn(last, generated, error, truncated, limited_by)
            if outcome == "call" and handed_back(agent.tools, agent._routes, last):
                stop = "tool_call"  # a client-side tool: the caller runs it
            elif outcome == "call":
                # 3. The model called a tool: answer it and let the model go on.
                assert last is not None
                yield ToolCallStart(last.message, turns)
                replies, failed = await _call(agent, tools, last.message)
                tool_errors += failed
                yield ToolResultEvent(last.message, replies, failed, turns)
                if tape is not None:
                    tape.tool(last.message, replies, failed)
                new += replies
                for reply in replies:
                    prompt += encoding.render(reply)
                prompt += agent._start_assistant
            elif outcome == "continue":
                prompt += agent._start_assistant  # a message ended with <|end|>: go on
            elif outcome == "final" and agent._output is not None:
                # 4. A typed answer: validate it, or tell the model what to fix.
                assert last is not None
                output, invalid = agent._output.parse(last.message.text)
                if invalid is None:
                    stop = "final"
                else:
                    logger.info("turn %d: the answer did not validate: %s", turns, invalid)
                    new.append(Message.user(invalid))
                    prompt = encoding.render_conversation_for_completion(
                        Conversation.unchecked([*start.messages, *new]),
                        Role.ASSISTANT,
                        agent.render_config,
                    )
            else:
                stop = outcome
    incomplete = bool(ends) and ends[-1].stop == "incomplete"

    usage = Usage(
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        resumes=resumes,
        reasoning_tokens=reasoning_tokens,
        forced_answers=forced_answers,
    )
    assert stop is not None  # the loop ends only once it has a reason
    result = _result(agent, start, new, stop, usage, turns, incomplete, error)
    update: dict[str, Any] = {}
    if tool_errors:
        update["tool_errors"] = tool_errors
    if output is not None and invalid is None:
        update["output"] = output
    if stop == "invalid_output":
        update["error"] = invalid
    if update:
        result = result.model_copy(update=update)
    if tape is not None:
        tape.end(result, prompt)
    yield RunEnd(result)


# -- pieces of the loop -------------------------------------------------------------
def _params(
    agent: Agent, prompt_length: int, generated: int
) -> tuple[SamplingParams | None, StopReason]:
    """This completion's parameters (None: no room left), and the limit that binds."""
    limit = agent.sampling.max_tokens
    reason: StopReason = "max_tokens"
    budget, window = agent.limits.token_budget, agent.limits.context_window
    if budget is not None and budget - generated < limit:
        limit, reason = budget - generated, "token_budget"
    if window is not None and window - prompt_length < limit:
        limit, reason = window - prompt_length, "context_window"
    if limit <= 0:
        return None, reason
    if limit == agent.sampling.max_tokens:
        return agent.sampling, reason
    return agent.sampling.model_copy(update={"max_tokens": limit}), reason


async def _call(
    agent: Agent, tools: Sequence[Tool], message: Message
) -> tuple[tuple[Message, ...], bool]:
    """Run one tool call; every failure becomes an error answer to the model."""
    call = ToolCall.from_message(message)
    index = resolve(agent._routes, call.recipient)
    if index is None:
        logger.info("the model called an unknown tool %r", call.recipient)
        known = ", ".join(agent._routes) or "none"
        return (call.error(f"no tool is called {call.recipient!r}. Tools: {known}."),), True
    tool = tools[index]
    timeout = tool.timeout if tool.timeout is not None else agent.limits.tool_timeout
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
async def _sessions(agent: Agent) -> AsyncIterator[list[Tool]]:
    """Each tool's per-run session (most tools: the tool itself)."""
    if not agent.tools:
        yield []
        return
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(t.session()) for t in agent.tools]


def _result(
    agent: Agent,
    start: Conversation,
    new: list[Message],
    stop: StopReason,
    usage: Usage,
    turns: int,
    incomplete: bool,
    error: BackendError | None,
) -> RunResult:
    shown = messages_to_render((*start.messages, *new), agent.render_config)
    try:
        conversation = Conversation(shown)
    except ConversationError:  # the model broke a rule; keep what it wrote
        conversation = Conversation.unchecked(shown)
    final = None
    if error is None:  # a cut answer is never the answer
        final = next(
            (m.text for m in reversed(new) if m.role is Role.ASSISTANT and m.channel == "final"),
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
