"""Typed answers: ``output_type`` makes the final answer a validated pydantic object.

The agent declares the model's JSON Schema in the developer message (harmony's
``# Response Formats`` section), parses the answer (a code fence or words around the JSON
are tolerated) and validates it; a wrong answer goes back to the model as a short
correction and it answers again. Offline a scripted stand-in plays the model (labelled
as such): its first answer breaks the schema, the second is right.

    python examples/typed_answer.py
"""

from __future__ import annotations

from pydantic import BaseModel, Field

import harmony_agent as ha


class Trip(BaseModel):
    """A day trip: where to go and what it costs."""

    destination: str
    hours: float = Field(gt=0, description="time on the road, both ways")
    cost_eur: int = Field(ge=0)


ANSWERS = [  # scripted, not a model
    "<|channel|>analysis<|message|>Sintra is close to Lisbon.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>"
    '{"destination": "Sintra", "hours": "about one", "cost_eur": 12}<|return|>',
    "<|channel|>analysis<|message|>Hours must be a number.<|end|>"
    '<|start|>assistant<|channel|>final<|message|>```json\n{"destination": "Sintra", '
    '"hours": 1.5, "cost_eur": 12}\n```<|return|>',
]


def main() -> None:
    backend = ha.backends.Scripted(ANSWERS)
    agent = ha.Agent(backend, instructions="Plan trips from Lisbon.", output_type=Trip)
    result = agent.run("A day trip from Lisbon by train?")
    trip = result.output
    assert isinstance(trip, Trip)
    print(f"(scripted) {trip.destination}: {trip.hours} h, {trip.cost_eur} EUR")
    print(f"turns: {result.turns}, stop_reason: {result.stop_reason}")
    correction = next(m for m in result.messages if m.role is ha.Role.USER)
    print("correction sent to the model:", correction.text)


if __name__ == "__main__":
    main()
