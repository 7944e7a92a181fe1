"""A scripted backend for tests: replays completions, records what it was asked."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Union

from harmony_agent.agent._backend import SamplingParams
from harmony_agent.backends._tokens import TokenGate
from harmony_agent.errors import BackendError

if TYPE_CHECKING:
    from harmony_agent.format import Encoding

__all__ = ["Completion", "Scripted"]

#: One scripted completion: token ids, or harmony text with special tokens literal.
Completion = Union[Sequence[int], str]  # noqa: UP007
ScriptFn = Callable[[list[int]], Union[Completion, Awaitable[Completion]]]  # noqa: UP007


class Scripted:
    """A backend that replays completions in order, the way httpx ships ``MockTransport``.

    Each completion is a list of token ids or harmony text such as
    ``"<|channel|>final<|message|>Hi<|return|>"`` (encoded with special tokens allowed);
    a single string is a script of one completion.
    A callable ``completions(prompt_tokens)`` computes each one instead. Like a real
    engine it stops after the first of ``params.stop_tokens`` and after
    ``params.max_tokens`` tokens.

    Attributes:
        prompts: every prompt received, in order.
        calls: the sampling parameters of every call, in order.

    Example:
        >>> backend = Scripted(["<|channel|>final<|message|>Hi<|return|>"])
    """

    def __init__(
        self,
        completions: Iterable[Completion] | str | ScriptFn,
        *,
        encoding: Encoding | None = None,
        chunk_size: int = 1,
    ) -> None:
        if chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
        if isinstance(completions, str):
            completions = [completions]
        if callable(completions):
            self._script: list[Completion] | None = None
            self._fn: ScriptFn | None = completions
        else:
            self._script = list(completions)
            self._fn = None
        self._encoding = encoding
        self.chunk_size = chunk_size
        self.prompts: list[list[int]] = []
        self.calls: list[SamplingParams] = []

    def __repr__(self) -> str:
        left = "dynamic" if self._script is None else f"{self.remaining} left"
        return f"Scripted({left}, {len(self.calls)} calls)"

    @property
    def remaining(self) -> int | None:
        """Completions not replayed yet (None for a callable script)."""
        return None if self._script is None else max(0, len(self._script) - len(self.calls))

    @property
    def encoding(self) -> Encoding:
        """The encoding used for text completions (loaded on first use)."""
        if self._encoding is None:
            from harmony_agent.format import load_encoding

            self._encoding = load_encoding()
        return self._encoding

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[list[int]]:
        """Replay the next completion in chunks of ``chunk_size`` tokens."""
        call = len(self.calls)
        self.prompts.append(list(prompt_tokens))
        self.calls.append(params)
        if self._fn is not None:
            result = self._fn(list(prompt_tokens))
            completion = await result if inspect.isawaitable(result) else result
        elif self._script is not None and call < len(self._script):
            completion = self._script[call]
        else:
            raise BackendError(f"Scripted backend has no completion left for call {call + 1}")
        tokens = self._tokens(completion, call)
        gate = TokenGate(params)
        for start in range(0, len(tokens), self.chunk_size):
            if chunk := gate.take(tokens[start : start + self.chunk_size]):
                yield chunk
            if gate.done:
                return

    def _tokens(self, completion: object, call: int) -> list[int]:
        if isinstance(completion, str):
            return self.encoding.encode(completion, allowed_special="all")
        if isinstance(completion, Sequence) and all(
            isinstance(t, int) and not isinstance(t, bool) for t in completion
        ):
            return list(completion)
        raise BackendError(
            f"Scripted completion for call {call + 1} must be token ids or harmony text, "
            f"got {type(completion).__name__}: {completion!r:.80}"
        )
