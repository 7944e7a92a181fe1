"""The OpenAI Agents SDK (Python) runs an agent with a function tool over /v1/responses."""

from __future__ import annotations

import openai
import pytest

import harmony_agent as ha
from harmony_agent.server import create_app, running
from tests.server.responses_support import call, final, think

agents = pytest.importorskip("agents")


@pytest.mark.parametrize("streamed", [False, True])
async def test_an_agent_calls_its_function_through_the_responses_api(streamed: bool) -> None:
    encoding = ha.load_encoding()

    def model(prompt: list[int]) -> str:
        turn = encoding.decode(prompt).rsplit("<|start|>user", 1)[-1]
        if "functions.get_weather to=assistant" in turn:
            return final("It is sunny in Oslo.")
        return think("Need the weather.") + call("get_weather", city="Oslo")

    backend = ha.backends.Scripted(model, encoding=encoding)
    agents.set_tracing_disabled(True)  # tracing would upload to OpenAI
    cities: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        cities.append(city)
        return "sunny"

    with running(create_app(backend)) as url:
        async with openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="none") as client:
            agent = agents.Agent(
                name="weather",
                instructions="Answer weather questions with the tool.",
                tools=[get_weather],
                model=agents.OpenAIResponsesModel(model="gpt-oss", openai_client=client),
            )
            if streamed:
                run = agents.Runner.run_streamed(agent, "Weather in Oslo?")
                async for _ in run.stream_events():
                    pass
                output = run.final_output
            else:
                output = (await agents.Runner.run(agent, "Weather in Oslo?")).final_output
    assert output == "It is sunny in Oslo." and cities == ["Oslo"]
    first, second = backend.prompts
    assert second[: len(first)] == first  # the items sent back extend the same prompt
    text = encoding.decode(second)
    assert "Answer weather questions with the tool." in text
    assert text.endswith(
        "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>sunny<|end|>"
        "<|start|>assistant"
    )
