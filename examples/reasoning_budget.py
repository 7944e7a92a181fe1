"""A reasoning budget: cap how long the model thinks, then make it answer.

``reasoning_budget=N`` closes the stream once a completion's ``analysis`` passes N tokens
(over HTTP that aborts the request), appends
``<|end|><|start|>assistant<|channel|>final<|message|>`` and lets the model answer from
the reasoning it has. Offline the "model" is a scripted function that would think
forever (labelled as such); against vLLM set ``HARMONY_AGENT_URL``.

    python examples/reasoning_budget.py
    HARMONY_AGENT_URL=http://127.0.0.1:8000 python examples/reasoning_budget.py
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import harmony_agent as ha

encoding = ha.load_encoding()
ANSWER_NOW = encoding.encode("<|channel|>final<|message|>", allowed_special="all")


def overthinker(prompt: list[int], params: ha.SamplingParams) -> Iterator[int]:
    """Scripted, not a model: thinks forever, unless the prompt says to answer."""
    if prompt[-len(ANSWER_NOW) :] == ANSWER_NOW:
        yield from encoding.encode("(scripted) 17 is prime.<|return|>", allowed_special="all")
        return
    yield from encoding.encode("<|channel|>analysis<|message|>Is 17 prime?", allowed_special="all")
    while True:
        yield from encoding.encode_ordinary(" Let me check again.")


def main() -> None:
    url = os.environ.get("HARMONY_AGENT_URL")
    backend = ha.backends.VLLM(url) if url else overthinker
    agent = ha.Agent(backend, reasoning="high", reasoning_budget=64)
    result = agent.run("Is 17 a prime number?")
    print("answer:", result.final_text)
    usage = result.usage
    print(f"reasoning tokens: {usage.reasoning_tokens}, forced answers: {usage.forced_answers}")


if __name__ == "__main__":
    main()
