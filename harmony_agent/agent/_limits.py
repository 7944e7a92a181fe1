"""The limits of a run, in one settings object: :class:`Limits`."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Limits"]


@dataclass(frozen=True, kw_only=True)
class Limits:
    """How far one run may go.

    Args:
        max_turns: the most completions one run may ask for.
        token_budget: the most tokens the model may generate in one run, all completions
            together (None: no budget).
        context_window: the model's context length; a run stops before a prompt plus
            its completion would overflow it (None: unchecked).
        tool_timeout: seconds before a tool call is abandoned and reported to the model
            as timed out (a tool's own ``timeout`` wins; None: wait forever).
        reasoning_budget: the most ``analysis`` tokens one completion may write; past
            it the stream is closed (aborting the request) and the model is made to
            answer on ``final`` from the reasoning it has (None: no budget).
        run_reasoning_budget: the same over the whole run, all completions together;
            once it is spent, every later completion starts on ``final`` (None: none).
    """

    max_turns: int = 32
    token_budget: int | None = None
    context_window: int | None = None
    tool_timeout: float | None = 300.0
    reasoning_budget: int | None = None
    run_reasoning_budget: int | None = None

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise ValueError(f"max_turns must be at least 1, got {self.max_turns}")
        for label, value in (
            ("token_budget", self.token_budget),
            ("context_window", self.context_window),
        ):
            if value is not None and value < 1:
                raise ValueError(f"{label} must be positive or None, got {value}")
        for label, value in (
            ("reasoning_budget", self.reasoning_budget),
            ("run_reasoning_budget", self.run_reasoning_budget),
        ):
            if value is not None and value < 0:
                raise ValueError(f"{label} must be 0 (answer at once), more, or None, got {value}")
