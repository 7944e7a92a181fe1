"""POST /v1/responses through the official openai client, against a real uvicorn server."""

from __future__ import annotations

import time

import httpx
import openai
import pytest

import harmony_agent as ha
from harmony_agent.server import create_app
from tests.server.responses_support import call, final, serve, think

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}


def text_of(encoding: ha.Encoding, tokens: list[int]) -> str:
    return encoding.decode(tokens)


def test_string_input_answers_with_reasoning_and_usage(encoding: ha.Encoding) -> None:
    backend = ha.backends.Scripted([think("The user greets.") + final("Hello!")])
    with serve(create_app(backend, model="gpt-oss-20b")) as client:
        response = client.responses.create(
            model="gpt-oss-20b",
            input="Hi",
            instructions="Answer briefly.",
            reasoning={"effort": "high"},
            temperature=0.5,
            top_p=0.9,
        )
    assert response.status == "completed" and response.output_text == "Hello!"
    reasoning, message = response.output
    assert reasoning.type == "reasoning" and reasoning.content is not None
    assert reasoning.content[0].type == "reasoning_text"
    assert reasoning.content[0].text == "The user greets."
    assert message.type == "message" and message.content[0].type == "output_text"
    assert response.usage is not None
    assert response.usage.input_tokens == len(backend.prompts[0])
    assert response.usage.output_tokens == len(
        backend.encoding.encode(think("The user greets.") + final("Hello!"), allowed_special="all")
    )
    reasoning_tokens = len(encoding.encode("The user greets."))
    assert response.usage.output_tokens_details.reasoning_tokens == reasoning_tokens
    assert response.usage.total_tokens == (
        response.usage.input_tokens + response.usage.output_tokens
    )
    prompt = text_of(encoding, backend.prompts[0])
    assert "Reasoning: high" in prompt
    assert "<|start|>developer<|message|># Instructions\n\nAnswer briefly." in prompt
    assert prompt.endswith("<|start|>user<|message|>Hi<|end|><|start|>assistant")
    assert (backend.calls[0].temperature, backend.calls[0].top_p) == (0.5, 0.9)
    assert response.reasoning is not None and response.reasoning.effort == "high"


def test_item_input_maps_every_role(encoding: ha.Encoding) -> None:
    backend = ha.backends.Scripted([final("Paris.")])
    with serve(create_app(backend)) as client:
        response = client.responses.create(
            model="gpt-oss",
            instructions="Be terse.",
            input=[
                {"role": "system", "content": "You are a geographer."},
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Capital of "},
                        {"type": "input_text", "text": "Italy?"},
                    ],
                },
                {
                    "type": "reasoning",
                    "id": "rs_1",
                    "summary": [],
                    "content": [{"type": "reasoning_text", "text": "Easy one."}],
                },
                {"role": "assistant", "content": [{"type": "output_text", "text": "Rome."}]},
                {"type": "message", "role": "user", "content": "And France?"},
            ],
        )
    assert response.output_text == "Paris."
    prompt = text_of(encoding, backend.prompts[0])
    assert "# Instructions\n\nBe terse.\n\nYou are a geographer." in prompt
    assert "<|start|>user<|message|>Capital of Italy?<|end|>" in prompt
    # the chain of thought of the finished turn is dropped, the answer kept
    assert "Easy one." not in prompt
    assert "<|start|>assistant<|channel|>final<|message|>Rome.<|end|>" in prompt
    assert prompt.endswith("<|start|>user<|message|>And France?<|end|><|start|>assistant")


def test_stream_events_in_order_with_sequence_numbers() -> None:
    backend = ha.backends.Scripted([think("Hmm.") + final("Hi there")])
    with serve(create_app(backend)) as client:
        events = list(client.responses.create(model="gpt-oss", input="Hi", stream=True))
    types = [e.type for e in events]
    collapsed = [t for i, t in enumerate(types) if i == 0 or t != types[i - 1]]
    assert collapsed == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert deltas == ["Hi", " there"]  # token by token
    done = events[-1].response
    assert done.status == "completed" and done.output_text == "Hi there"
    assert {e.item.id for e in events if e.type == "response.output_item.added"} == {
        item.id for item in done.output
    }


