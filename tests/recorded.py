"""A small weather agent for the record/replay tests, and the recordings it made.

``weather_model`` stands in for gpt-oss: it calls ``get_weather`` once per city the
question names, then answers from the tool's answers. It is a function of the prompt,
so a scripted backend and a fake HTTP server run it alike.

Regenerate the committed recordings (after a deliberate change of the agent, the
renderer or the model stand-in)::

    python -m tests.recorded
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import harmony_agent as ha
from harmony_agent.agent import run_many
from harmony_agent.backends import VLLM
from harmony_agent.testing import FakeVLLMServer

RECORDINGS = Path(__file__).resolve().parent / "data" / "recordings"
TEMPERATURES = {"Oslo": 4, "Lisbon": 19, "Cairo": 31}
INSTRUCTIONS = "Answer in one sentence."
CITIES = ("Oslo", "Lisbon", "Cairo", "Atlantis")

_ANSWER = re.compile(
    r"<\|start\|>functions\.get_weather to=assistant<\|channel\|>commentary"
    r"<\|message\|>(.*?)<\|end\|>",
    re.S,
)


def weather_tool(temperatures: dict[str, int] | None = None) -> ha.FunctionTool:
    """``get_weather`` reading ``temperatures`` (default: :data:`TEMPERATURES`)."""
    table = TEMPERATURES if temperatures is None else temperatures

    @ha.tool
    def get_weather(city: str) -> str:
        """Today's temperature in a city.

        Args:
            city: the city's name.
        """
        if city not in table:
            raise ha.ToolError(f"no weather for {city!r}; known cities: {', '.join(table)}")
        return json.dumps({"city": city, "celsius": table[city]})

    return get_weather


def weather_model(prompt: list[int]) -> str:
    """The next completion: a call for the next city asked about, or the answer."""
    text = ha.load_encoding().decode(prompt)
    turn = text.rsplit("<|start|>user<|message|>", 1)[1]
    question = turn.split("<|end|>", 1)[0]
    cities = [c for c in CITIES if c in question]
    answers = _ANSWER.findall(turn)
    if len(answers) < len(cities):
        city = cities[len(answers)]
        return (
            f"<|channel|>analysis<|message|>I need the weather in {city}.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_weather "
            f'<|constrain|>json<|message|>{{"city": "{city}"}}<|call|>'
        )
    parts = []
    for answer in answers:
        try:
            found = json.loads(answer)
            parts.append(f"{found['city']} is {found['celsius']} °C")
        except ValueError:
            parts.append("one city is unknown")
    return (
        "<|channel|>analysis<|message|>I have everything.<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{', '.join(parts) or 'Nothing asked'}."
        "<|return|>"
    )


def weather_agent(backend: Any, **options: Any) -> ha.Agent:
    """The agent under test: ``get_weather``, the instructions, ``options`` on top."""
    tools = [options.pop("tool", None) or weather_tool()]
    options.setdefault("instructions", INSTRUCTIONS)
    return ha.Agent(backend, tools, **options)


def record_all(folder: Path = RECORDINGS) -> None:
    """Record the committed recordings against a fake vLLM server."""
    folder.mkdir(parents=True, exist_ok=True)
    with FakeVLLMServer(weather_model) as server:
        backend = VLLM(server.base_url, model=server.model_name)
        for name, question in {
            "oslo": "How warm is it in Oslo?",
            "two_cities": "Compare Oslo and Lisbon.",
            "unknown_city": "What about Atlantis?",
        }.items():
            path = folder / f"{name}.jsonl"
            path.unlink(missing_ok=True)
            weather_agent(backend, record=path).run(question)
        batch = folder / "batch" / "three.jsonl"
        batch.unlink(missing_ok=True)
        questions = ["Weather in Cairo?", "Lisbon, please.", "Oslo and Cairo?"]
        run_many(weather_agent(backend), questions, progress=False, record=batch)


if __name__ == "__main__":
    record_all()
    print(f"recorded into {RECORDINGS}")
