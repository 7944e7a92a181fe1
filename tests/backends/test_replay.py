"""``ha.backends.Replay``: recorded completions played back, prompt drift reported."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.agent._recording import RecordedRun
from harmony_agent.backends import Replay, ReplayDrift, ReplayExhausted, Scripted
from tests.recorded import weather_agent, weather_model, weather_tool

QUESTION = "Compare Oslo and Lisbon."


@pytest.fixture(scope="module")
def recorded() -> tuple[RecordedRun, ha.RunResult]:
    recorder = ha.Recorder()
    result = weather_agent(Scripted(weather_model), record=recorder).run(QUESTION)
    return recorder.runs[0], result


@pytest.mark.parametrize("chunk_size", [None, 1, 7])
async def test_a_replay_without_drift_gives_the_same_run(recorded, chunk_size):
    run, result = recorded
    replay = Replay(run, chunk_size=chunk_size)
    again = await weather_agent(replay).arun(QUESTION)
    assert again == result
    assert replay.drifts == [] and replay.served == {0: 3} and replay.remaining == 0
    replay.check()  # nothing to raise
    assert "3 served, 0 drift(s)" in repr(replay)


def test_replay_works_from_sync_code_and_a_file(recorded, tmp_path: Path):
    run, result = recorded
    path = tmp_path / "run.jsonl"
    ha.Recording([run]).save(path)
    replay = Replay(path)
    assert weather_agent(replay).run(QUESTION) == result
    replay.reset()  # and again, from the start
    assert weather_agent(replay).run(QUESTION) == result


def test_a_changed_tool_answer_is_drift_at_its_token(recorded, encoding: ha.Encoding):
    run, _ = recorded
    replay = Replay(run)
    changed = weather_tool({"Oslo": 5, "Lisbon": 19})
    result = weather_agent(replay, tool=changed).run(QUESTION)
    # the drift is in the second prompt: the run ends there, as on any backend failure
    assert result.stop_reason == "interrupted" and "replay drift" in (result.error or "")
    [drift] = replay.drifts
    assert isinstance(drift, ReplayDrift) and isinstance(drift, ha.BackendError)
    assert (drift.run, drift.step) == (0, 1)
    prompt = run.prompt(1)
    assert encoding.decode([prompt[drift.index]]) == "4"  # Oslo's temperature
    assert encoding.decode(prompt[drift.index + 1 :]) == "}<|end|><|start|>assistant"
    assert drift.where == "the tool message from functions.get_weather (message 6 of the prompt)"
    assert drift.recorded_text.endswith('"celsius": ⟦4⟧}<|end|><|start|>assistant')
    assert drift.actual_text.endswith('"celsius": ⟦5⟧}<|end|><|start|>assistant')
    assert drift.recorded == tuple(prompt[drift.index - 8 :])  # 8 tokens of context
    assert "at token" in str(drift) and "  recorded: …" in str(drift)
    with pytest.raises(ReplayDrift) as raised:
        replay.check()
    assert raised.value is drift


def test_collecting_drift_lets_the_run_go_on(recorded):
    run, result = recorded
    replay = Replay(run, on_drift="collect")
    changed = weather_tool({"Oslo": 5, "Lisbon": 20})
    again = weather_agent(replay, tool=changed).run(QUESTION)
    assert again.final_text == result.final_text  # the recorded answer, served anyway
    assert [(d.step, d.where.split(" (")[0]) for d in replay.drifts] == [
        (1, "the tool message from functions.get_weather"),
        (2, "the tool message from functions.get_weather"),
    ]


def test_changed_instructions_drift_in_the_developer_message(recorded):
    run, _ = recorded
    replay = Replay(run)
    with pytest.raises(ReplayDrift) as raised:  # the first prompt: the run raises it
        weather_agent(replay, instructions="Answer in two sentences.").run(QUESTION)
    drift = raised.value
    assert drift.step == 0 and drift.where.startswith("the developer message")
    assert "Answer in⟦ one⟧ sentence" in drift.recorded_text
    assert "Answer in⟦ two⟧ sentences" in drift.actual_text
    assert "<|start|>developer<|message|># Instructions\\n\\n" in drift.actual_text


def test_a_longer_run_than_recorded_exhausts_the_replay(recorded):
    run, _ = recorded
    short = run.model_copy(update={"steps": run.steps[:2]})  # the answer was not recorded
    result = weather_agent(Replay(short)).run(QUESTION)
    assert result.stop_reason == "interrupted"
    assert "recorded run 0 has 2 step(s), and the agent asked for step 2" in (result.error or "")
    replay = Replay(run)
    weather_agent(replay).run(QUESTION)
    with pytest.raises(ReplayExhausted, match="all 1 recorded run"):  # a second run
        weather_agent(replay).run("Oslo?")


def test_several_runs_replay_in_any_order(tmp_path: Path):
    recorder = ha.Recorder(tmp_path / "many.jsonl")
    agent = weather_agent(Scripted(weather_model), record=recorder)
    questions = ["Oslo?", "Lisbon?", "Cairo and Oslo?"]
    results = [agent.run(q) for q in questions]
    replay = Replay(recorder.path)  # type: ignore[arg-type]
    replayed = weather_agent(replay)
    for question, result in reversed(list(zip(questions, results, strict=True))):
        assert replayed.run(question) == result
    assert replay.drifts == [] and replay.served == {2: 3, 1: 2, 0: 2}


def test_a_drifted_first_prompt_is_matched_to_the_likeliest_run(tmp_path: Path):
    recorder = ha.Recorder()
    agent = weather_agent(Scripted(weather_model), record=recorder)
    for question in ["Oslo?", "Lisbon?", "Cairo?"]:
        agent.run(question)
    replay = Replay(recorder.recording, on_drift="collect")
    changed = weather_agent(replay, instructions="Be terse.")
    assert changed.run("Lisbon?").final_text == "Lisbon is 19 °C."  # not run 0's answer
    assert replay.drifts[0].run == 1 and replay.drifts[0].step == 0


async def test_a_request_inside_a_served_completion_gets_the_rest(recorded):
    """A continuation (a resume, a forced answer) is served the recorded remainder."""
    run, _ = recorded
    replay = Replay(run)
    params = ha.SamplingParams()
    whole = [t async for chunk in replay.stream(run.prompt(0), params) for t in chunk]
    assert whole == run.completion(0)
    rest = [t async for chunk in replay.stream(run.prompt(0) + whole[:5], params) for t in chunk]
    assert rest == whole[5:]


async def test_todays_limits_cut_a_recorded_completion(recorded):
    run, _ = recorded
    replay = Replay(run, chunk_size=2)
    chunks = [
        chunk async for chunk in replay.stream(run.prompt(0), ha.SamplingParams(max_tokens=3))
    ]
    assert [t for c in chunks for t in c] == run.completion(0)[:3]
    assert isinstance(chunks[-1], ha.backends.Finish) and chunks[-1].reason == "length"


def test_bad_recordings_and_options_are_clear_errors(recorded, tmp_path: Path):
    run, _ = recorded
    with pytest.raises(ha.RecordingError, match="encoding 'Other'"):
        Replay(run.model_copy(update={"encoding": "Other"}))
    with pytest.raises(ValueError, match="on_drift must be"):
        Replay(run, on_drift="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="chunk_size"):
        Replay(run, chunk_size=0)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(run.model_dump_json() + "\n\n{not json\n")
    with pytest.raises(ha.RecordingError, match=r"bad.jsonl:3: not a harmony_agent recorded"):
        Replay(bad)
    bad.write_text(run.model_dump_json().replace('"version":1', '"version":2', 1))
    with pytest.raises(ha.RecordingError, match="version 2 is not supported"):
        ha.Recording.load(bad)
    with pytest.raises(ha.RecordingError, match="cannot read the recording"):
        ha.Recording.load(tmp_path / "missing.jsonl")
    with pytest.raises(TypeError, match="a recording is a path"):
        Replay([42])  # type: ignore[list-item]


def test_one_replay_serves_runs_from_several_threads():
    recorder = ha.Recorder()
    agent = weather_agent(Scripted(weather_model), record=recorder)
    questions = ["Oslo?", "Lisbon and Cairo?", "Cairo?", "Oslo and Lisbon?"]
    expected = [agent.run(q).final_text for q in questions]
    replay = Replay(recorder.recording)
    replayed = weather_agent(replay)
    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(lambda q: replayed.run(q).final_text, questions))
    assert answers == expected and replay.drifts == [] and replay.remaining == 0
