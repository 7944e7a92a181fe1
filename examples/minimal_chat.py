"""A multi-turn chat in a few lines: each answer's conversation is the next turn's start.

Offline it talks to a scripted stand-in for gpt-oss (labelled as such below). To talk to
a real model, start vLLM (``vllm serve openai/gpt-oss-20b``) and run::

    HARMONY_AGENT_URL=http://127.0.0.1:8000 python examples/minimal_chat.py
"""

from __future__ import annotations

import os
import re

import harmony_agent as ha


def stand_in(prompt: list[int]) -> str:
    """Scripted, not a model: answers with what it was asked and how many turns it saw."""
    text = ha.load_encoding().decode(prompt)
    questions = re.findall(r"<\|start\|>user<\|message\|>(.*?)<\|end\|>", text)
    return (
        "<|channel|>analysis<|message|>Reply briefly.<|end|><|start|>assistant"
        f"<|channel|>final<|message|>(scripted) Turn {len(questions)}: you asked "
        f"{questions[-1]!r}.<|return|>"
    )


def backend() -> ha.Backend:
    url = os.environ.get("HARMONY_AGENT_URL")
    return ha.backends.VLLM(url) if url else ha.backends.Scripted(stand_in)


def main() -> None:
    agent = ha.Agent(backend(), instructions="Be brief.", reasoning="low")
    conversation = None
    for question in ["What is the harmony format?", "And why does it have channels?"]:
        start = question if conversation is None else conversation.append(ha.Message.user(question))
        result = agent.run(start)
        print(f"you: {question}\nassistant: {result.final_text}\n")
        conversation = result.conversation  # finished chain of thought already dropped
    assert conversation is not None
    print(f"{len(conversation)} messages kept:", [m.role.value for m in conversation])


if __name__ == "__main__":
    main()
