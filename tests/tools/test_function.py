"""Function tools: schemas from type hints, validation errors for the model, results as text."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import threading
from typing import Annotated, Any, Literal

import pytest
from inline_snapshot import snapshot
from pydantic import BaseModel, Field

import harmony_agent as ha
from harmony_agent.format._render import tools_section
from harmony_agent.tools import FunctionTool, ToolCall, as_tool, result_text, tool


class Location(BaseModel):
    city: str
    country: str | None = None


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


@tool
def get_weather(location: Location, unit: Unit = Unit.CELSIUS, days: int = 1) -> dict[str, Any]:
    """Get the weather forecast.

    Args:
        location: where to look.
        unit: the temperature unit,
            celsius unless the user says otherwise.
        days: how many days ahead.

    Returns:
        The forecast per day.
    """
    return {"city": location.city, "unit": unit.value, "days": days}


def call(recipient: str, arguments: str) -> ToolCall:
    return ToolCall(recipient=recipient, arguments=arguments, content_type="<|constrain|>json")


async def answer(t: FunctionTool[..., Any], arguments: str) -> str:
    messages = await t.call(call(t.recipient, arguments))
    assert len(messages) == 1
    assert messages[0].role is ha.Role.TOOL
    assert messages[0].name == t.recipient
    assert messages[0].recipient == "assistant"
    return messages[0].text


def error(t: FunctionTool[..., Any], arguments: str) -> str:
    with pytest.raises(ha.ToolError) as info:
        t.validate(arguments)
    return str(info.value)


# -- schema and description ----------------------------------------------------------------
def test_schema_comes_from_type_hints_and_docstring() -> None:
    assert get_weather.recipient == "functions.get_weather"
    assert get_weather.spec.description == snapshot("""\
Get the weather forecast.
Returns: The forecast per day.\
""")
    assert get_weather.spec.parameters == snapshot(
        {
            "$defs": {
                "Location": {
                    "properties": {
                        "city": {"type": "string"},
                        "country": {
                            "anyOf": [{"type": "string"}, {"type": "null"}],
                            "default": None,
                        },
                    },
                    "required": ["city"],
                    "type": "object",
                },
                "Unit": {"enum": ["celsius", "fahrenheit"], "type": "string"},
            },
            "additionalProperties": False,
            "properties": {
                "location": {"$ref": "#/$defs/Location", "description": "where to look."},
                "unit": {
                    "$ref": "#/$defs/Unit",
                    "default": "celsius",
                    "description": "the temperature unit, celsius unless the user says otherwise.",
                },
                "days": {"default": 1, "description": "how many days ahead.", "type": "integer"},
            },
            "required": ["location"],
            "type": "object",
        }
    )


def test_rendered_declaration_reads_well() -> None:
    @tool
    def now() -> str:
        """The current time."""
        return "12:00"

    ns = ha.ToolNamespace(name="functions", tools=(get_weather.spec, now.spec))
    assert tools_section([ns]) == snapshot("""\
# Tools

## functions

