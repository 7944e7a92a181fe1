"""/v1/chat/completions driven by the official openai client, over a fake vLLM engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from harmony_agent.format import Encoding
from harmony_agent.testing import Cut
from tests.server.conftest import API_MODEL, Served

ANSWER = (
    "<|channel|>analysis<|message|>The user says hi. SECRET-THOUGHT.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Hello there! 👋<|return|>"
)
CALL = (
    "<|channel|>analysis<|message|>Need the weather tool.<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>Let me check the weather.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "Oslo"}<|call|>'
)
AFTER_CALL = (
    "<|channel|>analysis<|message|>Tool says sunny.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>It is sunny in Oslo.<|return|>"
)
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}
HI = [{"role": "user", "content": "Hi!"}]


def weather_model(encoding: Encoding) -> Callable[[list[int]], str]:
    """Calls get_weather, then answers once the prompt carries the tool's result."""

    def model(prompt: list[int]) -> str:
        return AFTER_CALL if "<|start|>functions.get_weather" in encoding.decode(prompt) else CALL

    return model


# -- answers -------------------------------------------------------------------------------
def test_answer_separates_reasoning_from_content(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    response = app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    choice = response.choices[0]
    assert choice.message.content == "Hello there! 👋"
    extra = choice.message.model_extra or {}
    assert extra["reasoning_content"] == "The user says hi. SECRET-THOUGHT."
    assert extra["reasoning"] == extra["reasoning_content"]
    assert choice.finish_reason == "stop"
    assert choice.message.tool_calls is None
    assert response.model == API_MODEL
    assert response.object == "chat.completion"
    usage = response.usage
    assert usage is not None
    assert usage.prompt_tokens == len(app.engine.bodies[0]["prompt"])
    assert usage.completion_tokens > 5
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_streamed_answer(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    stream = app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        stream=True,
        stream_options={"include_usage": True},
    )
    content, reasoning, finish, usage = [], [], [], []
    for chunk in stream:
        if chunk.usage is not None:
            usage.append(chunk.usage)
        for choice in chunk.choices:
            if choice.delta.content:
                content.append(choice.delta.content)
            thought = (choice.delta.model_extra or {}).get("reasoning_content")
            if thought:
                reasoning.append(thought)
            if choice.finish_reason:
                finish.append(choice.finish_reason)
    assert "".join(content) == "Hello there! 👋"
    assert "".join(reasoning) == "The user says hi. SECRET-THOUGHT."
    assert len(content) > 2  # token by token, not one lump
    assert finish == ["stop"]
    assert len(usage) == 1 and usage[0].completion_tokens > 5
    assert all("SECRET" not in c for c in content)


def test_request_options_reach_the_engine_and_the_prompt(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    app = served(ANSWER)
    app.client().chat.completions.create(
        model="whatever-the-client-calls-it",
        messages=[
            {"role": "system", "content": "Answer in French."},
            {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "Bonjour"}]},
        ],
        reasoning_effort="high",
        max_completion_tokens=300,
        temperature=0.25,
        top_p=0.5,
        seed=7,
    )
    body = app.engine.bodies[0]
    assert body["max_tokens"] == 300
    assert body["temperature"] == 0.25 and body["top_p"] == 0.5 and body["seed"] == 7
    prompt = app.prompts(encoding)[0]
    assert "Reasoning: high" in prompt
    assert "<|start|>developer<|message|># Instructions\n\nAnswer in French.\n\nBe brief." in prompt
    assert prompt.endswith("<|start|>user<|message|>Bonjour<|end|><|start|>assistant")


def test_max_tokens_cuts_with_finish_reason_length(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    response = app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        max_tokens=4,
    )
    assert response.choices[0].finish_reason == "length"
    assert response.usage is not None and response.usage.completion_tokens == 4
    assert "SECRET" not in (response.choices[0].message.content or "")


def test_stop_strings_end_the_answer(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    client = app.client()
    response = client.chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        stop=["there"],
    )
    assert response.choices[0].message.content == "Hello "
    assert response.choices[0].finish_reason == "stop"
    assert (response.model_extra or {})["harmony"]["stop_reason"] == "stop_sequence"
    assert response.usage is not None and response.usage.completion_tokens > 0
    stream = client.chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        stop="lo th",
        stream=True,
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "Hel"


