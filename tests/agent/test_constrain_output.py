"""``constrain_output``: the engine constrains the final message, never the reasoning."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel

import harmony_agent as ha
from harmony_agent.backends import VLLM, LlamaCpp, Ollama, Scripted, SGLang
from harmony_agent.testing import (
    FakeLlamaCppServer,
    FakeOllamaServer,
    FakeSGLangServer,
    FakeVLLMServer,
)


class City(BaseModel):
    name: str
    population: int


SCHEMA = City.model_json_schema()
THINK = "<|channel|>analysis<|message|>Lisbon it is.<|end|>"
OPEN = "<|start|>assistant<|channel|>final<|message|>"
JSON_ANSWER = '{"name": "Lisbon", "population": 545000}<|return|>'


def test_the_answer_is_requested_again_constrained(encoding: ha.Encoding) -> None:
    # the first completion would go on unconstrained; it is stopped where final opens
    backend = Scripted([THINK + OPEN + "Lisbon has about half a million", JSON_ANSWER])
    agent = ha.Agent(backend, output_type=City, constrain_output=True)
    result = agent.run("Biggest city of Portugal?")
    assert result.output == City(name="Lisbon", population=545000)
    first, second = backend.calls
    assert first.json_schema is None  # the reasoning is never constrained
    assert second.json_schema == SCHEMA
    assert encoding.decode(backend.prompts[1]).endswith(THINK + OPEN)
    assert second.max_tokens == first.max_tokens - len(
        encoding.encode(THINK + OPEN, allowed_special="all")
    )
    assert result.turns == 1 and result.usage.forced_answers == 0


def test_a_forced_answer_is_constrained_too(encoding: ha.Encoding) -> None:
    backend = Scripted(["<|channel|>analysis<|message|>" + " hmm" * 100, JSON_ANSWER])
    agent = ha.Agent(backend, output_type=City, constrain_output=True, reasoning_budget=10)
    result = agent.run("?")
    assert result.output == City(name="Lisbon", population=545000)
    assert [c.json_schema for c in backend.calls] == [None, SCHEMA]
    assert result.usage.forced_answers == 1


def test_a_spent_run_budget_constrains_the_whole_completion() -> None:
    @ha.tool
    def noop() -> str:
        """Does nothing."""
        return "ok"

    call = (
        "<|channel|>analysis<|message|>" + " hmm" * 5 + "<|end|>"
        "<|start|>assistant<|channel|>commentary to=functions.noop <|constrain|>json"
        "<|message|>{}<|call|>"
    )
    backend = Scripted([call, JSON_ANSWER])
    agent = ha.Agent(
        backend, tools=[noop], output_type=City, constrain_output=True, run_reasoning_budget=5
    )
    assert agent.run("?").output == City(name="Lisbon", population=545000)
    assert [c.json_schema for c in backend.calls] == [None, SCHEMA]


def test_a_whole_answer_in_one_chunk_needs_no_second_request() -> None:
    backend = Scripted([THINK + OPEN + JSON_ANSWER], chunk_size=10_000)
    result = ha.Agent(backend, output_type=City, constrain_output=True).run("?")
    assert result.output == City(name="Lisbon", population=545000)
    assert len(backend.calls) == 1


def test_constrain_output_needs_an_output_type() -> None:
    with pytest.raises(ValueError, match="needs an output_type"):
        ha.Agent(Scripted([]), constrain_output=True)


def _model(encoding: ha.Encoding) -> Any:
    opened = encoding.encode("<|channel|>final<|message|>", allowed_special="all")

    def model(prompt: list[int]) -> str:
        if prompt[-len(opened) :] == opened:
            return JSON_ANSWER
        # stopped where final opens, a request that continues it gets the rest, the JSON
        # (the fakes replay; an engine would constrain it)
        return THINK + OPEN + JSON_ANSWER

    return model


@pytest.mark.parametrize(
    ("server_class", "backend_class", "field"),
    [
        (FakeVLLMServer, VLLM, lambda body: body.get("structured_outputs")),
        (FakeSGLangServer, SGLang, lambda body: body["sampling_params"].get("json_schema")),
        (FakeLlamaCppServer, LlamaCpp, lambda body: body.get("json_schema")),
        (FakeOllamaServer, Ollama, lambda body: body.get("format")),
    ],
    ids=["vllm", "sglang", "llamacpp", "ollama"],
)
def test_each_engine_gets_its_own_schema_field_on_the_wire(
    encoding: ha.Encoding, server_class: Any, backend_class: Any, field: Any
) -> None:
    with server_class(_model(encoding), token_delay=0.001) as server:
        if backend_class is Ollama:
            backend = Ollama(server.base_url, model=server.model_name)
        else:
            backend = backend_class(server.base_url)
        agent = ha.Agent(backend, output_type=City, constrain_output=True)
        result = agent.run("Biggest city of Portugal?")
        bodies = server.bodies
    assert result.output == City(name="Lisbon", population=545000)
    assert len(bodies) == 2
    assert field(bodies[0]) is None
    expected: Any = {
        FakeVLLMServer: {"json": SCHEMA},
        FakeSGLangServer: json.dumps(SCHEMA),
    }.get(server_class, SCHEMA)
    assert field(bodies[1]) == expected
