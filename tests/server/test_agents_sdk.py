"""The OpenAI Agents SDK (Python) runs an agent against the server over Chat Completions."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from harmony_agent.format import Encoding
from tests.server.conftest import API_MODEL, Served
from tests.server.test_chat import weather_model

agents = pytest.importorskip("agents")


async def test_an_agents_sdk_agent_calls_its_tool_through_the_server(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    agents.set_tracing_disabled(True)  # tracing would upload to OpenAI
    app = served(weather_model(encoding))
    cities: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Current weather in a city."""
        cities.append(city)
        return "sunny"

    async with app.aclient() as client:
        agent = agents.Agent(
            name="weather",
            instructions="Answer weather questions with the tool.",
            tools=[get_weather],
            model=agents.OpenAIChatCompletionsModel(model=API_MODEL, openai_client=client),
        )
        result = await agents.Runner.run(agent, "Weather in Oslo?")
    assert result.final_output == "It is sunny in Oslo."
    assert cities == ["Oslo"]  # the SDK ran the function, not the server
    first, second = app.prompts(encoding)
    assert "Answer weather questions with the tool." in first
    assert "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>sunny" in (
        second
    )