namespace functions {

// Get the weather forecast.
// Returns: The forecast per day.
type get_weather = (_: {
// where to look.
location: {
    city: string,
    country?: string | null, // default: null
    },
// the temperature unit, celsius unless the user says otherwise.
unit?: "celsius" | "fahrenheit", // default: celsius
// how many days ahead.
days?: number, // default: 1
}) => any;

// The current time.
type now = () => any;

} // namespace functions\
""")


def test_a_function_without_parameters_has_no_schema() -> None:
    @tool
    def ping() -> str:
        return "pong"

    assert ping.spec.parameters is None
    assert ping.spec.description == ""
    assert ping.validate("") == {}
    assert ping.validate("  {} ") == {}


def test_options_override_name_description_and_namespace() -> None:
    @tool(name="lookup", description="Look a word up.", namespace="dictionary", timeout=2.5)
    def f(word: str) -> str:
        return word

    assert f.recipient == "dictionary.lookup"
    assert f.namespace == ha.ToolNamespace(name="dictionary", tools=(f.spec,))
    assert f.spec.description == "Look a word up."
    assert f.timeout == 2.5
    assert f.names == ("dictionary.lookup",)


def test_annotated_field_descriptions_and_constraints() -> None:
    @tool
    def pick(n: Annotated[int, Field(ge=1, le=10, description="how many")], tag: str = "x") -> str:
        """Pick some.

        Args:
            n: ignored, the Field says it.
            tag: a label.
        """
        return tag * n

    props = pick.spec.parameters["properties"]  # type: ignore[index]
    assert props["n"] == {"description": "how many", "maximum": 10, "minimum": 1, "type": "integer"}
    assert props["tag"]["description"] == "a label."
    assert "less than or equal to 10" in error(pick, '{"n": 11}')


def test_parameters_named_like_pydantic_attributes_keep_their_names() -> None:
    @tool
    def search(json: bool, model_config: str = "a", schema: int = 0) -> list[Any]:
        return [json, model_config, schema]

    assert list(search.spec.parameters["properties"]) == ["json", "model_config", "schema"]  # type: ignore[index]
    assert search.validate('{"json": true, "schema": 3}') == {
        "json": True,
        "model_config": "a",
        "schema": 3,
    }


def test_unsupported_signatures_are_refused_at_definition() -> None:
    def variadic(*args: int) -> None: ...
    def keywords(**kwargs: int) -> None: ...

    with pytest.raises(ha.ToolError, match="variadic"):
        tool(variadic)
    with pytest.raises(ha.ToolError, match="variadic"):
        tool(keywords)
    with pytest.raises(ha.ToolError, match="name must be letters"):
        tool(name="two words")(lambda: None)
    with pytest.raises(ha.ToolError, match="cannot build an argument schema"):
        tool(_takes_a_lock)


def _takes_a_lock(lock: threading.Lock) -> None:  # a type JSON cannot describe
    pass


def test_unannotated_parameters_accept_anything() -> None:
    def loose(x, y=2):  # type: ignore[no-untyped-def]
        return [x, y]

    t = FunctionTool(loose)
    assert t.validate('{"x": {"a": [1]}}') == {"x": {"a": [1]}, "y": 2}


# -- validation errors, as the model reads them ----------------------------------------------
def test_bad_json_is_explained() -> None:
    assert error(get_weather, '{"location": ') == snapshot(
        "arguments for functions.get_weather are not valid JSON (EOF while parsing a value at"
        " line 1 column 12). Send a single JSON object with the parameters and call again."
    )


def test_non_object_arguments_are_explained() -> None:
    assert error(get_weather, "[1, 2]") == snapshot(
        "arguments for functions.get_weather must be a JSON object of named parameters, got an"
        " array. Fix the arguments and call again."
    )
    assert "got a string" in error(get_weather, '"Paris"')


def test_missing_wrong_and_unexpected_arguments_are_listed() -> None:
    assert error(get_weather, '{"unit": "kelvin", "days": "two", "hours": 3}') == snapshot("""\
invalid arguments for functions.get_weather:
- location: missing required argument
- unit: Input should be 'celsius' or 'fahrenheit' (got "kelvin")
- days: Input should be a valid integer, unable to parse string as an integer (got "two")
- hours: unexpected argument
Parameters: location (required), unit, days.
Fix the arguments and call functions.get_weather again.\
""")


def test_nested_errors_name_the_path() -> None:
    assert error(get_weather, '{"location": {"city": 7}}') == snapshot("""\
