"""Progress without the chain of thought: show the preambles gpt-oss writes before tools.

Before calling tools gpt-oss often writes a short ``commentary`` note for the user ("I'll
look up the train times"). ``Agent.stream`` reports each as a ``ha.Preamble`` event;
``ha.VisibleTextFilter(include_preambles=True)`` streams them with the answer, and the
``analysis`` channel never shows. Offline a scripted stand-in plays the model.

    python examples/preambles.py
"""

from __future__ import annotations

import asyncio

import harmony_agent as ha

SCRIPT = [  # scripted, not a model
    "<|channel|>analysis<|message|>SECRET-REASONING: need the timetable.<|end|>"
    "<|start|>assistant<|channel|>commentary<|message|>Looking up the trains to Porto.<|end|>"
    "<|start|>assistant<|channel|>commentary to=functions.trains <|constrain|>json"
    '<|message|>{"to": "Porto"}<|call|>',
    "<|channel|>analysis<|message|>SECRET-REASONING: the 9:00 is fastest.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>(scripted) Take the 9:00 Alfa Pendular: "
    "2 h 49 min.<|return|>",
]


@ha.tool
def trains(to: str) -> str:
    """Today's trains from Lisbon.

    Args:
        to: the destination.
    """
    return f"to {to}: 9:00 (2 h 49 min), 10:30 (3 h 15 min)"


async def main() -> None:
    agent = ha.Agent(ha.backends.Scripted(SCRIPT), tools=[trains])
    shown = ha.VisibleTextFilter(include_preambles=True)
    async for event in agent.stream("How do I get to Porto fastest?"):
        if isinstance(event, ha.Preamble):
            print(f"[progress] {event.text}")
        elif isinstance(event, ha.ToolCallStart):
            print(f"[calling {event.message.recipient}]")
        shown.feed(event)
    print("the user saw:", shown.text.replace("\n\n", " | "))


if __name__ == "__main__":
    asyncio.run(main())
