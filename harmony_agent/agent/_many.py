"""Many episodes at once, for evaluations: :func:`run_many` and :func:`arun_many`."""

from __future__ import annotations

import asyncio
import copy
import os
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from harmony_agent.agent._agent import Agent, AgentInput
from harmony_agent.agent._aio import released, run_sync
from harmony_agent.agent._record import RecordTarget, as_recorder
from harmony_agent.agent._result import RunResult
from harmony_agent.format._conversation import Conversation

__all__ = ["arun_many", "run_many"]


def run_many(
    agent: Agent,
    prompts: Iterable[AgentInput],
    *,
    concurrency: int = 8,
    progress: bool = True,
    jsonl: str | os.PathLike[str] | None = None,
    raise_errors: bool = False,
    record: RecordTarget = None,
) -> list[RunResult]:
    """Run ``agent`` on every prompt, ``concurrency`` runs at a time (blocking).

    See :func:`arun_many`.

    Raises:
        RuntimeError: called while this thread runs an event loop: ``await
            arun_many(...)`` there instead.
    """
    results: list[RunResult] = run_sync(
        lambda: released(
            agent.backend,
            arun_many(
                agent,
                prompts,
                concurrency=concurrency,
                progress=progress,
                jsonl=jsonl,
                raise_errors=raise_errors,
                record=record,
            ),
        ),
        entry="run_many",
        instead="arun_many",
    )
    return results


async def arun_many(
    agent: Agent,
    prompts: Iterable[AgentInput],
    *,
    concurrency: int = 8,
    progress: bool = True,
    jsonl: str | os.PathLike[str] | None = None,
    raise_errors: bool = False,
    record: RecordTarget = None,
) -> list[RunResult]:
    """Run ``agent`` on every prompt, at most ``concurrency`` runs in flight at once.

    Args:
        agent: the agent; its tools' sessions give every run its own state.
        prompts: questions or conversations, one per episode.
        concurrency: how many runs are in flight at once.
        progress: show a tqdm progress bar (with a count of stop reasons).
        jsonl: write each result as one JSON line, in the order of ``prompts``, as soon
            as it and all before it are done (so a crashed evaluation keeps a prefix);
            reload with :meth:`RunResult.read_jsonl`.
        raise_errors: re-raise the first exception a run raises (cancelling the rest)
            instead of recording it as a result with ``stop_reason="error"``.
        record: also record every run token for token (a file path, appended to, or a
            :class:`~harmony_agent.Recorder`), one line per run as it ends, in the order
            runs end; replay with :class:`~harmony_agent.backends.Replay`, which matches
            runs by their first prompt, in any order.

    Returns:
        One result per prompt, in the order of ``prompts``.
    """
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    if record is not None:
        agent = copy.copy(agent)  # the same agent, recording (the caller's stays as it is)
        agent.recorder = as_recorder(record)
    items = list(prompts)
    results: list[RunResult | None] = [None] * len(items)
    semaphore = asyncio.Semaphore(concurrency)
    reasons: Counter[str] = Counter()
    bar = _progress_bar(len(items)) if progress else None
    out: IO[str] | None = None
    written = 0

    def flush() -> None:
        nonlocal written
        while out is not None and written < len(results) and results[written] is not None:
            out.write(results[written].model_dump_json() + "\n")  # type: ignore[union-attr]
            written += 1
        if out is not None:
            out.flush()

    async def episode(index: int, prompt: AgentInput) -> None:
        async with semaphore:
            try:
                result = await agent.arun(prompt)
            except Exception as exc:
                if raise_errors:
                    raise
                result = _error_result(agent, prompt, exc)
        results[index] = result
        reasons[result.stop_reason] += 1
        flush()
        if bar is not None:
            bar.set_postfix(dict(reasons.most_common()), refresh=False)
            bar.update(1)

    try:
        if jsonl is not None:
            path = Path(jsonl)
            path.parent.mkdir(parents=True, exist_ok=True)
            # One open per evaluation, then small appended lines: not worth a thread.
            out = path.open("w", encoding="utf-8")  # noqa: ASYNC230
        tasks = [asyncio.ensure_future(episode(i, p)) for i, p in enumerate(items)]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
    finally:
        if out is not None:
            out.close()
        if bar is not None:
            bar.close()
    return [r for r in results if r is not None]


def _error_result(agent: Agent, prompt: AgentInput, exc: Exception) -> RunResult:
    try:
        conversation = agent.conversation_for(prompt)
    except Exception:
        conversation = Conversation.unchecked([])
    return RunResult(
        final_text=None,
        messages=(),
        conversation=conversation,
        stop_reason="error",
        error=f"{type(exc).__name__}: {exc}",
    )


def _progress_bar(total: int) -> Any:
    from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

    return tqdm(total=total, unit="run", dynamic_ncols=True)