def test_stream_helper_gives_the_final_response() -> None:
    backend = ha.backends.Scripted([final("Done.")])
    with (
        serve(create_app(backend)) as client,
        client.responses.stream(model="gpt-oss", input="Go") as stream,
    ):
        texts = [e.delta for e in stream if e.type == "response.output_text.delta"]
        response = stream.get_final_response()
    assert "".join(texts) == "Done." == response.output_text


def test_function_call_round_trip(encoding: ha.Encoding) -> None:
    backend = ha.backends.Scripted(
        [think("Need the weather.") + call("get_weather", city="Oslo"), final("It is 3 C.")]
    )
    with serve(create_app(backend)) as client:
        first = client.responses.create(model="gpt-oss", input="Weather in Oslo?", tools=[WEATHER])
        assert first.status == "completed" and first.output_text == ""
        reasoning, fc = first.output
        assert reasoning.type == "reasoning" and fc.type == "function_call"
        assert (fc.name, fc.arguments) == ("get_weather", '{"city": "Oslo"}')
        second = client.responses.create(
            model="gpt-oss",
            previous_response_id=first.id,
            tools=[WEATHER],
            input=[
                {"type": "function_call_output", "call_id": fc.call_id, "output": '{"celsius": 3}'}
            ],
        )
    assert second.output_text == "It is 3 C." and second.previous_response_id == first.id
    assert len(backend.prompts) == 2  # the call ended the first run: one completion
    first_prompt = text_of(encoding, backend.prompts[0])
    assert "type get_weather = (_: {\n// " not in first_prompt  # no description per field
    assert "namespace functions {" in first_prompt and "type get_weather" in first_prompt
    second_prompt = backend.prompts[1]
    # the second prompt extends the first one, the unfinished turn's reasoning kept (the
    # call's header is rendered the canonical way: recipient before channel)
    assert second_prompt[: len(backend.prompts[0])] == backend.prompts[0]
    tail = text_of(encoding, second_prompt[len(backend.prompts[0]) :])
    assert tail == (
        "<|channel|>analysis<|message|>Need the weather.<|end|>"
        "<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json"
        '<|message|>{"city": "Oslo"}<|call|>'
        "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
        '{"celsius": 3}<|end|><|start|>assistant'
    )


def test_output_items_sent_back_as_input_restore_the_same_prompt(
    encoding: ha.Encoding,
) -> None:
    """A client without previous_response_id (the Agents SDK) sends the items back."""
    backend = ha.backends.Scripted(
        [
            think("Look it up.") + call("get_weather", city="Rome"),
            final("Sunny."),
            final("Sunny."),
        ]
    )
    with serve(create_app(backend)) as client:
        user = {"role": "user", "content": "Weather in Rome?"}
        first = client.responses.create(model="gpt-oss", input=[user], tools=[WEATHER])
        fc = first.output[-1]
        assert fc.type == "function_call"
        output = {"type": "function_call_output", "call_id": fc.call_id, "output": "sunny"}
        items = [user, *(o.model_dump(exclude_none=True) for o in first.output), output]
        client.responses.create(model="gpt-oss", input=items, tools=[WEATHER])
        client.responses.create(
            model="gpt-oss", input=[output], previous_response_id=first.id, tools=[WEATHER]
        )
    assert backend.prompts[1] == backend.prompts[2]


def test_streamed_function_call_arguments() -> None:
    backend = ha.backends.Scripted([call("get_weather", city="Lima")])
    with serve(create_app(backend)) as client:
        events = list(
            client.responses.create(model="gpt-oss", input="Lima?", tools=[WEATHER], stream=True)
        )
    deltas = [e.delta for e in events if e.type == "response.function_call_arguments.delta"]
    assert len(deltas) > 1 and "".join(deltas) == '{"city": "Lima"}'
    (done,) = [e for e in events if e.type == "response.function_call_arguments.done"]
    assert done.arguments == '{"city": "Lima"}'
    item = events[-1].response.output[0]
    assert item.type == "function_call" and item.status == "completed"


