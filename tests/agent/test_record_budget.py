"""A run whose answer the reasoning budget forced, recorded and replayed token for token."""

from __future__ import annotations

import harmony_agent as ha
from harmony_agent.backends import Replay
from tests.agent.test_reasoning_budget import Thinker


def test_a_forced_answer_replays_without_drift(encoding: ha.Encoding) -> None:
    recorder = ha.Recorder()
    live = ha.Agent(Thinker(encoding), reasoning_budget=20, record=recorder).run("Answer?")
    assert live.stop_reason == "final" and live.usage.forced_answers == 1
    (run,) = recorder.runs

    replay = Replay(run, chunk_size=1)  # the budget is checked per chunk, as live
    again = ha.Agent(replay, reasoning_budget=20).run("Answer?")
    replay.check()  # no drift: the forced header sits where it was recorded
    assert again.final_text == live.final_text
    assert again.usage.forced_answers == 1
    assert [m.text for m in again.messages] == [m.text for m in live.messages]
