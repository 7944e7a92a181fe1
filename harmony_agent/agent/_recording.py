"""What a recording holds: one JSON line per run, read back with :meth:`Recording.load`.

A line is self-describing (its header fields come first) so files can be appended to by
many runs, concatenated and split without losing anything::

    {"format": "harmony-agent/recording", "version": 1, "encoding": "HarmonyGptOss",
     "harmony_agent": "0.1.0", "created": "2026-12-01T21:00:00Z",
     "input": [...messages...], "tokens": "Rg0DANBDAABI...", "steps": [...],
     "stop_reason": "final", "final_text": "...", "turns": 2, "error": null}

Within a run the prompt only grows (see :mod:`harmony_agent.agent._agent`), so the run's
tokens are stored once, as the stream the model saw at the end: the first prompt, each
completion exactly as the backend produced it, and what the agent appended after it
(a restored stop token, the tool answers, ``<|start|>assistant``). Step ``k``'s prompt is
the first ``steps[k].prompt`` tokens of it, and its completion the ``steps[k].completion``
tokens that follow. The file stays linear in the run's length however many steps it has.
Token ids are stored as base64 of little-endian 32-bit ids (a tenth of the cost of JSON
numbers to write, and shorter); each completion's decoded ``text`` is there for people.
"""

from __future__ import annotations

import array
import base64
import binascii
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Union, overload

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    model_validator,
)

from harmony_agent.agent._backend import FinishReason, SamplingParams
from harmony_agent.agent._record import _UINT32, FORMAT, VERSION, pack_tokens
from harmony_agent.errors import RecordingError
from harmony_agent.format._messages import Message