def test_previous_response_chain_drops_finished_reasoning(encoding: ha.Encoding) -> None:
    backend = ha.backends.Scripted(
        [
            think("First thought.") + final("One."),
            think("Second thought.") + final("Two."),
            final("Three."),
        ]
    )
    with serve(create_app(backend)) as client:
        one = client.responses.create(model="gpt-oss", input="Count: 1")
        two = client.responses.create(model="gpt-oss", input="2", previous_response_id=one.id)
        three = client.responses.create(model="gpt-oss", input="3", previous_response_id=two.id)
        fetched = client.responses.retrieve(two.id)
    assert [r.output_text for r in (one, two, three)] == ["One.", "Two.", "Three."]
    assert fetched.id == two.id and fetched.output_text == "Two."
    prompt = text_of(encoding, backend.prompts[2])
    assert "First thought." not in prompt and "Second thought." not in prompt
    assert prompt.endswith(
        "<|start|>user<|message|>Count: 1<|end|><|start|>assistant<|channel|>final<|message|>"
        "One.<|end|><|start|>user<|message|>2<|end|><|start|>assistant<|channel|>final"
        "<|message|>Two.<|end|><|start|>user<|message|>3<|end|><|start|>assistant"
    )


def test_unknown_previous_response_is_404() -> None:
    backend = ha.backends.Scripted([final("x")])
    with serve(create_app(backend)) as client:
        with pytest.raises(openai.NotFoundError) as caught:
            client.responses.create(model="gpt-oss", input="x", previous_response_id="resp_nope")
        assert caught.value.code == "previous_response_not_found"
        assert "resp_nope" in caught.value.message
        with pytest.raises(openai.NotFoundError):
            client.responses.retrieve("resp_nope")
    assert backend.calls == []


def test_store_is_bounded_and_store_false_keeps_nothing() -> None:
    backend = ha.backends.Scripted(lambda prompt: final("ok"))
    with serve(create_app(backend, store_size=2)) as client:
        a, b, c = (client.responses.create(model="gpt-oss", input=s) for s in "abc")
        unkept = client.responses.create(model="gpt-oss", input="d", store=False)
        assert unkept.store is False
        for gone in (a.id, unkept.id):
            with pytest.raises(openai.NotFoundError):
                client.responses.create(model="gpt-oss", input="x", previous_response_id=gone)
        for kept in (b.id, c.id):
            client.responses.create(
                model="gpt-oss", input="x", previous_response_id=kept, store=False
            )


def test_max_output_tokens_makes_an_incomplete_response() -> None:
    backend = ha.backends.Scripted([think("a long thought " * 20)] * 2)
    with serve(create_app(backend)) as client:
        response = client.responses.create(model="gpt-oss", input="x", max_output_tokens=16)
        events = list(
            client.responses.create(model="gpt-oss", input="x", max_output_tokens=16, stream=True)
        )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens == 16
    assert response.output[0].type == "reasoning" and response.output[0].status == "incomplete"
    assert backend.calls[0].max_tokens == 16
    assert events[-1].type == "response.incomplete"
    assert events[-1].response.incomplete_details.reason == "max_output_tokens"


def test_malformed_output_is_the_parsers_best_reading_never_a_500() -> None:
    garbage = "<|channel|>final<|message|>Partly <|start|><|start|>fine.<|return|>"
    backend = ha.backends.Scripted([garbage, garbage])
    with serve(create_app(backend)) as client:
        raw = client.responses.with_raw_response.create(model="gpt-oss", input="x")
        streamed = list(client.responses.create(model="gpt-oss", input="x", stream=True))
    response = raw.parse()
    assert raw.status_code == 200
    assert response.metadata is not None and int(response.metadata["harmony_parse_issues"]) >= 1
    count = response.metadata["harmony_parse_issues"]
    assert raw.headers["x-harmony-parse-issues"].startswith(f"{count}: ")
    assert response.metadata["harmony_parse_detail"]
    assert "Partly" in response.output_text
    assert streamed[-1].type == "response.completed"


def test_an_unreachable_engine_is_a_503_error_object() -> None:
    backend = ha.backends.VLLM("http://127.0.0.1:9", model="gpt-oss", max_retries=0)
    with serve(create_app(backend)) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            client.responses.create(model="gpt-oss", input="x")
        assert caught.value.status_code == 503
        assert caught.value.code == "engine_unavailable"
        with pytest.raises(openai.APIStatusError) as streamed:
            client.responses.create(model="gpt-oss", input="x", stream=True)
        assert streamed.value.status_code == 503


