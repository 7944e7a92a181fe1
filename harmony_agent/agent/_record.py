"""Recording runs token for token: :class:`Recorder` writes one JSON line per run.

The agent loop tells a run's :class:`Tape` three things, each in O(1): a completion
ended (the prompt list, its length and the completion's), a tool was answered, the run
ended. The tokens themselves are read from the prompt list once, when the run ends,
since within a run the prompt only grows; so recording adds nothing per token. The line
layout is described in :mod:`harmony_agent.agent._recording`; a line is written as plain
JSON, and its pydantic models load only when a recording is read back.
"""

from __future__ import annotations

import array
import base64
import json
import logging
import os
import sys
import threading
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Union

from harmony_agent.agent._backend import FinishReason, SamplingParams
from harmony_agent.format import _tokens as T
from harmony_agent.format._messages import Message

if TYPE_CHECKING:
    from harmony_agent.agent._agent import Agent
    from harmony_agent.agent._recording import RecordedRun, Recording
    from harmony_agent.agent._result import RunResult
    from harmony_agent.format._conversation import Conversation
    from harmony_agent.format._encoding import Encoding

__all__ = ["FORMAT", "VERSION", "RecordTarget", "Recorder", "Tape", "as_recorder", "pack_tokens"]

#: The ``format`` field of every recorded run.
FORMAT = "harmony-agent/recording"
#: The version of the line layout this library writes and reads.
VERSION = 1

_UINT32 = "I" if array.array("I").itemsize == 4 else "L"


def pack_tokens(tokens: list[int]) -> str | list[int]:
    """Token ids as a recording stores them: base64 of little-endian 32-bit ids.

    About ten times cheaper than a JSON list of numbers, and shorter. Ids that do not
    fit (a hostile backend's) are kept as the list itself.
    """
    try:
        packed = array.array(_UINT32, tokens)
    except (OverflowError, TypeError):
        return list(tokens)
    if sys.byteorder == "big":
        packed.byteswap()
    return base64.b64encode(packed.tobytes()).decode("ascii")


logger = logging.getLogger("harmony_agent.agent")


