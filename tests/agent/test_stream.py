"""Streaming: the order of events, and closing or cancelling a run aborts the backend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

import harmony_agent as ha
from harmony_agent.backends import Scripted
from tests._helpers import ping

THINK_CALL = (
    "<|channel|>analysis<|message|>Ping it.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.ping <|constrain|>json"
    "<|message|>{}<|call|>"
)
FINAL = "<|channel|>final<|message|>pong it is<|return|>"


async def test_events_come_in_order() -> None:
    agent = ha.Agent(Scripted([THINK_CALL, FINAL], chunk_size=3), tools=[ping])
    events = [e async for e in agent.stream("go")]
    kinds = [e.type for e in events]
    # deltas may be split anywhere; collapse runs of them
    collapsed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    assert collapsed == [
        "message_start",
        "content_delta",
        "message_end",
        "message_start",
        "content_delta",
        "message_end",
        "tool_call_start",
        "tool_result",
        "message_start",
        "content_delta",
        "message_end",
        "run_end",
    ]
    starts = [e for e in events if isinstance(e, ha.MessageStart)]
    assert [(s.channel, s.recipient) for s in starts] == [
        ("analysis", None),
        ("commentary", "functions.ping"),
        ("final", None),
    ]
    call = next(e for e in events if isinstance(e, ha.ToolCallStart))
    answer = next(e for e in events if isinstance(e, ha.ToolResult))
    assert call.turn == answer.turn == 1
    assert answer.call == call.message and call.message.recipient == "functions.ping"
    assert [m.text for m in answer.messages] == ["pong"] and not answer.error
    text = "".join(
        e.text for e in events if isinstance(e, ha.ContentDelta) and e.channel == "final"
    )
    assert text == "pong it is"
    end = events[-1]
    assert isinstance(end, ha.RunEnd)
    assert end.result.final_text == "pong it is"
    ends = [e.message for e in events if isinstance(e, ha.MessageEnd)]
    assert [m for m in end.result.messages if m.role is ha.Role.ASSISTANT] == ends


class Hanging:
    """A backend that sends a header, then waits forever; records whether it was closed."""

    def __init__(self, encoding: ha.Encoding) -> None:
        self.encoding = encoding
        self.closed = asyncio.Event()
        self.waiting = asyncio.Event()

    async def stream(
        self, prompt_tokens: list[int], params: ha.SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        try:
            yield self.encoding.encode("<|channel|>final<|message|>Hel", allowed_special="all")
            self.waiting.set()
            await asyncio.sleep(3600)
            yield []
        finally:
            self.closed.set()


async def test_closing_the_stream_aborts_the_backend(encoding: ha.Encoding) -> None:
    backend = Hanging(encoding)
    async with aclosing(ha.Agent(backend).stream("go")) as events:
        async for event in events:
            if isinstance(event, ha.ContentDelta):
                break
    assert backend.closed.is_set()


async def test_cancelling_a_run_aborts_the_backend(encoding: ha.Encoding) -> None:
    backend = Hanging(encoding)
    task = asyncio.create_task(ha.Agent(backend).arun("go"))
    await backend.waiting.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=5)
    assert task in done and task.cancelled()
    assert backend.closed.is_set()


async def test_closing_the_stream_during_a_tool_call_ends_the_tool_session() -> None:
    exited = asyncio.Event()

    class Stateful(ha.Tool):
        namespace = ha.ToolNamespace(name="state")

        def session(self):  # type: ignore[no-untyped-def]
            tool = self

            class Session:
                async def __aenter__(self) -> ha.Tool:
                    return tool

                async def __aexit__(self, *exc: object) -> None:
                    exited.set()

            return Session()

        async def call(self, call: ha.ToolCall) -> list[ha.Message]:
            return [call.reply("ok")]

    backend = Scripted(["<|channel|>commentary to=state<|message|>x<|call|>", FINAL])
    async with aclosing(ha.Agent(backend, tools=[Stateful()]).stream("go")) as events:
        async for event in events:
            if isinstance(event, ha.ToolCallStart):
                break
    assert exited.is_set()
    assert len(backend.prompts) == 1