invalid arguments for functions.get_weather:
- location.city: Input should be a valid string (got 7)
Fix the arguments and call functions.get_weather again.\
""")


def test_long_inputs_are_shortened_in_errors() -> None:
    text = error(get_weather, '{"location": {"city": "x"}, "days": "' + "9" * 200 + 'x"}')
    assert "..." in text
    assert len(text) < 300


def test_lax_coercion_accepts_what_means_the_same() -> None:
    assert get_weather.validate('{"location": {"city": "Oslo"}, "days": "3"}')["days"] == 3


def test_validate_accepts_a_mapping() -> None:
    kwargs = get_weather.validate({"location": {"city": "Oslo"}})
    assert kwargs == {"location": Location(city="Oslo"), "unit": Unit.CELSIUS, "days": 1}


# -- calling ---------------------------------------------------------------------------------
async def test_call_validates_runs_and_replies() -> None:
    text = await answer(get_weather, '{"location": {"city": "Oslo"}, "unit": "fahrenheit"}')
    assert text == '{"city":"Oslo","unit":"fahrenheit","days":1}'


async def test_call_with_bad_arguments_raises_tool_error() -> None:
    with pytest.raises(ha.ToolError, match="missing required argument"):
        await get_weather.call(call(get_weather.recipient, "{}"))


async def test_async_functions_are_awaited() -> None:
    @tool
    async def slow_add(a: int, b: int) -> int:
        await asyncio.sleep(0)
        return a + b

    assert await answer(slow_add, '{"a": 2, "b": 3}') == "5"


async def test_sync_functions_run_in_a_thread_unless_told_otherwise() -> None:
    main = threading.get_ident()

    @tool
    def where() -> bool:
        return threading.get_ident() == main

    @tool(run_in_thread=False)
    def here() -> bool:
        return threading.get_ident() == main

    assert await answer(where, "") == "false"
    assert await answer(here, "") == "true"


async def test_a_sync_function_may_return_an_awaitable() -> None:
    async def later() -> str:
        return "done"

    @tool(run_in_thread=False)
    def deferred() -> Any:
        return later()

    assert await answer(deferred, "{}") == "done"


async def test_positional_only_parameters_are_passed_positionally() -> None:
    @tool
    def sub(a: int, /, b: int) -> int:
        return a - b

    assert await answer(sub, '{"a": 5, "b": 2}') == "3"


async def test_methods_and_callable_objects() -> None:
    class Counter:
        def __init__(self) -> None:
            self.n = 0

        def bump(self, by: int = 1) -> int:
            """Bump the counter."""
            self.n += by
            return self.n

    class AsyncEcho:
        __name__ = "echo"

        async def __call__(self, text: str) -> str:
            return text

    counter = Counter()
    bump = tool(counter.bump)
    assert bump.spec.description == "Bump the counter."
    assert await answer(bump, '{"by": 4}') == "4"
    echo = FunctionTool(AsyncEcho())
    assert await answer(echo, '{"text": "hi"}') == "hi"


def test_decorated_functions_stay_callable() -> None:
    assert get_weather(Location(city="Rome"), days=2) == {
        "city": "Rome",
        "unit": "celsius",
        "days": 2,
    }
    assert get_weather.__name__ == "get_weather"
    assert get_weather.__doc__ is not None and "forecast" in get_weather.__doc__
    assert repr(get_weather) == "FunctionTool(functions.get_weather)"


def test_as_tool_wraps_functions_and_keeps_tools() -> None:
    def double(x: int) -> int:
        return 2 * x

    wrapped = as_tool(double)
    assert isinstance(wrapped, FunctionTool)
    assert wrapped.names == ("functions.double",)
    assert as_tool(get_weather) is get_weather
    with pytest.raises(ha.ToolError, match="must be a Tool or a function"):
        as_tool(42)  # type: ignore[arg-type]


# -- results as text --------------------------------------------------------------------------
@dataclasses.dataclass
class Point:
    x: int
    y: int


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("plain text", "plain text"),
        ("", ""),
        (None, "null"),
        (3, "3"),
        (2.5, "2.5"),
        (True, "true"),
        ({"a": [1, "é"]}, '{"a":[1,"é"]}'),
        ((1, 2), "[1,2]"),
        (Location(city="Oslo"), '{"city":"Oslo","country":null}'),
        (Point(1, 2), '{"x":1,"y":2}'),
        (dt.date(2025, 6, 28), '"2025-06-28"'),
        (Unit.CELSIUS, '"celsius"'),
        ({"o": Opaque()}, '{"o":"<opaque>"}'),
    ],
)
def test_result_text(value: object, text: str) -> None:
    assert result_text(value) == text


def test_literal_parameters_become_enums() -> None:
    @tool
    def mode(m: Literal["fast", "slow"]) -> str:
        return m

    assert mode.spec.parameters["properties"]["m"] == {"enum": ["fast", "slow"], "type": "string"}  # type: ignore[index]
    assert "Input should be 'fast' or 'slow'" in error(mode, '{"m": "medium"}')