# -- function calls ----------------------------------------------------------------------------
def test_tool_call_round_trip(served: Callable[..., Served], encoding: Encoding) -> None:
    app = served(weather_model(encoding))
    client = app.client()
    messages: list[Any] = [{"role": "user", "content": "Weather in Oslo?"}]
    first = client.chat.completions.create(model=API_MODEL, messages=messages, tools=[WEATHER])  # type: ignore[list-item]
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check the weather."  # the preamble, not a call
    calls = choice.message.tool_calls
    assert calls is not None and len(calls) == 1
    call = calls[0]
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "Oslo"}  # type: ignore[union-attr]
    assert len(app.engine.bodies) == 1  # the server did not run the function
    prompt = app.prompts(encoding)[0]
    assert "namespace functions {" in prompt and "type get_weather = (_: {" in prompt

    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": '{"sky": "sunny"}'})
    second = client.chat.completions.create(model=API_MODEL, messages=messages, tools=[WEATHER])  # type: ignore[arg-type,list-item]
    assert second.choices[0].message.content == "It is sunny in Oslo."
    assert second.choices[0].finish_reason == "stop"
    prompt = app.prompts(encoding)[1]
    # the call's turn is not over: its reasoning, sent back, is kept (and so is the preamble)
    assert (
        "<|start|>user<|message|>Weather in Oslo?<|end|>"
        "<|start|>assistant<|channel|>analysis<|message|>Need the weather tool.<|end|>"
        "<|start|>assistant<|channel|>commentary<|message|>Let me check the weather.<|end|>"
    ) in prompt
    assert (
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
        '<|message|>{"city": "Oslo"}<|call|>'
    ) in prompt
    assert (
        "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
        '{"sky": "sunny"}<|end|>'
    ) in prompt


def test_streamed_tool_call_deltas(served: Callable[..., Served], encoding: Encoding) -> None:
    app = served(weather_model(encoding))
    stream = app.client().chat.completions.create(
        model=API_MODEL,
        messages=[{"role": "user", "content": "Weather in Oslo?"}],
        tools=[WEATHER],  # type: ignore[list-item]
        stream=True,
    )
    content: list[str] = []
    calls: dict[int, dict[str, Any]] = {}
    fragments = 0
    finish = None
    for chunk in stream:
        delta = chunk.choices[0].delta
        content.append(delta.content or "")
        for part in delta.tool_calls or ():
            entry = calls.setdefault(part.index, {"id": None, "name": None, "arguments": ""})
            if part.id:
                assert entry["id"] is None and not entry["arguments"]  # id/name come first
                entry["id"], entry["name"] = part.id, part.function.name  # type: ignore[union-attr]
            if part.function and part.function.arguments:
                entry["arguments"] += part.function.arguments
                fragments += 1
        finish = chunk.choices[0].finish_reason or finish
    assert finish == "tool_calls"
    assert "".join(content) == "Let me check the weather."
    assert list(calls) == [0]
    assert calls[0]["name"] == "get_weather" and calls[0]["id"].startswith("call_")
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"}
    assert fragments > 1


