"""Limits stop a run cleanly with a stop reason; odd completions never crash it."""

from __future__ import annotations

from dataclasses import FrozenInstanceError

import pytest

import harmony_agent as ha
from harmony_agent.agent import Limits
from harmony_agent.agent._turn import end_of_turn
from harmony_agent.backends import Scripted
from harmony_agent.events import MessageEnd
from harmony_agent.format import _tokens as T
from tests._helpers import ping

CALL = "<|channel|>commentary to=functions.ping <|constrain|>json<|message|>{}<|call|>"
LONG_FINAL = "<|channel|>final<|message|>" + "word " * 50 + "<|return|>"
FINAL = "<|channel|>final<|message|>Done.<|return|>"


def test_max_turns_stops_a_model_that_keeps_calling() -> None:
    backend = Scripted([CALL] * 5)
    result = ha.Agent(backend, tools=[ping], max_turns=3).run("go")
    assert result.stop_reason == "max_turns"
    assert result.turns == 3
    assert result.final_text is None
    assert len(backend.prompts) == 3
    # every call was answered; the conversation keeps the unfinished turn's messages
    assert [m.text for m in result.messages if m.role is ha.Role.TOOL] == ["pong"] * 3
    assert result.conversation.messages[-1].role is ha.Role.TOOL


def test_max_tokens_cuts_a_completion() -> None:
    backend = Scripted([LONG_FINAL])
    result = ha.Agent(backend, sampling=ha.SamplingParams(max_tokens=10)).run("go")
    assert result.stop_reason == "max_tokens"
    assert result.usage.completion_tokens == 10
    assert backend.calls[0].max_tokens == 10
    # the partial answer is kept, and the stop reason says it is partial
    assert result.final_text is not None and result.final_text.startswith("word")


def test_the_token_budget_spans_completions() -> None:
    backend = Scripted([CALL, CALL, CALL])
    per_call = len(ha.load_encoding().encode(CALL, allowed_special="all"))
    agent = ha.Agent(backend, tools=[ping], token_budget=2 * per_call + 3)
    result = agent.run("go")
    assert result.stop_reason == "token_budget"
    assert [c.max_tokens for c in backend.calls] == [2 * per_call + 3, per_call + 3, 3]
    assert result.usage.completion_tokens == 2 * per_call + 3


def test_an_exhausted_budget_stops_before_asking() -> None:
    backend = Scripted([CALL, CALL])
    per_call = len(ha.load_encoding().encode(CALL, allowed_special="all"))
    result = ha.Agent(backend, tools=[ping], token_budget=per_call).run("go")
    assert result.stop_reason == "token_budget"
    assert result.turns == 1
    assert len(backend.prompts) == 1


def test_the_context_window_caps_each_completion() -> None:
    backend = Scripted([LONG_FINAL])
    agent = ha.Agent(backend)
    prompt_length = len(
        agent.encoding.render_conversation_for_completion(agent.conversation_for("go"))
    )
    result = ha.Agent(backend, context_window=prompt_length + 8).run("go")
    assert result.stop_reason == "context_window"
    assert backend.calls[0].max_tokens == 8


def test_a_full_context_window_stops_before_asking() -> None:
    backend = Scripted([CALL, CALL])
    agent = ha.Agent(backend, tools=[ping])
    prompt_length = len(
        agent.encoding.render_conversation_for_completion(agent.conversation_for("go"))
    )
    per_call = len(agent.encoding.encode(CALL, allowed_special="all"))
    result = ha.Agent(backend, tools=[ping], context_window=prompt_length + per_call + 5).run("go")
    assert result.stop_reason == "context_window"
    assert result.turns == 1  # the tool answer filled the window


def test_a_prompt_larger_than_the_window_never_reaches_the_backend() -> None:
    backend = Scripted([FINAL])
    result = ha.Agent(backend, context_window=10).run("go")
    assert (result.stop_reason, result.turns, backend.prompts) == ("context_window", 0, [])
    assert result.messages == ()


def test_ending_the_turn_without_an_answer_is_no_final() -> None:
    backend = Scripted(["<|channel|>analysis<|message|>Hmm.<|return|>"])
    result = ha.Agent(backend).run("go")
    assert (result.stop_reason, result.final_text, result.turns) == ("no_final", None, 1)
    assert result.messages[0].text == "Hmm."


def test_an_empty_completion_is_no_final() -> None:
    result = ha.Agent(Scripted([[]])).run("go")
    assert (result.stop_reason, result.messages, result.turns) == ("no_final", (), 1)


def test_garbage_is_survived() -> None:
    backend = Scripted([[T.MESSAGE, T.END, 1, 2, 3, T.RETURN]])
    result = ha.Agent(backend).run("go")
    assert result.stop_reason == "no_final"
    assert result.turns == 1


def test_a_call_ended_with_return_ends_the_turn() -> None:
    text = CALL.removesuffix("<|call|>") + "<|return|>"
    result = ha.Agent(Scripted([text]), tools=[ping]).run("go")
    assert result.stop_reason == "no_final"
    assert not any(m.role is ha.Role.TOOL for m in result.messages)


def test_a_final_message_addressed_to_a_tool_still_reloads() -> None:
    text = "<|channel|>final to=functions.ping<|message|>{}<|call|>"
    backend = Scripted([text, FINAL])
    result = ha.Agent(backend, tools=[ping]).run("go")
    # the model broke a rule (final carries no recipient): kept as written, never a crash
    assert result.stop_reason == "final"
    assert ha.RunResult.model_validate_json(result.model_dump_json()) == result


def test_the_limits_are_one_settings_object() -> None:
    agent = ha.Agent(Scripted([]), max_turns=3, token_budget=100, tool_timeout=None)
    assert agent.limits == Limits(max_turns=3, token_budget=100, tool_timeout=None)
    assert (agent.max_turns, agent.token_budget, agent.context_window) == (3, 100, None)
    with pytest.raises(FrozenInstanceError):
        agent.limits.max_turns = 5  # type: ignore[misc]
    with pytest.raises(ValueError, match="context_window"):
        Limits(context_window=0)


def test_end_of_turn_names_what_a_completion_means(encoding: ha.Encoding) -> None:
    def end(text: str, stop: str) -> MessageEnd:
        [message] = encoding.parse_messages_from_completion_tokens(
            encoding.encode(text, allowed_special="all"), ha.Role.ASSISTANT, strict=False
        )
        return MessageEnd(0, message, stop)  # type: ignore[arg-type]

    final = end("<|channel|>final<|message|>Hi.<|return|>", "return")
    call = end("<|channel|>commentary to=functions.f<|message|>{}<|call|>", "call")
    thought = end("<|channel|>analysis<|message|>Hm.<|end|>", "end")
    ret, stop = [T.RETURN], "max_tokens"
    assert end_of_turn(final, ret, None, False, stop) == "final"
    assert end_of_turn(call, [T.CALL], None, False, stop) == "call"
    assert end_of_turn(thought, [T.END], None, False, stop) == "continue"
    assert end_of_turn(thought, ret, None, False, stop) == "no_final"
    assert end_of_turn(None, [1], None, True, "token_budget") == "token_budget"
    assert end_of_turn(None, [1], None, False, stop) == "no_final"
    cut = ha.StreamInterrupted("cut", received=1, url="http://x")
    assert end_of_turn(final, ret, cut, False, stop) == "interrupted"
