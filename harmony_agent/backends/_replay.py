"""A backend that plays a recording back: no model, the recorded tokens, drift reported.

Record runs once against a real server (``ha.Agent(..., record="runs.jsonl")`` or
``harmony-agent run --record runs.jsonl``), then replay them with today's agent, tools
and renderer: each completion request gets the recorded completion when its prompt
equals the recorded prompt. The model's tool calls reach today's tools, so a tool that
now answers differently, a changed system prompt or a changed render shows up as
*drift*: the first token where the prompt differs, with both sides decoded around it.

How requests find their recorded run: a request that extends a run in progress (its
prompt starts with what that run has sent and received so far) is that run's next
completion. Any other request starts a run: the first recorded run not yet replayed
whose first prompt is the same, or, when none is the same (drift in the first prompt),
the not yet replayed run that is most alike (longest common prefix, then longest common
suffix, then file order). So runs may be replayed in any order and concurrently
(``run_many``), and a recording of several runs replays each once.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from harmony_agent.agent._backend import Finish, FinishReason, SamplingParams
from harmony_agent.agent._recording import RecordedRun, Recording, RecordingLike
from harmony_agent.backends._tokens import TokenGate
from harmony_agent.errors import BackendError, RecordingError, ReplayDrift, ReplayExhausted
from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    from harmony_agent.format import Encoding

__all__ = ["Replay", "ReplayDrift", "ReplayExhausted"]

_HEADER_END = frozenset((T.CHANNEL, T.MESSAGE, T.CONSTRAIN, T.END))


@dataclass
class _Live:
    """A recorded run being replayed."""

    index: int
    run: RecordedRun
    step: int = 0  # the next completion to serve
    prompt: list[int] = field(default_factory=list)  # the last prompt served
    context: list[int] = field(default_factory=list)  # that prompt + its completion


# What a request is answered with: tokens, the finish reason, and the recorded failure.
_Answer = tuple[list[int], "FinishReason | None", "str | None"]


class Replay:
    """Plays recorded runs back, token for token, and reports prompt drift.

    Args:
        recording: a recording file's path, a :class:`~harmony_agent.Recording`, or
            recorded runs.
        on_drift: ``"raise"`` (the default) raises :class:`ReplayDrift` from the request
            whose prompt differs; ``"collect"`` notes it in :attr:`drifts` and serves
            the recorded completion anyway, so the run goes on and shows every drift.
        chunk_size: serve each completion in chunks of this many tokens (None: whole).
        context: how many tokens either side of a drift its message shows.
        encoding: the encoding that decodes drift messages (default: the standard one).

    Attributes:
        recording: the runs being replayed.
        drifts: every drift met so far, in order (also those raised).
        served: completions served per recorded run (run index -> count).

    A drift raised from the first completion of a run makes ``agent.run`` raise it; a
    drift later in a run ends it like any backend failure mid-run
    (``stop_reason="interrupted"``, the drift's message in ``RunResult.error``). Either
    way it is in :attr:`drifts`, and :meth:`check` raises the first one.
    A request past the end of a recorded run, or a new run when all were replayed,
    raises :class:`ReplayExhausted` (whatever ``on_drift`` says). A recorded backend
    failure is replayed too: the tokens received, then a ``BackendError`` with its
    message.
    """

    def __init__(
        self,
        recording: RecordingLike,
        *,
        on_drift: Literal["raise", "collect"] = "raise",
        chunk_size: int | None = None,
        context: int = 8,
        encoding: Encoding | None = None,
    ) -> None:
        if on_drift not in ("raise", "collect"):
            raise ValueError(f"on_drift must be 'raise' or 'collect', got {on_drift!r}")
        if chunk_size is not None and chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1 or None, got {chunk_size}")
        self.recording = Recording.of(recording)
        if encoding is None:
            from harmony_agent.format import load_encoding

            encoding = load_encoding()
        for i, run in enumerate(self.recording):
            if run.encoding != encoding.name:
                raise RecordingError(
                    f"run {i} of {self.recording.source or 'the recording'} was recorded "
                    f"with the encoding {run.encoding!r}; this replay uses {encoding.name!r}"
                )
        self.on_drift = on_drift
        self.chunk_size = chunk_size
        self.context = context
        self.encoding = encoding
        self.drifts: list[ReplayDrift] = []
        self.served: dict[int, int] = {}
        self._first = [run.first_prompt for run in self.recording]
        self._live: list[_Live] = []
        self._lock = threading.Lock()  # runs may come from several threads

    def __repr__(self) -> str:
        return (
            f"Replay({len(self.recording)} run(s), {sum(self.served.values())} served, "
            f"{len(self.drifts)} drift(s))"
        )

    @property
    def remaining(self) -> int:
        """Recorded runs not started yet."""
        return len(self.recording) - len(self._live)

    def reset(self) -> None:
        """Forget what was replayed and the drifts: replay the recording from the start."""
        with self._lock:
            self._live.clear()
            self.served.clear()
            self.drifts.clear()

    def check(self) -> None:
        """Raise the first drift met so far, if any.

        Raises:
            ReplayDrift: the first drift.
        """
        if self.drifts:
            raise self.drifts[0]

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        """The recorded completion of this prompt (see the class docs)."""
        tokens, finish, failure = self._answer(list(prompt_tokens))
        gate = TokenGate(params)
        size = self.chunk_size or max(1, len(tokens))
        for start in range(0, len(tokens), size):
            if chunk := gate.take(tokens[start : start + size]):
                yield chunk
            if gate.done:
                break
        if len(gate.tokens) < len(tokens):  # today's max_tokens or stop tokens cut it
            yield gate.finish()
            return
        if failure is not None:
            raise BackendError(failure)
        if finish is not None:
            yield Finish((), finish)

    # -- matching requests to recorded completions ----------------------------------------
    def _answer(self, prompt: list[int]) -> _Answer:
        with self._lock:
            best: _Live | None = None  # the longest run in progress the prompt extends
            for live in self._live:
                if _extends(prompt, live.context) and (best is None or _rank(live) > _rank(best)):
                    best = live
            if best is not None and best.step < len(best.run.steps):
                return self._serve(best, prompt)
            for live in self._live:  # a continuation inside the completion just served
                if len(live.prompt) < len(prompt) < len(live.context) and (
                    live.context[: len(prompt)] == prompt
                ):
                    step = live.run.steps[live.step - 1]
                    return live.context[len(prompt) :], step.finish, step.error
            started = {live.index for live in self._live}
            fresh = [i for i in range(len(self.recording)) if i not in started]
            exact = next((i for i in fresh if self._first[i] == prompt), None)
            if exact is not None:
                return self._serve(self._begin(exact), prompt)
            if best is not None:
                run = best.run
                raise ReplayExhausted(
                    f"recorded run {best.index} has {len(run.steps)} step(s), and the agent "
                    f"asked for step {best.step} (counting from 0); the recorded run ended "
                    f"there with stop_reason={run.stop_reason!r}",
                    run=best.index,
                    step=best.step,
                )
            if not fresh:
                raise ReplayExhausted(
                    f"all {len(self.recording)} recorded run(s) were replayed, and a new "
                    "run asked for a completion",
                    run=None,
                    step=0,
                )
            likeliest = max(
                fresh,
                key=lambda i: (
                    _common_prefix(self._first[i], prompt),
                    _common_suffix(self._first[i], prompt),
                    -i,
                ),
            )
            return self._serve(self._begin(likeliest), prompt)

    def _begin(self, index: int) -> _Live:
        live = _Live(index, self.recording[index])
        self._live.append(live)
        return live

    def _serve(self, live: _Live, prompt: list[int]) -> _Answer:
        k, run = live.step, live.run
        expected = run.prompt(k)
        live.step += 1
        self.served[live.index] = live.step
        completion = run.completion(k)
        live.prompt, live.context = prompt, prompt + completion
        if prompt != expected:
            drift = self._drift(live.index, k, expected, prompt)
            self.drifts.append(drift)
            if self.on_drift == "raise":
                raise drift
        step = run.steps[k]
        return completion, step.finish, step.error

    # -- describing a drift --------------------------------------------------------------
    def _drift(self, run: int, step: int, recorded: list[int], actual: list[int]) -> ReplayDrift:
        i = _common_prefix(recorded, actual)
        lo, hi = max(0, i - self.context), i + self.context
        recorded_text, actual_text = self._show(recorded, lo, i, hi), self._show(actual, lo, i, hi)
        where = self._where(recorded if i < len(recorded) else actual, i)
        message = (
            f"replay drift in recorded run {run}, step {step}: the prompt differs from the "
            f"recorded one at token {i} ({len(recorded)} recorded, {len(actual)} sent), "
            f"in {where}\n  recorded: {recorded_text}\n  actual:   {actual_text}"
        )
        return ReplayDrift(
            message,
            run=run,
            step=step,
            index=i,
            where=where,
            recorded=tuple(recorded[lo:hi]),
            actual=tuple(actual[lo:hi]),
            recorded_text=recorded_text,
            actual_text=actual_text,
        )

    def _show(self, tokens: list[int], lo: int, at: int, hi: int) -> str:
        """``tokens[lo:hi]`` decoded on one line, the token at ``at`` in ⟦ ⟧."""
        decode = self.encoding.decode

        def flat(part: list[int]) -> str:
            return decode(part).replace("\\", "\\\\").replace("\n", "\\n")

        marked = "⟦" + (flat(tokens[at : at + 1]) if at < len(tokens) else "end of prompt") + "⟧"
        return (
            ("…" if lo > 0 else "")
            + flat(tokens[lo:at])
            + marked
            + flat(tokens[at + 1 : hi])
            + ("…" if hi < len(tokens) else "")
        )

    def _where(self, tokens: list[int], at: int) -> str:
        """Which message of ``tokens`` position ``at`` falls in, in words."""
        last = min(at, len(tokens) - 1)
        start = next((j for j in range(last, -1, -1) if tokens[j] == T.START), None)
        if start is None:
            return "the start of the prompt"
        number = sum(1 for t in tokens[:start] if t == T.START) + 1
        header = []
        for token in tokens[start + 1 :]:
            if token in _HEADER_END:
                break
            header.append(token)
        author = self.encoding.decode(header).split(" ")[0] or "?"
        if author in ("system", "developer", "user"):
            kind = f"the {author} message"
        elif author == "assistant":
            kind = "an assistant message"
        else:
            kind = f"the tool message from {author}"
        return f"{kind} (message {number} of the prompt)"


def _rank(live: _Live) -> tuple[bool, int]:
    """Runs with completions left first, then the one that has seen the most."""
    return live.step < len(live.run.steps), len(live.context)


def _extends(prompt: list[int], context: list[int]) -> bool:
    """Whether ``prompt`` starts with ``context`` (its last tokens compared first)."""
    n = len(context)
    tail = max(0, n - 8)
    return n <= len(prompt) and prompt[tail:n] == context[tail:] and prompt[:n] == context


def _common_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens ``a`` and ``b`` share (slices compared, bisecting)."""
    lo, hi = 0, min(len(a), len(b))  # a[:lo] == b[:lo] holds throughout
    if a[:hi] == b[:hi]:
        return hi
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if a[lo:mid] == b[lo:mid]:
            lo = mid
        else:
            hi = mid
    return lo


def _common_suffix(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    for i in range(1, n + 1):
        if a[-i] != b[-i]:
            return i - 1
    return n