def test_tool_choice_naming_one_function_declares_only_it(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    app = served(ANSWER)
    other = {"type": "function", "function": {"name": "get_time", "parameters": {}}}
    app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        tools=[WEATHER, other],  # type: ignore[list-item]
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    prompt = app.prompts(encoding)[0]
    assert "type get_time" in prompt and "get_weather" not in prompt


def test_tool_choice_none_declares_no_functions(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    app = served(ANSWER)
    app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice="none",
    )
    assert "get_weather" not in app.prompts(encoding)[0]


def test_a_tool_message_without_its_call_is_a_400(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    with pytest.raises(openai.BadRequestError) as caught:
        app.client().chat.completions.create(
            model=API_MODEL,
            messages=[
                {"role": "user", "content": "hi"},
                {"role": "tool", "tool_call_id": "call_nope", "content": "x"},
            ],
        )
    assert caught.value.body["param"] == "messages[1].tool_call_id"  # type: ignore[index]
    assert app.engine.bodies == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"messages": HI, "temperature": 3}, "temperature"),
        ({"messages": HI, "n": 2}, "n"),
        ({"messages": HI, "reasoning_effort": "extreme"}, "reasoning_effort"),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
            "messages[0].content[0]",
        ),
    ],
)
def test_bad_requests_are_openai_400s(
    served: Callable[..., Served], body: dict[str, Any], param: str
) -> None:
    app = served(ANSWER)
    reply = httpx.post(app.v1 + "/chat/completions", json=body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


# -- malformed output and failing engines ----------------------------------------------------
def test_malformed_output_is_read_leniently_and_reported(served: Callable[..., Served]) -> None:
    garbled = (
        "stray words<|channel|>analysis<|message|>thinking<|end|>"
        "<|start|>assistant<|channel|>final<|message|>The answer is 4.<|return|>"
    )
    app = served(garbled)
    raw = app.client().chat.completions.with_raw_response.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert raw.status_code == 200
    assert raw.headers["x-harmony-parse-issues"].startswith("1: ")
    response = raw.parse()
    assert response.choices[0].message.content == "The answer is 4."
    assert "thinking" not in (response.choices[0].message.content or "")
    harmony = (response.model_extra or {})["harmony"]
    assert len(harmony["parse_issues"]) == 1


def test_output_cut_mid_header_is_not_a_500(served: Callable[..., Served]) -> None:
    app = served("<|channel|>fin", engine={"length_limit": 3})
    response = app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert response.choices[0].finish_reason in ("length", "stop")
    assert response.choices[0].message.tool_calls is None


def test_an_engine_that_is_down_is_a_503(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    app.engine.close()
    with pytest.raises(openai.InternalServerError) as caught:
        app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert caught.value.status_code == 503
    assert caught.value.body["code"] == "engine_unavailable"  # type: ignore[index]
    with pytest.raises(openai.InternalServerError) as caught:  # streaming: before any byte
        app.client().chat.completions.create(model=API_MODEL, messages=HI, stream=True)  # type: ignore[arg-type]
    assert caught.value.status_code == 503


def test_an_engine_that_dies_mid_answer(served: Callable[..., Served]) -> None:
    app = served(ANSWER, engine={"cut": Cut(12, "die")})
    with pytest.raises(openai.InternalServerError) as caught:
        app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert caught.value.status_code == 502
    assert caught.value.body["code"] == "engine_interrupted"  # type: ignore[index]


def test_an_engine_that_dies_mid_stream_ends_with_an_error_event(
    served: Callable[..., Served],
) -> None:
    app = served(ANSWER, engine={"cut": Cut(12, "die")})
    stream = app.client().chat.completions.create(model=API_MODEL, messages=HI, stream=True)  # type: ignore[arg-type]
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in stream:
            received.append(chunk)
    assert len(received) > 2  # what streamed before the failure arrived
    assert "mid-generation" in caught.value.message


def test_an_engine_http_error_is_a_502(served: Callable[..., Served]) -> None:
    app = served(ANSWER, engine={"fail_first": 5, "fail_status": 500})
    with pytest.raises(openai.InternalServerError) as caught:
        app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert caught.value.status_code == 502


def test_an_engine_that_refuses_the_request_is_a_400(served: Callable[..., Served]) -> None:
    app = served(ANSWER, engine={"fail_first": 1, "fail_status": 400})
    with pytest.raises(openai.BadRequestError) as caught:
        app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert caught.value.body["code"] == "engine_rejected_request"  # type: ignore[index]


def test_a_call_on_the_analysis_channel_is_still_a_tool_call(
    served: Callable[..., Served],
) -> None:
    call = (
        "<|channel|>analysis to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "Rome"}<|call|>'
    )
    app = served(call)
    response = app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
    )
    choice = response.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls[0].function.arguments == '{"city": "Rome"}'  # type: ignore[index,union-attr]
    assert not (choice.message.model_extra or {}).get("reasoning_content")  # not reasoning either
