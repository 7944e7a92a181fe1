"""harmony_agent end to end, offline: what `make demo` runs.

A real agent loop talks HTTP to a server on 127.0.0.1 that speaks vLLM's
``/v1/completions`` protocol (token-id prompts, streamed token ids). No GPU is
needed: the server's "model" is a small Python function that writes harmony
tokens the way gpt-oss does — it reasons on ``analysis``, calls tools on
``commentary``, reads the tool answers from the prompt, and answers on ``final``.
Point ``ha.backends.VLLM`` at a real vLLM server to run gpt-oss itself.

The demo shows the rendered prompt, the raw stream (chain of thought included, as a
developer would log it), the user-visible text filtered as it streams, and the
conversation kept for the next turn (finished chain of thought dropped).

    python -m harmony_agent.demo      (or: make demo, harmony-agent demo)
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any, Literal

import harmony_agent as ha
from harmony_agent.backends import VLLM
from harmony_agent.testing import FakeVLLMServer

__all__ = ["main", "run_demo"]


QUESTION = "Is it warmer in Oslo or in Lisbon today, and by how many degrees?"
FORECASTS = {"oslo": (4, "sleet"), "lisbon": (19, "sunny")}
DIM, BOLD, RESET = "\033[2m", "\033[1m", "\033[0m"


@ha.tool
def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict[str, object]:
    """Today's weather in a city.

    Args:
        city: The city's name, e.g. "Oslo".
        unit: Temperature unit.
    """
    temperature, sky = FORECASTS.get(city.lower(), (15, "cloudy"))
    if unit == "fahrenheit":
        temperature = round(temperature * 9 / 5 + 32)
    return {"city": city, "temperature": temperature, "unit": unit, "sky": sky}


@ha.tool
def subtract(a: float, b: float) -> float:
    """Compute a - b."""
    return a - b


def _json(text: str) -> Any:
    try:
        value = json.loads(text)
    except ValueError:  # an error message from the agent loop
        return None
    return value if isinstance(value, (dict, float, int)) else None


def toy_model(prompt: list[int]) -> str:
    """Stands in for gpt-oss: decides the next step from the tool answers in the prompt."""
    text = ha.load_encoding().decode(prompt)
    answers = [
        (name, _json(answer))
        for name, answer in re.findall(
            r"<\|start\|>functions\.(\w+) to=assistant.*?<\|message\|>(.*?)<\|end\|>", text, re.S
        )
    ]
    weather = {a["city"]: a for name, a in answers if name == "get_weather" and a}
    if not answers:  # first step: a slip the tool will correct
        return (
            "<|channel|>analysis<|message|>Need both temperatures. Start with Oslo."
            "<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
            '<|constrain|>json<|message|>{"city": "Oslo", "unit": "kelvin"}<|call|>'
        )
    if "Oslo" not in weather:
        return (
            "<|channel|>analysis<|message|>Kelvin is not allowed; celsius is the default."
            "<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
            '<|constrain|>json<|message|>{"city": "Oslo"}<|call|>'
        )
    if "Lisbon" not in weather:
        return (
            "<|channel|>commentary to=functions.get_weather <|constrain|>json"
            '<|message|>{"city": "Lisbon"}<|call|>'
        )
    oslo, lisbon = weather["Oslo"], weather["Lisbon"]
    difference = [a for name, a in answers if name == "subtract" and a is not None]
    if not difference:
        return (
            "<|channel|>analysis<|message|>Lisbon is warmer; compute the difference."
            "<|end|><|start|>assistant<|channel|>commentary to=functions.subtract "
            f'<|constrain|>json<|message|>{{"a": {lisbon["temperature"]}, '
            f'"b": {oslo["temperature"]}}}<|call|>'
        )
    return (
        "<|channel|>analysis<|message|>Answer with both readings and the difference."
        "<|end|><|start|>assistant<|channel|>final<|message|>"
        f"Lisbon is warmer: {lisbon['temperature']} °C and {lisbon['sky']}, while Oslo has "
        f"{oslo['temperature']} °C and {oslo['sky']} — a difference of "
        f"{float(difference[0]):g} °C.<|return|>"
    )


async def run_demo() -> None:
    """Run the demo, printing to stdout."""
    with FakeVLLMServer(toy_model, token_delay=0.002) as server:
        async with VLLM(server.base_url, model=server.model_name) as backend:
            agent = ha.Agent(
                backend,
                tools=[get_weather, subtract],
                instructions="Answer weather questions with the tools. Be brief.",
                reasoning="low",
                max_turns=8,
            )
            enc = ha.load_encoding()
            prompt = enc.render_conversation_for_completion(agent.conversation_for(QUESTION))
            print(f"{BOLD}== the prompt ({len(prompt)} tokens) =={RESET}")
            print(enc.decode(prompt))
            print(f"\n{BOLD}== the run, as a developer sees it =={RESET}")
            visible = ha.VisibleTextFilter()
            shown: list[str] = []
            result = None
            async for event in agent.stream(QUESTION):
                shown.append(visible.feed(event))
                match event:
                    case ha.MessageEnd(message=m):
                        target = f" to={m.recipient}" if m.recipient else ""
                        style = DIM if m.channel == "analysis" else ""
                        print(f"{style}[assistant/{m.channel}{target}] {m.text}{RESET}")
                    case ha.ToolResult(messages=answers, error=error):
                        for answer in answers:
                            flag = " (error, sent back to the model)" if error else ""
                            print(f"[{answer.name}{flag}] {answer.text}")
                    case ha.RunEnd(result=r):
                        result = r
            assert result is not None
            print(f"\n{BOLD}== what the user sees (streamed through VisibleTextFilter) =={RESET}")
            print("".join(shown))
            print(f"\n{BOLD}== result =={RESET}")
            print(
                f"stop_reason={result.stop_reason} turns={result.turns} "
                f"prompt_tokens={result.usage.prompt_tokens} "
                f"completion_tokens={result.usage.completion_tokens} "
                f"http_requests={server.requests_seen}"
            )
            print(
                f"\n{BOLD}== conversation kept for the next turn (finished CoT dropped) =={RESET}"
            )
            for m in result.conversation:
                print(f"  {m.author:>22} {m.channel or '':<10} {m.text[:70]!r}")


def main() -> None:
    """Entry point of ``python -m harmony_agent.demo``."""
    asyncio.run(run_demo())


if __name__ == "__main__":
    main()
