"""Typed answers: ``Agent(output_type=...)`` declares, parses, validates and corrects."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

import harmony_agent as ha
from harmony_agent.backends import Scripted


class City(BaseModel):
    """A city and how many people live there."""

    name: str
    population: int = Field(ge=0)


def final(text: str) -> str:
    return f"<|channel|>analysis<|message|>Think about {text[:6]}.<|end|>" + (
        f"<|start|>assistant<|channel|>final<|message|>{text}<|return|>"
    )


def test_a_valid_answer_becomes_the_output(encoding: ha.Encoding) -> None:
    backend = Scripted([final('{"name": "Lisbon", "population": 545000}')])
    result = ha.Agent(backend, output_type=City).run("Biggest city of Portugal?")
    assert result.stop_reason == "final" and result.turns == 1
    assert result.output == City(name="Lisbon", population=545000)
    prompt = encoding.decode(backend.prompts[0])
    schema = json.dumps(City.model_json_schema(), separators=(",", ":"))
    assert "<|start|>developer<|message|># Response Formats\n\n## City\n\n" in prompt
    assert f"// A city and how many people live there.\n{schema}<|end|>" in prompt


def test_a_fence_or_words_around_the_json_are_tolerated() -> None:
    backend = Scripted(
        [
            final('Here it is:\n```json\n{"name": "Oslo", "population": 709000}\n```'),
            final('Sure! {"name": "Bergen", "population": 291000} is my answer.'),
        ]
    )
    agent = ha.Agent(backend, output_type=City)
    assert agent.run("Norway?").output == City(name="Oslo", population=709000)
    assert agent.run("Second city?").output == City(name="Bergen", population=291000)


def test_an_invalid_answer_goes_back_to_the_model_and_it_retries(encoding: ha.Encoding) -> None:
    backend = Scripted(
        [
            final('{"name": "Lisbon", "population": "many"}'),
            final('{"name": "Lisbon", "population": 545000}'),
        ]
    )
    result = ha.Agent(backend, output_type=City).run("Biggest city of Portugal?")
    assert result.stop_reason == "final" and result.turns == 2
    assert result.output == City(name="Lisbon", population=545000)
    correction = result.messages[2]
    assert correction.role is ha.Role.USER
    assert correction.text == (
        "Your answer does not match the response format City: population: Input should be "
        'a valid integer, unable to parse string as an integer (got "many"). '
        "Reply with only the corrected JSON."
    )
    retry = encoding.decode(backend.prompts[1])
    assert retry.endswith(
        '<|channel|>final<|message|>{"name": "Lisbon", "population": "many"}<|end|>'
        f"<|start|>user<|message|>{correction.text}<|end|><|start|>assistant"
    )
    assert "Think about" not in retry  # the finished turn's reasoning is dropped
    tail = [(m.role.value, m.channel) for m in result.conversation.messages[-3:]]
    assert tail == [("assistant", "final"), ("user", None), ("assistant", "final")]


def test_a_run_that_never_validates_ends_invalid_output() -> None:
    backend = Scripted([final("Lisbon, I think."), final('{"name": "Lisbon"}')])
    result = ha.Agent(backend, output_type=City, max_turns=2).run("Biggest city?")
    assert result.stop_reason == "invalid_output"
    assert result.output is None
    assert result.final_text == '{"name": "Lisbon"}'
    assert result.error is not None and "population: Field required" in result.error
    first = result.messages[2].text
    assert first.startswith("Your answer must be JSON following the response format City")


def test_broken_json_is_reported_as_such() -> None:
    backend = Scripted([final('{"name": "Lisbon", '), final('{"name": "Porto", "population": 1}')])
    result = ha.Agent(backend, output_type=City).run("?")
    assert result.messages[2].text.startswith("Your answer is not valid JSON (")
    assert result.output == City(name="Porto", population=1)


def test_any_type_pydantic_validates() -> None:
    backend = Scripted([final("The primes are [2, 3, 5, 7].")])
    result = ha.Agent(backend, output_type=list[int]).run("Primes under 10?")
    assert result.output == [2, 3, 5, 7]


def test_tools_and_a_typed_answer(encoding: ha.Encoding) -> None:
    @ha.tool
    def population(city: str) -> int:
        """How many people live in a city.

        Args:
            city: the city's name.
        """
        return 545000

    call = (
        "<|channel|>commentary to=functions.population <|constrain|>json"
        '<|message|>{"city": "Lisbon"}<|call|>'
    )
    backend = Scripted([call, final('{"name": "Lisbon", "population": 545000}')])
    agent = ha.Agent(backend, tools=[population], instructions="Be exact.", output_type=City)
    result = agent.run("How many live in Lisbon?")
    assert result.output == City(name="Lisbon", population=545000)
    developer = encoding.decode(backend.prompts[0]).split("<|start|>developer<|message|>")[1]
    assert developer.index("# Instructions") < developer.index("# Tools")
    assert developer.index("# Tools") < developer.index("# Response Formats")


def test_the_result_round_trips_through_json() -> None:
    backend = Scripted([final('{"name": "Lisbon", "population": 545000}')])
    result = ha.Agent(backend, output_type=City).run("?")
    back = ha.RunResult.model_validate_json(result.model_dump_json())
    assert back.output == {"name": "Lisbon", "population": 545000}
    assert back.output_as(City) == result.output
    assert back.model_copy(update={"output": result.output}) == result


def test_without_output_type_nothing_changes(encoding: ha.Encoding) -> None:
    backend = Scripted([final("Lisbon.")])
    result = ha.Agent(backend).run("?")
    assert result.output is None and result.stop_reason == "final"
    assert "# Response Formats" not in encoding.decode(backend.prompts[0])
