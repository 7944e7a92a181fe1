"""Recording runs token for token: ``Agent(record=...)``, ``Recorder``, ``run_many(record=)``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.agent import arun_many
from harmony_agent.agent._record import Tape
from harmony_agent.backends import VLLM, Replay, Scripted
from harmony_agent.testing import Cut, FakeVLLMServer
from tests.recorded import INSTRUCTIONS, weather_agent, weather_model, weather_tool


def test_a_multi_step_run_is_recorded_token_for_token(encoding: ha.Encoding):
    backend = Scripted(weather_model)
    recorder = ha.Recorder()
    result = weather_agent(backend, record=recorder).run("Compare Oslo and Lisbon.")
    assert result.stop_reason == "final" and result.turns == 3
    [run] = recorder.runs
    assert (run.format, run.version, run.encoding) == ("harmony-agent/recording", 1, encoding.name)
    assert run.harmony_agent == ha.__version__ and run.created.endswith("Z")
    assert [m.text for m in run.input] == ["Compare Oslo and Lisbon."]  # no prelude
    assert (run.stop_reason, run.final_text, run.turns, run.error) == (
        "final",
        "Oslo is 4 °C, Lisbon is 19 °C.",
        3,
        None,
    )
    # every prompt the backend got, and every completion exactly as it produced it
    assert [run.prompt(i) for i in range(3)] == backend.prompts
    for i, prompt in enumerate(backend.prompts):
        completion = encoding.encode(weather_model(prompt), allowed_special="all")
        assert run.completion(i) == completion
        assert run.steps[i].text == encoding.decode(completion)
        assert run.steps[i].sampling == backend.calls[i]
    assert list(run.tokens[: len(backend.prompts[-1])]) == backend.prompts[-1]
    # the tool calls, and the answers with the tokens the model saw
    calls = [step.call for step in run.steps]
    assert calls[2] is None
    answers = [m for m in result.messages if m.role == "tool"]
    for call, answer in zip(calls[:2], answers, strict=True):
        assert call is not None and call.recipient == "functions.get_weather"
        assert call.content_type == "<|constrain|>json" and not call.failed
        [recorded] = call.answers
        assert (recorded.name, recorded.text) == (answer.name, answer.text)
        assert list(recorded.tokens) == encoding.render(answer)
    assert json.loads(calls[1].arguments) == {"city": "Lisbon"}


def test_recording_changes_nothing():
    plain = weather_agent(Scripted(weather_model)).run("Compare Oslo and Lisbon.")
    recorded = weather_agent(Scripted(weather_model), record=ha.Recorder()).run(
        "Compare Oslo and Lisbon."
    )
    assert recorded == plain


def test_a_failed_tool_call_and_a_conversation_input_are_recorded():
    recorder = ha.Recorder()
    agent = weather_agent(Scripted(weather_model), record=recorder)
    first = agent.run("How warm is it in Cairo?")
    follow_up = first.conversation.append(ha.Message.user("What about Atlantis?"))
    agent.run(follow_up)
    one, two = recorder.runs
    assert one.steps[0].call is not None and not one.steps[0].call.failed
    call = two.steps[0].call
    assert call is not None and call.failed
    assert "no weather for 'Atlantis'" in call.answers[0].text
    # the second run's input is the conversation, without the agent's own prelude
    assert [m.role for m in two.input] == ["user", "assistant", "tool", "assistant", "user"]
    assert two.input[-1].text == "What about Atlantis?"


def test_runs_are_appended_to_a_file_one_line_each(tmp_path: Path):
    path = tmp_path / "deep" / "runs.jsonl"
    weather_agent(Scripted(weather_model), record=path).run("Oslo?")
    weather_agent(Scripted(weather_model), record=str(path)).run("Lisbon?")  # appends
    lines = path.read_text().splitlines()
    assert len(lines) == 2 and all(json.loads(line)["format"] for line in lines)
    recording = ha.Recording.load(path)
    assert [run.final_text for run in recording] == ["Oslo is 4 °C.", "Lisbon is 19 °C."]
    assert recording.source == str(path) and "2 run(s)" in repr(recording)
    ha.Recorder(path, append=False)
    assert path.read_text() == ""


def test_a_fake_vllm_server_stream_is_recorded_and_replays(encoding: ha.Encoding):
    with FakeVLLMServer(weather_model) as server:
        backend = VLLM(server.base_url, model=server.model_name)
        recorder = ha.Recorder()
        result = weather_agent(backend, record=recorder).run("How warm is it in Oslo?")
        sent = [body["prompt"] for body in server.bodies]
    assert result.final_text == "Oslo is 4 °C."
    [run] = recorder.runs
    assert [run.prompt(i) for i in range(len(run.steps))] == sent
    assert [step.finish for step in run.steps] == ["stop", "stop"]
    assert weather_agent(Replay(run)).run("How warm is it in Oslo?") == result


def test_a_stop_token_the_agent_restored_follows_the_completion(encoding: ha.Encoding):
    """An engine that leaves the stop token out: the completion is kept as it sent it."""

    def stripped(prompt: list[int]) -> str:
        return weather_model(prompt).removesuffix("<|call|>").removesuffix("<|return|>")

    recorder = ha.Recorder()
    result = weather_agent(Scripted(stripped), record=recorder).run("How warm is it in Oslo?")
    assert result.final_text == "Oslo is 4 °C."
    [run] = recorder.runs
    step = run.steps[0]
    assert encoding.decode(run.completion(0)).endswith('{"city": "Oslo"}')
    assert encoding.decode([run.tokens[step.prompt + step.completion]]) == "<|call|>"
    assert step.call is not None and step.call.answers[0].text == '{"city": "Oslo", "celsius": 4}'
    assert weather_agent(Replay(run)).run("How warm is it in Oslo?") == result


def test_a_resumed_stream_is_recorded_as_one_completion():
    def first_stream_cut(stream: int, resumed: bool) -> Cut | None:
        return Cut(5) if stream == 1 else None  # streams count from 1

    with FakeVLLMServer(weather_model, cut=first_stream_cut) as server:
        backend = VLLM(server.base_url, model=server.model_name, max_retries=0)
        recorder = ha.Recorder()
        agent = weather_agent(backend, record=recorder, resume=ha.ResumePolicy(backoff=0))
        result = agent.run("How warm is it in Oslo?")
    assert result.stop_reason == "final" and result.usage.resumes > 0
    [run] = recorder.runs
    assert len(run.steps) == 2
    assert run.completion(0) == ha.load_encoding().encode(
        weather_model(run.prompt(0)), allowed_special="all"
    )
    assert weather_agent(Replay(run)).run("How warm is it in Oslo?").final_text == (
        result.final_text
    )


class _Breaks:
    """Answers the first completion, then breaks after a few tokens of the second."""

    def __init__(self) -> None:
        self.calls = 0

    async def stream(
        self, prompt_tokens: list[int], params: ha.SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        self.calls += 1
        tokens = ha.load_encoding().encode(weather_model(prompt_tokens), allowed_special="all")
        if self.calls == 1:
            yield tokens
            return
        yield tokens[:4]
        raise ha.StreamInterrupted("the server went away", received=4)


def test_an_interrupted_run_is_recorded_and_replays_the_same():
    recorder = ha.Recorder()
    result = weather_agent(_Breaks(), record=recorder, resume=False).run("Oslo?")
    assert result.stop_reason == "interrupted"
    [run] = recorder.runs
    assert run.stop_reason == "interrupted" and run.error == result.error
    assert run.steps[1].error == result.error and run.steps[1].completion == 4
    replayed = weather_agent(Replay(run)).run("Oslo?")
    assert (replayed.stop_reason, replayed.error) == ("interrupted", result.error)
    assert replayed.messages == result.messages


def test_a_run_that_raises_is_not_recorded():
    recorder = ha.Recorder()
    with pytest.raises(ha.BackendError, match="no completion left"):
        weather_agent(Scripted([]), record=recorder).run("Oslo?")
    assert recorder.runs == [] and recorder.written == 0


async def test_run_many_records_every_run_concurrently(tmp_path: Path):
    path = tmp_path / "batch.jsonl"

    async def slow_model(prompt: list[int]) -> str:
        await asyncio.sleep(0.001 * (len(prompt) % 5))  # runs finish out of order
        return weather_model(prompt)

    questions = [f"{city} today? ({i})" for i, city in enumerate(["Oslo", "Lisbon", "Cairo"] * 4)]
    agent = weather_agent(Scripted(slow_model))
    results = await arun_many(agent, questions, concurrency=6, progress=False, record=path)
    assert agent.recorder is None  # the caller's agent is left as it was
    recording = ha.Recording.load(path)
    assert len(recording) == len(questions)
    by_question = {run.input[0].text: run for run in recording}
    assert set(by_question) == set(questions)
    for question, result in zip(questions, results, strict=True):
        assert by_question[question].final_text == result.final_text
    # and the whole batch replays, concurrently, in another order, without drift
    replay = Replay(path)
    again = await arun_many(weather_agent(replay), questions[::-1], concurrency=6, progress=False)
    assert [r.final_text for r in again] == [r.final_text for r in results[::-1]]
    assert replay.drifts == [] and replay.remaining == 0


def test_the_recorder_is_shared_and_the_record_argument_checked(tmp_path: Path):
    recorder = ha.Recorder(tmp_path / "shared.jsonl")
    agent = weather_agent(Scripted(weather_model), record=recorder)
    agent.with_tools([weather_tool({"Oslo": 1})]).run("Oslo?")
    agent.run("Oslo?")
    assert recorder.written == 2 and len(recorder.recording) == 2
    assert "shared.jsonl" in repr(recorder) and "2 run(s)" in repr(recorder)
    with pytest.raises(TypeError, match="record= takes a file path"):
        ha.Agent(Scripted([]), record=42)  # type: ignore[arg-type]
    with pytest.raises(OSError):
        ha.Agent(Scripted([]), record=tmp_path / "shared.jsonl" / "not-a-folder.jsonl")


def test_a_prompt_that_is_not_the_runs_stream_is_kept_whole(encoding: ha.Encoding):
    """A loop that replaced its prompt list (today's never does) is still recorded."""
    recorder = ha.Recorder()
    agent = ha.Agent(Scripted([]), instructions=INSTRUCTIONS)
    tape = recorder.start(agent, agent.conversation_for("Hi"))
    assert isinstance(tape, Tape)
    params = ha.SamplingParams()
    first, other = [1, 2, 3], [7, 8, 9, 10]
    tape.completion(first, params, [4], None, None)
    first += [4, 5]
    tape.completion(other, params, [11, 12], "stop", None)
    result = ha.RunResult(
        final_text=None, messages=(), conversation=ha.Conversation(), stop_reason="no_final"
    )
    tape.end(result, other)
    [run] = recorder.runs
    assert run.prompt(0) == [1, 2, 3] and run.completion(0) == [4]
    assert run.prompt(1) == [7, 8, 9, 10] and run.completion(1) == [11, 12]
    assert run.steps[1].tokens == (7, 8, 9, 10, 11, 12)


def test_a_write_that_fails_later_is_logged_and_the_run_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    path = tmp_path / "gone" / "runs.jsonl"
    recorder = ha.Recorder(path)
    path.unlink()
    path.parent.rmdir()  # the folder went away after the recorder was made
    result = weather_agent(Scripted(weather_model), record=recorder).run("Oslo?")
    assert result.final_text == "Oslo is 4 °C."
    assert (recorder.written, recorder.failed) == (0, 1)
    assert "could not record a run to" in caplog.text


def test_tokens_are_stored_packed_and_odd_ids_as_numbers():
    from harmony_agent.agent._record import pack_tokens
    from harmony_agent.agent._recording import RecordedAnswer

    packed = pack_tokens([0, 5, 200012])
    assert isinstance(packed, str)
    assert RecordedAnswer(name=None, text="", tokens=packed).tokens == (0, 5, 200012)  # type: ignore[arg-type]
    assert pack_tokens([-1, 2**40]) == [-1, 2**40]  # a hostile backend's ids, kept as they are
    assert RecordedAnswer(name=None, text="", tokens=[-1]).tokens == (-1,)  # type: ignore[arg-type]
    for bad in ("not base64!", "AAA="):
        with pytest.raises(ValueError, match="token data"):
            RecordedAnswer(name=None, text="", tokens=bad)  # type: ignore[arg-type]


def test_a_run_with_ids_that_do_not_fit_is_still_recorded():
    recorder = ha.Recorder()
    agent = ha.Agent(Scripted([]))
    tape = recorder.start(agent, agent.conversation_for("Hi"))
    prompt = [-5, 1]
    tape.completion(prompt, ha.SamplingParams(), [2**40], None, None)
    prompt += [2**40]
    result = ha.RunResult(
        final_text=None, messages=(), conversation=ha.Conversation(), stop_reason="no_final"
    )
    tape.end(result, prompt)
    [run] = recorder.runs
    assert run.tokens == (-5, 1, 2**40) and run.completion(0) == [2**40]
    assert "<|token_-5|>" not in run.steps[0].text  # the completion alone is decoded
