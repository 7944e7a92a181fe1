"""An agent with function tools, run on a scripted model so it needs no GPU.

The scripted backend replays what gpt-oss would write: it thinks, calls a tool (once
with a mistake, which the tool answers with what to fix), and then answers. Swap in a
real backend (``ha.backends.VLLM("http://localhost:8000")``) to run the model itself.

    python examples/agent_function_tools.py
"""

from __future__ import annotations

import asyncio
from typing import Literal

import harmony_agent as ha
from harmony_agent.backends import Scripted

FORECASTS = {"oslo": (4, "sleet"), "lisbon": (19, "sun")}


@ha.tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Get today's weather for a city.

    Args:
        city: the city's name, e.g. "Oslo".
        unit: the temperature unit.
    """
    temperature, sky = FORECASTS.get(city.lower(), (15, "clouds"))
    if unit == "fahrenheit":
        temperature = round(temperature * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


@ha.tool
async def convert(amount: float, rate: float) -> float:
    """Multiply an amount by an exchange rate."""
    return round(amount * rate, 2)


SCRIPT = [
    # 1. think, then call with a bad argument (the unit is not one of the allowed ones)
    "<|channel|>analysis<|message|>Need weather for both cities. Start with Oslo.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "Oslo", "unit": "kelvin"}<|call|>',
    # 2. the tool said what to fix: call again
    "<|channel|>analysis<|message|>Kelvin is not allowed; use celsius.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "Oslo"}<|call|>',
    # 3. the second city
    "<|channel|>commentary to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "Lisbon"}<|call|>',
    # 4. the answer
    "<|channel|>analysis<|message|>Oslo 4C sleet, Lisbon 19C sun.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Lisbon is warmer: 19 °C and sunny, "
    "while Oslo has 4 °C and sleet.<|return|>",
]


async def main() -> None:
    agent = ha.Agent(
        Scripted(SCRIPT),
        tools=[get_weather, convert],
        instructions="Answer weather questions with the tools. Be brief.",
        reasoning="low",
    )
    print("=== events ===")
    async for event in agent.stream("Is it warmer in Oslo or in Lisbon today?"):
        match event:
            case ha.MessageEnd(message=message):
                target = f" -> {message.recipient}" if message.recipient else ""
                print(f"[{message.channel}{target}] {message.text}")
            case ha.ToolResult(messages=answers, error=error):
                for answer in answers:
                    flag = " (error)" if error else ""
                    print(f"[{answer.name}{flag}] {answer.text}")
            case ha.RunEnd(result=result):
                print(f"\n=== {result.stop_reason} after {result.turns} turns ===")
                print(result.final_text)
                print(
                    f"tokens: {result.usage.prompt_tokens} prompt, "
                    f"{result.usage.completion_tokens} completion"
                )
                print("\n=== conversation for the next turn (analysis dropped) ===")
                for message in result.conversation:
                    print(f"{message.author:>22} {message.channel or '':<10} {message.text[:60]!r}")


if __name__ == "__main__":
    asyncio.run(main())
