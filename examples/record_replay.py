"""Record a run once, replay it forever: regression tests for an agent, with no model.

1. Record: run the agent against a model server with ``record=`` (here a fake vLLM
   server on 127.0.0.1 stands in for the real one, so the example runs offline).
2. Replay: the same agent on ``ha.backends.Replay(recording)`` gets the recorded
   completions token for token; its tools run for real. Same prompts: no drift.
3. Change something the model sees (here the tool's answer) and the replay says where
   the prompt first differs from the recording, both sides decoded.

    python examples/record_replay.py
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import harmony_agent as ha
from harmony_agent.backends import VLLM, Replay
from harmony_agent.testing import FakeVLLMServer

PRICES = {"apples": 3, "pears": 4}


def make_agent(
    backend: object, prices: dict[str, int] = PRICES, record: Path | None = None
) -> ha.Agent:
    """The agent under test: one function tool and short instructions."""

    @ha.tool
    def price(fruit: str) -> str:
        """The price of one kilo of a fruit, in euros.

        Args:
            fruit: the fruit, e.g. "apples".
        """
        return json.dumps({"fruit": fruit, "eur_per_kg": prices.get(fruit, 0)})

    return ha.Agent(
        backend, tools=[price], instructions="Answer with the total only.", record=record
    )


def model(prompt: list[int]) -> str:
    """A stand-in for gpt-oss on the server: asks for the price, then answers."""
    text = ha.load_encoding().decode(prompt)
    answers = re.findall(r"to=assistant<\|channel\|>commentary<\|message\|>(.*?)<\|end\|>", text)
    if not answers:
        return (
            "<|channel|>analysis<|message|>I need the price of apples.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.price <|constrain|>json"
            '<|message|>{"fruit": "apples"}<|call|>'
        )
    total = 2 * json.loads(answers[0])["eur_per_kg"]
    return f"<|channel|>final<|message|>2 kg of apples cost {total} euros.<|return|>"


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        show(Path(folder) / "apples.jsonl")


def show(path: Path) -> None:
    """Record into ``path``, replay it, then replay it with a changed tool."""
    question = "What do 2 kg of apples cost?"

    # 1. Record (point VLLM at your real server instead, once).
    with FakeVLLMServer(model) as server:
        answer = make_agent(VLLM(server.base_url), record=path).run(question)
    run = ha.Recording.load(path)[0]
    print(f"recorded: {answer.final_text!r} in {len(run.steps)} completions -> {path.name}")

    # 2. Replay with no model: the same prompts, the same answer.
    replay = Replay(path)
    again = make_agent(replay).run(question)
    print(f"replayed: {again.final_text!r}, drift: {len(replay.drifts)}")

    # 3. The tool now answers differently: the replay shows where the prompt drifted.
    replay = Replay(path, on_drift="collect")
    make_agent(replay, prices={"apples": 5}).run(question)
    print(f"changed tool -> {replay.drifts[0]}")


if __name__ == "__main__":
    main()
