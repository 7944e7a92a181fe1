"""The agent loop on scripted episodes: prompts, messages, results, multi-turn conversations."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import harmony_agent as ha
from harmony_agent.backends import Scripted
from harmony_agent.format import _tokens as T
from tests._helpers import tokens

THINK = "<|channel|>analysis<|message|>The user wants a sum. Call add.<|end|>"
CALL = (
    "<|start|>assistant<|channel|>commentary to=functions.add <|constrain|>json"
    '<|message|>{"a": 1, "b": 2}<|call|>'
)
FINAL = (
    "<|channel|>analysis<|message|>add said 3.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>1 + 2 = 3.<|return|>"
)


@ha.tool
def add(a: int, b: int) -> int:
    """Add two integers.

    Args:
        a: the first term.
        b: the second term.
    """
    return a + b


def start_assistant(encoding: ha.Encoding) -> list[int]:
    return [T.START, *encoding.encode_ordinary("assistant")]


def test_analysis_call_answer_final(encoding: ha.Encoding) -> None:
    backend = Scripted([THINK + CALL, FINAL])
    agent = ha.Agent(backend, tools=[add])
    result = agent.run("What is 1 + 2?")

    assert result.stop_reason == "final"
    assert result.final_text == "1 + 2 = 3."
    assert result.turns == 2
    assert [(m.role.value, m.channel, m.recipient, m.text) for m in result.messages] == [
        ("assistant", "analysis", None, "The user wants a sum. Call add."),
        ("assistant", "commentary", "functions.add", '{"a": 1, "b": 2}'),
        ("tool", "commentary", "assistant", "3"),
        ("assistant", "analysis", None, "add said 3."),
        ("assistant", "final", None, "1 + 2 = 3."),
    ]
    assert result.messages[1].content_type == "<|constrain|>json"
    assert result.messages[2].name == "functions.add"
    first, second = backend.prompts
    assert result.usage == ha.agent.Usage(
        prompt_tokens=len(first) + len(second),
        completion_tokens=len(tokens(encoding, THINK + CALL)) + len(tokens(encoding, FINAL)),
        reasoning_tokens=len(tokens(encoding, "The user wants a sum. Call add."))
        + len(tokens(encoding, "add said 3.")),
    )


def test_next_prompt_is_the_previous_plus_what_was_generated(encoding: ha.Encoding) -> None:
    backend = Scripted([THINK + CALL, FINAL])
    ha.Agent(backend, tools=[add]).run("What is 1 + 2?")
    first, second = backend.prompts
    answer = ha.Message.tool("functions.add", "3")
    assert second == [
        *first,
        *tokens(encoding, THINK + CALL),  # exactly as generated, <|call|> included
        *encoding.render(answer),
        *start_assistant(encoding),
    ]


def test_appended_prompt_parses_like_a_full_render(encoding: ha.Encoding) -> None:
    backend = Scripted([THINK + CALL, CALL.removeprefix("<|start|>assistant"), FINAL])
    agent = ha.Agent(backend, tools=[add], instructions="Be exact.")
    result = agent.run("What is 1 + 2?")
    assert result.turns == 3
    start = agent.conversation_for("What is 1 + 2?")
    suffix = start_assistant(encoding)
    done = 0
    for prompt in backend.prompts[1:]:
        assert prompt[-len(suffix) :] == suffix
        parsed = encoding.parse_messages_from_completion_tokens(prompt[: -len(suffix)], strict=True)
        # the model writes the recipient after the channel: tokens differ, messages do not
        done = len(parsed) - len(start)
        so_far = ha.Conversation([*start, *result.messages[:done]])
        rendered = encoding.render_conversation_for_completion(so_far)
        assert rendered != prompt
        assert encoding.parse_messages_from_completion_tokens(rendered[: -len(suffix)]) == parsed
        assert parsed[len(start) :] == list(result.messages[:done])
    assert done == 5  # analysis, call, answer, call, answer


def test_the_prompt_declares_tools_reasoning_and_instructions(encoding: ha.Encoding) -> None:
    backend = Scripted([FINAL])
    system = ha.SystemContent(
        model_identity="You are a test.", conversation_start_date="2025-06-28"
    )
    agent = ha.Agent(
        backend, tools=[add], instructions="Be exact.", reasoning="high", system=system
    )
    agent.run("hi")
    expected = ha.Conversation(
        [
            ha.Message.system(system.with_reasoning_effort("high")),
            ha.Message.developer("Be exact.", tools=[add.spec]),
            ha.Message.user("hi"),
        ]
    )
    assert backend.prompts[0] == encoding.render_conversation_for_completion(expected)
    text = encoding.decode(backend.prompts[0])
    assert "Reasoning: high" in text
    assert "Current date: 2025-06-28" in text
    assert "type add = (_: {" in text
    assert "Calls to these tools must go to the commentary channel" in text


def test_no_tools_and_no_instructions_means_no_developer_message() -> None:
    agent = ha.Agent(Scripted([FINAL]))
    assert agent.developer_message is None
    assert [m.role for m in agent.conversation_for("hi")] == [ha.Role.SYSTEM, ha.Role.USER]


def test_inputs_a_message_list_or_a_conversation(encoding: ha.Encoding) -> None:
    agent = ha.Agent(Scripted([FINAL] * 4), instructions="Be brief.")
    as_text = agent.conversation_for("hi")
    assert agent.conversation_for(ha.Message.user("hi")) == as_text
    assert agent.conversation_for([ha.Message.user("hi")]) == as_text
    # a conversation with its own system message is used as it is
    own = ha.Conversation([ha.Message.system(reasoning="low"), ha.Message.user("hi")])
    assert agent.conversation_for(own) == own
    # a developer message of the caller's replaces the agent's
    mine = [ha.Message.developer("Mine."), ha.Message.user("hi")]
    assert agent.conversation_for(mine).messages[1:] == tuple(mine)
    with pytest.raises(ha.ConversationError):
        agent.conversation_for([ha.Message.user("hi"), ha.Message.system()])


def test_multi_turn_rerenders_with_the_cot_policy(encoding: ha.Encoding) -> None:
    backend = Scripted([THINK + CALL, FINAL, FINAL])
    agent = ha.Agent(backend, tools=[add])
    first = agent.run("What is 1 + 2?")
    # the finished turn's analysis is gone from the conversation, kept in messages
    assert [m.channel for m in first.conversation if m.role is ha.Role.ASSISTANT] == [
        "commentary",
        "final",
    ]
    assert sum(m.channel == "analysis" for m in first.messages) == 2
    follow_up = first.conversation.append(ha.Message.user("And 2 + 2?"))
    second = agent.run(follow_up)
    assert backend.prompts[2] == encoding.render_conversation_for_completion(follow_up)
    assert second.conversation.messages[: len(follow_up)] == follow_up.messages
    assert second.final_text == "1 + 2 = 3."


def test_a_plain_callable_is_a_backend(encoding: ha.Encoding) -> None:
    script: Iterator[str] = iter([THINK + CALL, FINAL])
    seen: list[int] = []

    def backend(prompt: list[int], params: ha.SamplingParams) -> list[int]:
        seen.append(len(prompt))
        assert params.stop_tokens == (T.RETURN, T.CALL)
        return tokens(encoding, next(script))

    result = ha.Agent(backend, tools=[add]).run("What is 1 + 2?")
    assert result.final_text == "1 + 2 = 3."
    assert len(seen) == 2 and seen[1] > seen[0]


def test_missing_stop_tokens_are_inferred(encoding: ha.Encoding) -> None:
    call = (THINK + CALL).removesuffix("<|call|>")
    final = FINAL.removesuffix("<|return|>")
    backend = Scripted([call, final])
    result = ha.Agent(backend, tools=[add]).run("What is 1 + 2?")
    assert result.stop_reason == "final"
    assert result.final_text == "1 + 2 = 3."
    first, second = backend.prompts
    assert second[len(first) : len(first) + len(tokens(encoding, call)) + 1] == [
        *tokens(encoding, call),
        T.CALL,
    ]


def test_a_message_ended_with_end_lets_the_model_go_on(encoding: ha.Encoding) -> None:
    backend = Scripted([THINK, FINAL])  # the engine stopped on <|end|>
    result = ha.Agent(backend).run("hi")
    assert result.stop_reason == "final"
    assert result.turns == 2
    assert backend.prompts[1] == [
        *backend.prompts[0],
        *tokens(encoding, THINK),
        *start_assistant(encoding),
    ]


def test_a_final_message_ended_with_end_is_an_answer() -> None:
    result = ha.Agent(Scripted(["<|channel|>final<|message|>Done.<|end|>"])).run("hi")
    assert (result.stop_reason, result.final_text, result.turns) == ("final", "Done.", 1)


async def test_the_sync_run_inside_a_running_loop_points_to_arun() -> None:
    backend = Scripted([FINAL])
    agent = ha.Agent(backend)
    # Blocking would stall the caller's loop (a notebook's): the error names arun.
    with pytest.raises(RuntimeError, match=r"await agent\.arun"):
        agent.run("hi")
    with pytest.raises(RuntimeError, match=r"await arun_many"):
        ha.run_many(agent, ["hi"], progress=False)
    assert backend.calls == []  # nothing started, nothing left unawaited
    assert (await agent.arun("hi")).final_text == "1 + 2 = 3."


def test_agent_options_are_checked() -> None:
    with pytest.raises(ValueError, match="max_turns"):
        ha.Agent(Scripted([]), max_turns=0)
    with pytest.raises(ValueError, match="token_budget"):
        ha.Agent(Scripted([]), token_budget=0)
    with pytest.raises(ValueError, match="ReasoningEffort"):
        ha.Agent(Scripted([]), reasoning="extreme")
    agent = ha.Agent(Scripted([]), tools=[add], sampling=ha.SamplingParams(stop_tokens=(1,)))
    assert agent.sampling.stop_tokens == (1,)
    assert repr(agent) == "Agent(Scripted(0 left, 0 calls), tools=[functions.add])"
