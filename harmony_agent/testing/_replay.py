"""Recordings as regression tests: :func:`replay_cases` and :func:`replay`.

Record runs against a real server once, commit the JSONL files, and replay them in CI
with no model::

    import pytest
    import harmony_agent as ha
    from harmony_agent.testing import replay, replay_cases

    def make_agent(backend):
        return ha.Agent(backend, tools=[get_weather], instructions="Answer briefly.")

    @pytest.mark.parametrize("run", replay_cases("tests/data/recordings"))
    def test_recorded(run):
        replay(run, make_agent)

A test fails, with a readable message, when a prompt drifts from the recording (a tool
answers differently, the instructions or a render changed), or when the run ends with
another stop reason or final answer than it did when it was recorded.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harmony_agent.agent._recording import RecordedRun, Recording, RecordingLike
from harmony_agent.backends._replay import Replay
from harmony_agent.errors import BackendError, RecordingError
from harmony_agent.format._conversation import Conversation

if TYPE_CHECKING:
    from harmony_agent.agent import Agent, RunResult

__all__ = ["AgentFactory", "areplay", "replay", "replay_cases"]

#: Builds the agent under test around the replaying backend it is given.
AgentFactory = Callable[[Replay], "Agent"]


def replay_cases(folder: str | os.PathLike[str], pattern: str = "*.jsonl") -> list[Any]:
    """One ``pytest.param`` per recorded run in ``folder``'s files (searched recursively).

    Each param's value is a :class:`~harmony_agent.agent.RecordedRun`; its id
    is the file's path in ``folder`` without the suffix (``weather``,
    ``tools/python``), with ``-0``, ``-1``, ... when a file holds several runs.

    Raises:
        RecordingError: ``folder`` does not exist, or a file is not a recording.
    """
    import pytest

    root = Path(folder)
    if not root.is_dir():
        raise RecordingError(f"the recordings folder {os.fspath(folder)!r} does not exist")
    cases = []
    for path in sorted(root.rglob(pattern)):
        recording = Recording.load(path)
        stem = path.relative_to(root).with_suffix("").as_posix()
        for i, run in enumerate(recording):
            cases.append(pytest.param(run, id=stem if len(recording) == 1 else f"{stem}-{i}"))
    return cases


def replay(recording: RecordingLike, agent_factory: AgentFactory) -> list[RunResult]:
    """Replay every run of ``recording`` with the agent ``agent_factory`` builds.

    Each run gets its own :class:`~harmony_agent.backends.Replay` (collecting drift, so
    one failure shows all of it) and starts from the recorded input.

    Returns:
        The replayed runs' results, in the recording's order.

    Raises:
        AssertionError: a prompt drifted, the run asked for more or fewer completions
            than were recorded, or its stop reason or final answer changed; the message
            says which run and shows the first drift decoded.
    """
    __tracebackhide__ = True  # pytest: the failure points at the test
    runs = Recording.of(recording)
    results = []
    for index, run, backend in _cases(runs):
        try:
            result = agent_factory(backend).run(Conversation.unchecked(run.input))
        except BackendError as exc:
            _fail(runs, index, run, backend, None, exc)
        results.append(_check(runs, index, run, backend, result))
    return results


async def areplay(recording: RecordingLike, agent_factory: AgentFactory) -> list[RunResult]:
    """:func:`replay` for async tests (runs with ``await agent.arun``)."""
    __tracebackhide__ = True
    runs = Recording.of(recording)
    results = []
    for index, run, backend in _cases(runs):
        try:
            result = await agent_factory(backend).arun(Conversation.unchecked(run.input))
        except BackendError as exc:
            _fail(runs, index, run, backend, None, exc)
        results.append(_check(runs, index, run, backend, result))
    return results


def _cases(runs: Recording) -> list[tuple[int, RecordedRun, Replay]]:
    return [(i, run, Replay(run, on_drift="collect")) for i, run in enumerate(runs)]


def _check(
    recording: Recording, index: int, run: RecordedRun, backend: Replay, result: RunResult
) -> RunResult:
    __tracebackhide__ = True
    if (
        backend.drifts
        or backend.served.get(0, 0) != len(run.steps)
        or result.stop_reason != run.stop_reason
        or result.final_text != run.final_text
    ):
        _fail(recording, index, run, backend, result, None)
    return result


def _fail(
    recording: Recording,
    index: int,
    run: RecordedRun,
    backend: Replay,
    result: RunResult | None,
    raised: BaseException | None,
) -> None:
    __tracebackhide__ = True
    source = recording.source
    question = next((m.text for m in reversed(run.input) if m.role == "user"), "")
    label = f"run {index}" + (f" of {source}" if source else "")
    lines = [f"replay of {label} ({_short(question)!r}) differs from the recording:"]
    if backend.drifts:
        first = backend.drifts[0]
        more = len(backend.drifts) - 1
        lines.append("- " + str(first).replace("\n", "\n  "))
        if more:
            lines.append(f"  ({more} more drift(s) after it, most likely caused by this one)")
    if raised is not None:
        lines.append(f"- the run raised {type(raised).__name__}: {raised}")
    served = backend.served.get(0, 0)
    if served != len(run.steps) and raised is None:
        lines.append(
            f"- the agent asked for {served} completion(s); {len(run.steps)} were recorded"
        )
    if result is not None:
        if result.stop_reason != run.stop_reason:
            error = f" ({result.error})" if result.error else ""
            lines.append(
                f"- stop_reason: recorded {run.stop_reason!r}, now {result.stop_reason!r}{error}"
            )
        if result.final_text != run.final_text:
            lines.append(
                f"- final_text: recorded {_short(run.final_text)!r}, "
                f"now {_short(result.final_text)!r}"
            )
    raise AssertionError("\n".join(lines))


def _short(text: str | None, limit: int = 80) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