class Recorder:
    """Records every run of an agent, token for token, as one JSON line per run.

    ``ha.Agent(..., record="runs.jsonl")`` makes one; pass a ``Recorder`` to share a
    file between agents or to keep runs in memory. Each run is written (and flushed)
    the moment it ends, with one ``write`` on a file opened for appending: runs of many
    tasks, threads or processes may share a file, and a crash loses only the runs still
    going. A run that raises, or whose ``stream()`` its caller closes early, is not
    written. A file that cannot be written to fails when the recorder is made; a write
    that fails later (a full disk) is logged as an error on ``harmony_agent.agent`` and
    counted in :attr:`failed`, and the run's result is returned all the same. Replay a
    recording with :class:`~harmony_agent.backends.Replay`.

    Args:
        path: the JSONL file to append to (created with its folders); None keeps the
            runs in memory only (see :attr:`runs`).
        append: False empties the file first.

    Attributes:
        path: the file, or None.
        written: how many runs this recorder has recorded.
        failed: how many runs it could not write.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, append: bool = True) -> None:
        self.path = None if path is None else Path(path)
        self.written = 0
        self.failed = 0
        self._lines: list[str] = []  # kept in memory (no path), parsed when asked for
        self._runs: list[RecordedRun] = []
        self._lock = threading.Lock()
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("ab" if append else "wb"):
                pass  # created (or emptied) now: a bad path fails here, not after a run

    def __repr__(self) -> str:
        where = "memory" if self.path is None else repr(os.fspath(self.path))
        return f"Recorder({where}, {self.written} run(s))"

    @property
    def runs(self) -> list[RecordedRun]:
        """The runs recorded in memory so far (empty when recording to a file)."""
        from harmony_agent.agent._recording import parse_line

        with self._lock:
            while len(self._runs) < len(self._lines):
                line = self._lines[len(self._runs)]
                self._runs.append(parse_line(line, f"recorded run {len(self._runs)}"))
            return list(self._runs)

    @property
    def recording(self) -> Recording:
        """What was recorded: the runs in memory, or the file as it is now."""
        from harmony_agent.agent._recording import Recording

        if self.path is None:
            return Recording(self.runs)
        return Recording.load(self.path)

    def start(self, agent: Agent, conversation: Conversation) -> Tape:
        """The tape of a run of ``agent`` that starts from ``conversation``."""
        messages = conversation.messages
        skip = 0  # the prelude the agent added itself is the agent's, not the input's
        if messages and messages[0] is agent.system_message:
            skip = 1
            if len(messages) > 1 and messages[1] is agent.developer_message:
                skip = 2
        return Tape(self, agent.encoding, messages[skip:])

    def write(self, run: RecordedRun | str) -> None:
        """Record ``run`` (a run, or its JSON line): append it to the file, or keep it."""
        line = run if isinstance(run, str) else run.model_dump_json()
        if self.path is None:
            with self._lock:
                self._lines.append(line)
                self.written += 1
            return
        data = (line + "\n").encode("utf-8")
        with self._lock:
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    view = memoryview(data)
                    while view:  # one write in practice; the loop covers a short write
                        view = view[os.write(fd, view) :]
                finally:
                    os.close(fd)
            except OSError as exc:  # the run itself went well: keep its result
                self.failed += 1
                logger.error("could not record a run to %s: %s", self.path, exc)
                return
            self.written += 1


#: What ``record=`` accepts: a file path, a :class:`Recorder`, or None (no recording).
RecordTarget = Union[str, "os.PathLike[str]", Recorder, None]


def as_recorder(record: RecordTarget) -> Recorder | None:
    """``record`` as a :class:`Recorder` (a path gets one appending to it)."""
    if record is None or isinstance(record, Recorder):
        return record
    if isinstance(record, (str, os.PathLike)):
        return Recorder(record)
    raise TypeError(f"record= takes a file path or a ha.Recorder, got {type(record).__name__}")


# One completion as the loop reported it: prompt length, completion length, sampling,
# finish reason, error, and the tokens when the prompt was not the run's stream.
_Step = tuple[int, int, SamplingParams, "FinishReason | None", "str | None", "list[int] | None"]


class Tape:
    """What one run did, noted as it goes and written by the recorder when it ends."""

    __slots__ = ("_calls", "_encoding", "_input", "_recorder", "_steps", "_stream")

    def __init__(self, recorder: Recorder, encoding: Encoding, input: Sequence[Message]) -> None:
        self._recorder = recorder
        self._encoding = encoding
        self._input = tuple(input)
        self._stream: list[int] | None = None  # the run's prompt list
        self._steps: list[_Step] = []
        self._calls: dict[int, tuple[Message, tuple[Message, ...], bool]] = {}

    def completion(
        self,
        prompt: list[int],
        params: SamplingParams,
        generated: list[int],
        finish: FinishReason | None,
        error: Exception | None,
    ) -> None:
        """A completion ended: ``generated`` is what the backend produced for ``prompt``.

        Call it before anything is appended to ``generated`` or ``prompt``.
        """
        if self._stream is None:
            self._stream = prompt
        own = None if prompt is self._stream else [*prompt, *generated]
        failure = None if error is None else str(error)
        self._steps.append((len(prompt), len(generated), params, finish, failure, own))

    def tool(self, call: Message, replies: Sequence[Message], failed: bool) -> None:
        """The latest completion's tool call was answered with ``replies``."""
        self._calls[len(self._steps) - 1] = (call, tuple(replies), failed)

    def end(self, result: RunResult, prompt: list[int]) -> None:
        """The run ended with ``result``; ``prompt`` is its prompt list as it is now.

        The line is built as plain JSON (what :class:`RecordedRun` reads back): building
        the models here would cost more than the rest of the run's bookkeeping.
        """
        from harmony_agent import __version__

        tokens = list(prompt if self._stream is None else self._stream)
        steps = []
        last: SamplingParams | None = None
        for i, (start, length, params, finish, error, own) in enumerate(self._steps):
            stream = tokens if own is None else own
            call = None
            if i in self._calls:
                after = len(tokens) if i + 1 == len(self._steps) else self._steps[i + 1][0]
                span = tokens[start + length : after] if own is None else []
                call = self._call(*self._calls[i], span)
            step: dict[str, Any] = {
                "prompt": start,
                "completion": length,
                "text": self._decode(stream[start : start + length]),
            }
            # Left out: sampling the same as the step before's, and fields at defaults.
            if last is None or (params is not last and params != last):
                step["sampling"] = params.model_dump(mode="json")
            last = params
            if finish is not None:
                step["finish"] = finish
            if error is not None:
                step["error"] = error
            if call is not None:
                step["call"] = call
            if own is not None:
                step["tokens"] = pack_tokens(own)
            steps.append(step)
        created = datetime.now(timezone.utc).isoformat(timespec="seconds")
        line = {
            "format": FORMAT,
            "version": VERSION,
            "encoding": self._encoding.name,
            "harmony_agent": __version__,
            "created": created.replace("+00:00", "Z"),
            # Spliced in below (escaping base64 as a JSON string would cost per token);
            # before "input", so that the first '"tokens":null' is this one.
            "tokens": None,
            "input": [m.model_dump(mode="json") for m in self._input],
            "steps": steps,
            "stop_reason": result.stop_reason,
            "final_text": result.final_text,
            "turns": result.turns,
            "error": result.error,
        }
        text = json.dumps(line, ensure_ascii=False, separators=(",", ":"))
        packed = pack_tokens(tokens)
        value = f'"{packed}"' if isinstance(packed, str) else json.dumps(packed)
        self._recorder.write(text.replace('"tokens":null', f'"tokens":{value}', 1))

    def _decode(self, tokens: list[int]) -> str:
        """``tokens`` as text, special tokens by name (tiktoken's decoder: no Python loop)."""
        try:
            return self._encoding.tiktoken.decode_bytes(tokens).decode("utf-8", "replace")
        except Exception:  # an id beyond the vocabulary: ours names it instead of failing
            return self._encoding.decode(tokens)

    def _call(
        self, call: Message, replies: tuple[Message, ...], failed: bool, span: list[int]
    ) -> dict[str, Any]:
        """The call and its answers, each answer's tokens cut from what followed it."""
        # What the agent appended after the call: maybe a restored stop token, then each
        # answer rendered (each starts with <|start|>), then <|start|>assistant.
        pieces: list[list[int]] = []
        try:
            at = span.index(T.START)
            while len(pieces) < len(replies):
                end = span.index(T.START, at + 1)
                pieces.append(span[at:end])
                at = end
        except ValueError:  # not the usual layout: render them again
            pieces = [self._encoding.render(reply) for reply in replies]
        return {
            "recipient": call.recipient or "",
            "arguments": call.text,
            "content_type": call.content_type,
            "failed": failed,
            "answers": [
                {"name": reply.name, "text": reply.text, "tokens": pack_tokens(piece)}
                for reply, piece in zip(replies, pieces, strict=False)
            ],
        }
