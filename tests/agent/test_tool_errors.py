"""Failures the model can recover from become tool answers, and the run goes on."""

from __future__ import annotations

import asyncio
import logging

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted

FINAL = "<|channel|>final<|message|>OK.<|return|>"


def call(recipient: str, arguments: str) -> str:
    return f"<|channel|>commentary to={recipient} <|constrain|>json<|message|>{arguments}<|call|>"


@ha.tool
def divide(a: float, b: float) -> float:
    """Divide a by b."""
    return a / b


async def answers(agent: ha.Agent) -> list[ha.events.ToolResult]:
    results = []
    async for event in agent.stream("go"):
        if isinstance(event, ha.ToolResult):
            results.append(event)
        elif isinstance(event, ha.RunEnd):
            assert event.result.stop_reason == "final"
    return results


async def test_invalid_arguments_are_answered_with_what_to_fix() -> None:
    backend = Scripted([call("functions.divide", '{"a": 1}'), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[divide]))
    assert result.error
    (message,) = result.messages
    assert message.name == "functions.divide"
    assert message.text == (
        "Error: invalid arguments for functions.divide:\n"
        "- b: missing required argument\n"
        "Parameters: a (required), b (required).\n"
        "Fix the arguments and call functions.divide again."
    )


async def test_bad_json_is_answered() -> None:
    backend = Scripted([call("functions.divide", '{"a": 1, "b": '), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[divide]))
    assert result.error
    assert result.messages[0].text.startswith(
        "Error: arguments for functions.divide are not valid JSON"
    )


async def test_a_corrected_call_succeeds_after_an_error() -> None:
    backend = Scripted(
        [
            call("functions.divide", '{"a": "x", "b": 2}'),
            call("functions.divide", '{"a": 6, "b": 2}'),
            FINAL,
        ]
    )
    first, second = await answers(ha.Agent(backend, tools=[divide]))
    assert first.error and "valid number" in first.messages[0].text
    assert not second.error and second.messages[0].text == "3.0"


async def test_unknown_recipients_are_answered_with_the_tools_there_are() -> None:
    backend = Scripted([call("functions.multiply", "{}"), call("browser.search", "{}"), FINAL])
    first, second = await answers(ha.Agent(backend, tools=[divide]))
    assert first.error and second.error
    assert first.messages[0].name == "functions.multiply"
    assert first.messages[0].text == (
        "Error: no tool is called 'functions.multiply'. Tools: functions.divide."
    )
    assert second.messages[0].name == "browser.search"


async def test_a_bare_function_name_is_routed_when_unambiguous() -> None:
    backend = Scripted([call("divide", '{"a": 1, "b": 4}'), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[divide]))
    assert not result.error
    assert result.messages[0].name == "divide"  # answered as it was addressed
    assert result.messages[0].text == "0.25"


async def test_an_exception_in_a_tool_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    """The model gets the error; the developer gets a WARNING with the traceback."""
    backend = Scripted([call("functions.divide", '{"a": 1, "b": 0}'), FINAL])
    with caplog.at_level(logging.WARNING, logger="harmony_agent.agent"):
        (result,) = await answers(ha.Agent(backend, tools=[divide]))
    assert result.error
    assert result.messages[0].text == (
        "Error: functions.divide failed with ZeroDivisionError: float division by zero"
    )
    [record] = caplog.records
    assert record.levelno == logging.WARNING and "functions.divide raised" in record.message
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


async def test_tool_errors_are_counted_in_the_result() -> None:
    backend = Scripted(
        [
            call("functions.divide", '{"a": 1, "b": 0}'),  # raises
            call("functions.divide", '{"a": "x"}'),  # invalid arguments
            call("functions.nope", "{}"),  # unknown tool
            call("functions.divide", '{"a": 1, "b": 4}'),  # fine
            FINAL,
        ]
    )
    result = await ha.Agent(backend, tools=[divide]).arun("q")
    assert (result.stop_reason, result.tool_errors) == ("final", 3)
    assert ha.RunResult.model_validate_json(result.model_dump_json()).tool_errors == 3


async def test_a_tool_that_takes_too_long_is_stopped() -> None:
    cancelled = asyncio.Event()

    @ha.tool(timeout=0.05)
    async def slow() -> str:
        try:
            await asyncio.sleep(30)
        finally:
            cancelled.set()
        return "never"

    backend = Scripted([call("functions.slow", "{}"), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[slow], tool_timeout=None))
    assert result.error
    assert result.messages[0].text == (
        "Error: functions.slow did not answer within 0.05 seconds and was stopped. "
        "Try a smaller request or another approach."
    )
    assert cancelled.is_set()


async def test_the_agent_tool_timeout_applies_when_the_tool_has_none() -> None:
    @ha.tool
    async def slow() -> str:
        await asyncio.sleep(30)
        return "never"

    backend = Scripted([call("functions.slow", "{}"), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[slow], tool_timeout=0.05))
    assert "within 0.05 seconds" in result.messages[0].text


async def test_a_timeout_error_raised_by_the_tool_itself_is_not_a_timeout() -> None:
    @ha.tool
    async def fetch() -> str:
        raise TimeoutError("upstream did not answer")

    backend = Scripted([call("functions.fetch", "{}"), FINAL])
    (result,) = await answers(ha.Agent(backend, tools=[fetch], tool_timeout=10))
    assert result.messages[0].text == (
        "Error: functions.fetch failed with TimeoutError: upstream did not answer"
    )


async def test_the_tool_answers_join_the_conversation() -> None:
    backend = Scripted([call("functions.multiply", "{}"), FINAL])
    result = await ha.Agent(backend, tools=[divide]).arun("go")
    assert [m.role for m in result.conversation][-3:] == [
        ha.Role.ASSISTANT,
        ha.Role.TOOL,
        ha.Role.ASSISTANT,
    ]
    assert result.stop_reason == "final"