__all__ = [
    "FORMAT",
    "VERSION",
    "RecordedAnswer",
    "RecordedCall",
    "RecordedRun",
    "RecordedStep",
    "Recording",
    "RecordingLike",
    "parse_line",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


def _unpack(value: Any) -> Any:
    """Token ids from a recording: base64 of little-endian 32-bit ids, or a list."""
    if not isinstance(value, str):
        return value
    try:
        raw = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("token data is neither a list of ids nor base64") from None
    if len(raw) % 4:
        raise ValueError("token data is not a whole number of 32-bit ids")
    ids = array.array(_UINT32)
    ids.frombytes(raw)
    if sys.byteorder == "big":
        ids.byteswap()
    return tuple(ids)


#: Token ids: read from base64 (what a recording writes) or a list, written as base64.
Tokens = Annotated[
    tuple[int, ...],
    BeforeValidator(_unpack),
    PlainSerializer(lambda ids: pack_tokens(list(ids)), when_used="json"),
]


class RecordedAnswer(BaseModel):
    """One tool answer: the message's author, its text, and its tokens as rendered."""

    model_config = _FROZEN

    name: str | None
    text: str
    tokens: Tokens


class RecordedCall(BaseModel):
    """The tool call a completion ended with, and how the tool answered it."""

    model_config = _FROZEN

    recipient: str
    arguments: str
    content_type: str | None = None
    failed: bool = False
    answers: tuple[RecordedAnswer, ...] = ()


class RecordedStep(BaseModel):
    """One completion of a run.

    Attributes:
        prompt: how many tokens its prompt had (a prefix of the run's ``tokens``).
        completion: how many tokens the backend produced (they follow the prompt).
        text: the completion decoded (special tokens by name), for people reading.
        sampling: the sampling parameters it was asked with (a line leaves them out when
            they are the step before's).
        finish: why the engine said it ended (None: the backend did not say).
        error: the backend failure that ended the run here, if one did.
        call: the tool call it ended with and the answers, if it called a tool.
        tokens: the prompt and completion, only when they were not part of the run's
            token stream (never with today's loop).
    """

    model_config = _FROZEN

    prompt: int = Field(ge=0)
    completion: int = Field(ge=0)
    text: str = ""
    sampling: SamplingParams
    finish: FinishReason | None = None
    error: str | None = None
    call: RecordedCall | None = None
    tokens: Tokens | None = None


class RecordedRun(BaseModel):
    """One recorded run: its header, input, token stream, steps and outcome.

    Attributes:
        format: always ``"harmony-agent/recording"``.
        version: the line layout's version (this library reads version 1).
        encoding: the name of the encoding the tokens belong to.
        harmony_agent: the library version that wrote it.
        created: when the run ended (UTC, ISO 8601).
        input: the messages the run started from, without the system and developer
            messages the agent added (replaying gives them to the agent again).
        tokens: the run's whole token stream (see the module docs).
        steps: its completions, in order.
        stop_reason: why it ended.
        final_text: its final answer, if any.
        turns: how many completions it asked for.
        error: what went wrong, for an interrupted run.
    """

    model_config = _FROZEN

    format: Literal["harmony-agent/recording"] = "harmony-agent/recording"
    version: int = VERSION
    encoding: str
    harmony_agent: str
    created: str
    input: tuple[Message, ...]
    tokens: Tokens
    steps: tuple[RecordedStep, ...]
    stop_reason: str
    final_text: str | None = None
    turns: int = 0
    error: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _carry_sampling(cls, data: Any) -> Any:
        """A step without ``sampling`` was sampled like the step before it."""
        if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
            return data
        steps, last = [], None
        for step in data["steps"]:
            if isinstance(step, dict):
                if "sampling" in step:
                    last = step["sampling"]
                elif last is not None:
                    step = {**step, "sampling": last}
            steps.append(step)
        return {**data, "steps": steps}

    @model_validator(mode="after")
    def _consistent(self) -> RecordedRun:
        if self.version != VERSION:
            raise ValueError(
                f"recording version {self.version} is not supported (this harmony_agent "
                f"reads version {VERSION}); record the run again"
            )
        for i, step in enumerate(self.steps):
            stream = len(self.tokens) if step.tokens is None else len(step.tokens)
            if step.prompt + step.completion > stream:
                raise ValueError(
                    f"step {i} says {step.prompt} prompt + {step.completion} completion "
                    f"tokens, but its token stream has only {stream}"
                )
        return self

    def prompt(self, step: int) -> list[int]:
        """The prompt tokens of completion ``step``."""
        s = self.steps[step]
        stream = self.tokens if s.tokens is None else s.tokens
        return list(stream[: s.prompt])

    def completion(self, step: int) -> list[int]:
        """The tokens completion ``step`` produced, exactly as the backend sent them."""
        s = self.steps[step]
        stream = self.tokens if s.tokens is None else s.tokens
        return list(stream[s.prompt : s.prompt + s.completion])

    @property
    def first_prompt(self) -> list[int]:
        """The prompt of the first completion (empty for a run without one)."""
        return self.prompt(0) if self.steps else []


class Recording(Sequence[RecordedRun]):
    """The runs of one or more recording files, in file order.

    Args:
        runs: the runs.
        source: where they were read from (shown in messages).

    Example:
        >>> recording = Recording.load("tests/data/recordings/weather.jsonl")  # doctest: +SKIP
        >>> recording[0].final_text  # doctest: +SKIP
    """

    def __init__(self, runs: Iterable[RecordedRun] = (), *, source: str | None = None) -> None:
        self.runs: tuple[RecordedRun, ...] = tuple(runs)
        self.source = source

    def __repr__(self) -> str:
        where = f", source={self.source!r}" if self.source else ""
        return f"Recording({len(self.runs)} run(s){where})"

    @overload
    def __getitem__(self, index: int) -> RecordedRun: ...
    @overload
    def __getitem__(self, index: slice) -> Recording: ...
    def __getitem__(self, index: int | slice) -> RecordedRun | Recording:
        if isinstance(index, slice):
            return Recording(self.runs[index], source=self.source)
        return self.runs[index]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[RecordedRun]:
        return iter(self.runs)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Recording:
        """Read a recording file (one run per non-empty line).

        Raises:
            RecordingError: the file is missing, or a line is not a recorded run (the
                message gives the file, the line and what is wrong).
        """
        source = os.fspath(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise RecordingError(f"cannot read the recording {source}: {exc}") from None
        runs = []
        for number, line in enumerate(text.splitlines(), 1):
            if line.strip():
                runs.append(parse_line(line, f"{source}:{number}"))
        return cls(runs, source=source)

    @classmethod
    def of(cls, recording: RecordingLike) -> Recording:
        """``recording`` as a :class:`Recording`: a path is loaded, runs are wrapped."""
        if isinstance(recording, Recording):
            return recording
        if isinstance(recording, RecordedRun):
            return cls([recording])
        if isinstance(recording, (str, os.PathLike)):
            return cls.load(recording)
        runs = list(recording)
        if not all(isinstance(run, RecordedRun) for run in runs):
            raise TypeError(
                "a recording is a path, a Recording, a RecordedRun or a list of them, got "
                f"{type(recording).__name__}"
            )
        return cls(runs)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write these runs to ``path`` (replacing it), one line each."""
        Path(path).write_text("".join(r.model_dump_json() + "\n" for r in self.runs), "utf-8")


#: What :class:`~harmony_agent.backends.Replay` and the test helpers accept as a recording:
#: a file's path, a :class:`Recording`, one run, or runs.
RecordingLike = Union[str, "os.PathLike[str]", Recording, RecordedRun, Iterable[RecordedRun]]


def parse_line(line: str, where: str) -> RecordedRun:
    """One line of a recording file as a run; ``where`` names it in the error."""
    try:
        return RecordedRun.model_validate_json(line)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "the line"
        detail = first["msg"]
        if first["type"] == "json_invalid":
            detail = f"not JSON ({first['msg']})"
        raise RecordingError(
            f"{where}: not a harmony_agent recorded run: {field}: {detail}"
            + (f" (and {exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else "")
        ) from None
