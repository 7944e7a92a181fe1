"""The app's core: /health, /v1/models, the API key, errors, concurrency, built-in tools."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

import httpx
import openai
import pytest

import harmony_agent as ha
from harmony_agent.format import Encoding, ToolNamespace
from harmony_agent.tools import Tool, ToolCall
from tests.server.conftest import API_MODEL, Served
from tests.server.test_chat import ANSWER, HI, WEATHER, weather_model


def test_health_and_models(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    assert httpx.get(app.url + "/health").json() == {"status": "ok"}
    models = app.client().models.list()
    assert [m.id for m in models.data] == [API_MODEL]
    assert app.client().models.retrieve(API_MODEL).id == API_MODEL


def test_unknown_paths_are_openai_404s(served: Callable[..., Served]) -> None:
    app = served(ANSWER)
    reply = httpx.post(app.v1 + "/nowhere", json={})
    assert reply.status_code == 404
    assert reply.json()["error"]["type"] == "not_found_error"


def test_api_key_is_enforced(served: Callable[..., Served]) -> None:
    app = served(ANSWER, api_key="s3cret")
    answer = app.client().chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "Hello there! 👋"
    with pytest.raises(openai.AuthenticationError) as caught:
        app.client(api_key="wrong").chat.completions.create(model=API_MODEL, messages=HI)  # type: ignore[arg-type]
    assert caught.value.status_code == 401
    assert caught.value.body["code"] == "invalid_api_key"  # type: ignore[index]
    reply = httpx.get(app.v1 + "/models")
    assert reply.status_code == 401
    assert reply.json()["error"]["code"] == "missing_api_key"
    assert reply.headers["www-authenticate"] == "Bearer"
    assert httpx.get(app.url + "/health").status_code == 200  # liveness needs no key
    assert len(app.engine.bodies) == 1  # refused requests never reached the engine


async def test_many_concurrent_streams(served: Callable[..., Served]) -> None:
    n = 32
    # the engine holds every stream until all 32 are open: they must run at once
    app = served(ANSWER, engine={"barrier": n})

    async def one(client: openai.AsyncOpenAI) -> str:
        stream = await client.chat.completions.create(
            model=API_MODEL,
            messages=HI,  # type: ignore[arg-type]
            stream=True,
        )
        return "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])

    async with app.aclient(timeout=60) as client:
        texts = await asyncio.gather(*(one(client) for _ in range(n)))
    assert texts == ["Hello there! 👋"] * n
    assert app.engine.max_active == n


async def test_async_client_tool_loop(served: Callable[..., Served], encoding: Encoding) -> None:
    app = served(weather_model(encoding))
    async with app.aclient() as client:
        first = await client.chat.completions.create(
            model=API_MODEL,
            messages=[{"role": "user", "content": "Weather?"}],
            tools=[WEATHER],  # type: ignore[list-item]
        )
        call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
        second = await client.chat.completions.create(
            model=API_MODEL,
            messages=[
                {"role": "user", "content": "Weather?"},
                first.choices[0].message,  # type: ignore[list-item]
                {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
            ],
            tools=[WEATHER],  # type: ignore[list-item]
        )
    assert second.choices[0].message.content == "It is sunny in Oslo."


class Echo(Tool):
    """A server-side tool in the system message, like python and browser."""

    placement = "system"
    namespace = ToolNamespace(name="echo", description="Repeats what it is sent.")

    async def call(self, call: ToolCall) -> Sequence[ha.Message]:
        return [call.reply(f"echo: {call.arguments}")]


ECHO_CALL = "<|channel|>analysis to=echo code<|message|>ping<|call|>"
ECHO_DONE = "<|channel|>final<|message|>The echo said ping.<|return|>"


def test_built_in_tools_run_on_the_server(
    served: Callable[..., Served], encoding: Encoding
) -> None:
    def model(prompt: list[int]) -> str:
        return ECHO_DONE if "echo: ping" in encoding.decode(prompt) else ECHO_CALL

    app = served(model, tools=[Echo()])
    response = app.client().chat.completions.create(
        model=API_MODEL,
        messages=HI,  # type: ignore[arg-type]
        tools=[WEATHER],  # type: ignore[list-item]
    )
    choice = response.choices[0]
    assert choice.message.content == "The echo said ping."
    assert choice.message.tool_calls is None and choice.finish_reason == "stop"
    first, second = app.prompts(encoding)
    assert "## echo" in first and "namespace functions" in first
    assert second.startswith(first)  # append-only: the engine's prefix cache hits
    assert "<|start|>echo to=assistant<|channel|>analysis<|message|>echo: ping<|end|>" in second
    assert response.usage is not None
    assert response.usage.prompt_tokens == len(app.engine.bodies[0]["prompt"]) + len(
        app.engine.bodies[1]["prompt"]
    )


@pytest.mark.slow
def test_python_runs_sandboxed_on_the_server(
    served: Callable[..., Served], encoding: Encoding, tmp_path: object
) -> None:
    call = "<|channel|>analysis to=python code<|message|>print(6 * 7)<|call|>"

    def model(prompt: list[int]) -> str:
        text = encoding.decode(prompt)
        return "<|channel|>final<|message|>42<|return|>" if "<|start|>python" in text else call

    with ha.PythonTool(timeout=30, pool_size=0) as python:
        app = served(model, tools=[python])
        response = app.client(timeout=120).chat.completions.create(
            model=API_MODEL,
            messages=[{"role": "user", "content": "6 * 7?"}],
        )
    assert response.choices[0].message.content == "42"
    assert (
        "<|start|>python to=assistant<|channel|>analysis<|message|>42" in app.prompts(encoding)[1]
    )


async def test_a_client_that_goes_away_aborts_the_engine_request(
    served: Callable[..., Served],
) -> None:
    app = served(ANSWER, engine={"token_delay": 0.05})
    async with app.aclient() as client:
        stream = await client.chat.completions.create(
            model=API_MODEL,
            messages=HI,  # type: ignore[arg-type]
            stream=True,
        )
        received = 0
        async for _chunk in stream:
            received += 1
            if received == 3:
                break
        await stream.close()
    for _ in range(200):  # the engine notices within a token or two
        if app.engine.disconnects:
            break
        await asyncio.sleep(0.05)
    assert app.engine.disconnects == 1
    assert app.engine.completed == 0


def test_a_client_function_clashing_with_a_server_function_is_a_400(
    served: Callable[..., Served],
) -> None:
    @ha.tool
    def get_weather(city: str) -> str:
        """The server's own weather function."""
        return "sunny"

    app = served(ANSWER, tools=[get_weather])
    with pytest.raises(openai.BadRequestError) as caught:
        app.client().chat.completions.create(
            model=API_MODEL,
            messages=HI,  # type: ignore[arg-type]
            tools=[WEATHER],  # type: ignore[list-item]
        )
    assert caught.value.body["param"] == "tools"  # type: ignore[index]
    assert "get_weather" in caught.value.message
