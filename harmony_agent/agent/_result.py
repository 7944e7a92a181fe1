"""What a run produces: :class:`RunResult` and its token :class:`Usage`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SkipValidation,
    TypeAdapter,
    field_serializer,
    field_validator,
)
from pydantic_core import to_jsonable_python

from harmony_agent.errors import ConversationError
from harmony_agent.format._conversation import Conversation
from harmony_agent.format._messages import Message

__all__ = ["RunResult", "StopReason", "Usage"]

#: Why a run ended.
#:
#: ``final``: the model answered on the final channel and ended its turn.
#: ``no_final``: the model ended its turn (or produced nothing usable) without an answer.
#: ``max_turns``: the agent's ``max_turns`` completions were used up.
#: ``max_tokens``: a completion hit ``sampling.max_tokens`` mid-message.
#: ``token_budget``: the run's ``token_budget`` of generated tokens ran out.
#: ``context_window``: the prompt filled the ``context_window``.
#: ``interrupted``: the backend failed mid-run (a stream that broke and could not be
#: resumed, a server that went away); ``error`` says what, the messages so far are kept.
#: ``error``: the run raised (only in :func:`run_many` results; ``error`` says what).
#: ``tool_call``: the model called a client-side tool (:class:`~harmony_agent.tools.ClientTool`);
#: the call is in :attr:`RunResult.pending_calls` for the caller to run.
#: ``invalid_output``: with ``output_type`` set, the model's answers never validated
#: within ``max_turns`` (each failure went back to it as a correction); ``error`` holds
#: the last validation error, ``final_text`` the last answer, ``output`` stays None.
StopReason = Literal[
    "final",
    "tool_call",
    "no_final",
    "max_turns",
    "max_tokens",
    "token_budget",
    "context_window",
    "interrupted",
    "error",
    "invalid_output",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
_T = TypeVar("_T")


class Usage(BaseModel):
    """Tokens a run sent and received, summed over its completions.

    ``prompt_tokens`` counts each completion's whole prompt (what an API bills; a server
    with prefix caching recomputes only the appended part), once per completion even
    when its stream was resumed; ``resumes`` counts those resumes.
    ``reasoning_tokens`` counts the tokens written on the ``analysis`` channel (message
    bodies, headers excluded) and ``forced_answers`` the completions the reasoning budget
    cut short and turned to ``final``.
    """

    model_config = _FROZEN

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)
    resumes: int = Field(default=0, ge=0)
    reasoning_tokens: int = Field(default=0, ge=0)
    forced_answers: int = Field(default=0, ge=0)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            resumes=self.resumes + other.resumes,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            forced_answers=self.forced_answers + other.forced_answers,
        )


class RunResult(BaseModel):
    """Everything one run produced; JSON round trip (``model_dump_json``) loses nothing.

    Attributes:
        final_text: the text of the last ``final`` message, or None when there is none.
        messages: the messages the run added, in order: every assistant message
            (analysis included) and every tool answer.
        conversation: the input conversation plus ``messages``, with the chain of
            thought of finished turns dropped as the renderer's policy says; pass it
            (with a new user message appended) to the next ``run`` to continue.
        stop_reason: why the run ended (see :data:`StopReason`).
        usage: prompt and completion tokens over all completions.
        turns: how many completions the model was asked for.
        tool_errors: tool calls answered with an error (bad arguments, an unknown tool,
            a timeout, an exception: each also logged on ``harmony_agent.agent``).
        incomplete: the last message of ``messages`` was cut off mid-message (by
            ``max_tokens``, a budget, or a stream that broke); its stream ended with
            ``MessageEnd.stop == "incomplete"``.
        error: for ``stop_reason`` ``"interrupted"`` or ``"error"``, what went wrong;
            for ``"invalid_output"``, the last validation error.
        output: with the agent's ``output_type`` set, the validated answer (an instance
            of that type); None otherwise or when no answer validated. A result loaded
            from JSON holds its JSON data instead (``output_as(type)`` validates it again).
    """

    model_config = _FROZEN

    final_text: str | None
    messages: tuple[Message, ...]
    # Validated by _conversation below: pydantic would re-run the hierarchy check on an
    # instance, and model output need not obey it.
    conversation: Annotated[Conversation, SkipValidation]
    stop_reason: StopReason
    usage: Usage = Usage()
    turns: int = 0
    tool_errors: int = 0
    incomplete: bool = False
    error: str | None = None
    output: Any = None

    @field_serializer("output", when_used="json")
    def _output_json(self, value: Any) -> Any:
        return to_jsonable_python(value)

    def output_as(self, output_type: type[_T]) -> _T:
        """``output`` validated as ``output_type`` (e.g. after loading from JSON).

        Raises:
            pydantic.ValidationError: ``output`` is not a valid ``output_type``.
        """
        return TypeAdapter(output_type).validate_python(self.output)

    @field_validator("conversation", mode="before")
    @classmethod
    def _conversation(cls, value: Any) -> Conversation:
        if isinstance(value, Conversation):
            return value
        if isinstance(value, dict) and set(value) <= {"messages"}:
            value = value.get("messages", [])
        if not isinstance(value, list | tuple):
            raise ValueError(f"expected a Conversation, got {type(value).__name__}")
        messages = [Message.model_validate(m) for m in value]
        try:
            return Conversation(messages)
        except ConversationError:  # saved model output that breaks a rule reloads as it was
            return Conversation.unchecked(messages)

    @property
    def tool_calls(self) -> tuple[Message, ...]:
        """The assistant messages of this run that called a tool."""
        return tuple(m for m in self.messages if m.recipient is not None and m.role == "assistant")

    @property
    def pending_calls(self) -> tuple[Message, ...]:
        """The calls left for the caller to run (at most one: gpt-oss calls one at a time).

        The run's last message when it stopped at a client-side tool
        (``stop_reason == "tool_call"``), else none.
        """
        if self.stop_reason != "tool_call" or not self.messages:
            return ()
        return (self.messages[-1],)

    @classmethod
    def read_jsonl(cls, path: str | os.PathLike[str]) -> list[RunResult]:
        """Load the results a :func:`run_many` wrote (one JSON object per line)."""
        return list(cls.iter_jsonl(path))

    @classmethod
    def iter_jsonl(cls, path: str | os.PathLike[str]) -> Iterator[RunResult]:
        """Iterate over the results in a JSONL file, one per non-empty line."""
        with Path(path).open(encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    yield cls.model_validate_json(line)