def test_an_engine_that_dies_mid_stream_fails_the_response() -> None:
    from harmony_agent.testing import Cut, FakeVLLMServer

    with FakeVLLMServer(
        [final("a rather long answer that will be cut")], cut=Cut(4, "die"), model_name="gpt-oss"
    ) as engine:
        backend = ha.backends.VLLM(engine.base_url, model="gpt-oss", max_retries=0)
        with serve(create_app(backend)) as client:
            events = list(client.responses.create(model="gpt-oss", input="x", stream=True))
    assert events[-1].type == "response.failed"
    failed = events[-1].response
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "server_error"
    assert [e.type for e in events].count("response.output_text.delta") >= 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "x", "tools": [{"type": "file_search"}]}, "tools[0].type"),
        ({"input": "x", "tools": [{"type": "code_interpreter"}]}, "tools"),
        ({"input": "x", "reasoning": {"effort": "extreme"}}, "reasoning.effort"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "u"}]}]},
            "input[0].content[0].type",
        ),
        (
            {"input": [{"type": "function_call_output", "call_id": "c", "output": "x"}]},
            "input[0].call_id",
        ),
        ({"input": 3}, "input"),
        ({"input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        (
            {"input": "x", "text": {"format": {"type": "json_schema", "name": "a", "schema": {}}}},
            "text.format",
        ),
        ({"input": "x", "conversation": "conv_1"}, "conversation"),
        ({"input": "x", "background": True}, "background"),
        (
            {"input": "x", "tools": [WEATHER], "tool_choice": {"type": "function", "name": "nope"}},
            "tool_choice",
        ),
    ],
)
def test_bad_requests_are_400_error_objects(body: dict[str, object], param: str) -> None:
    backend = ha.backends.Scripted([final("x")])
    with serve(create_app(backend)) as client:
        url = str(client.base_url) + "responses"
        reply = httpx.post(url, json={"model": "gpt-oss", **body})
    assert reply.status_code == 400, reply.text
    error = reply.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"].startswith(param)
    assert error["message"]
    assert backend.calls == []


def test_a_client_that_leaves_mid_stream_aborts_the_engine_request() -> None:
    from harmony_agent.testing import FakeVLLMServer

    words = " ".join(["word"] * 400)
    with FakeVLLMServer(final(words), token_delay=0.01, model_name="gpt-oss") as engine:
        backend = ha.backends.VLLM(engine.base_url, model="gpt-oss", max_retries=0)
        with serve(create_app(backend)) as client:
            with client.responses.create(model="gpt-oss", input="x", stream=True) as stream:
                for event in stream:
                    if event.type == "response.output_text.delta":
                        break
            deadline = time.monotonic() + 10
            while engine.disconnects == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
    assert engine.disconnects == 1 and engine.completed == 0


def test_instructions_are_not_carried_over_and_tool_choice_none_hides_tools(
    encoding: ha.Encoding,
) -> None:
    backend = ha.backends.Scripted(lambda prompt: final("ok"))
    with serve(create_app(backend)) as client:
        first = client.responses.create(model="gpt-oss", input="a", instructions="Be a pirate.")
        client.responses.create(
            model="gpt-oss",
            input="b",
            previous_response_id=first.id,
            tools=[WEATHER],
            tool_choice="none",
            reasoning={"effort": "minimal"},
        )
    assert "Be a pirate." in encoding.decode(backend.prompts[0])
    second = encoding.decode(backend.prompts[1])
    assert "Be a pirate." not in second and "get_weather" not in second
    assert "Reasoning: low" in second  # OpenAI's "minimal" reads as gpt-oss's lowest


def test_the_api_key_guards_the_responses_endpoints() -> None:
    backend = ha.backends.Scripted([final("ok")])
    with serve(create_app(backend, api_key="sekrit")) as client:
        with pytest.raises(openai.AuthenticationError):
            client.responses.create(model="gpt-oss", input="x")
        with pytest.raises(openai.AuthenticationError):
            client.responses.retrieve("resp_x")
        keyed = client.with_options(api_key="sekrit")
        assert keyed.responses.create(model="gpt-oss", input="x").output_text == "ok"


def test_a_call_to_an_unknown_tool_is_answered_with_an_error_and_shows_no_item(
    encoding: ha.Encoding,
) -> None:
    backend = ha.backends.Scripted([call("launch_rockets", count=3), final("I cannot do that.")])
    with serve(create_app(backend)) as client:
        response = client.responses.create(model="gpt-oss", input="Launch!", tools=[WEATHER])
    assert [item.type for item in response.output] == ["message"]
    assert response.output_text == "I cannot do that."
    answer = encoding.decode(backend.prompts[1]).rsplit("<|start|>functions.launch_rockets", 1)[1]
    assert "Error: no tool is called 'functions.launch_rockets'" in answer
