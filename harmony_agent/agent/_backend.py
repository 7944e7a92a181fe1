"""The backend protocol: prompt tokens in, generated token chunks out."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any, Literal, Protocol, Union, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Backend", "BackendCallable", "Finish", "FinishReason", "SamplingParams", "as_backend"]

#: Why an engine ended a completion: on a stop token (or end of generation), or at the
#: length limit.
FinishReason = Literal["stop", "length"]


class SamplingParams(BaseModel):
    """How to sample one completion.

    ``stop_tokens`` None means the harmony action stops (``<|return|>``, ``<|call|>``);
    the agent always fills it in before calling a backend.

    ``json_schema`` asks the engine to constrain the completion to JSON following that
    schema, where it can (vLLM ``structured_outputs.json``, SGLang ``json_schema``,
    llama.cpp ``json_schema``, Ollama ``format``; other backends ignore it). The agent
    sets it only for the rest of a ``final`` message (``Agent(constrain_output=True)``),
    never for the reasoning.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_tokens: int = Field(default=4096, gt=0)
    temperature: float = Field(default=1.0, ge=0.0)
    top_p: float = Field(default=1.0, gt=0.0, le=1.0)
    stop_tokens: tuple[int, ...] | None = None
    seed: int | None = None
    json_schema: dict[str, Any] | None = None


class Finish(tuple[int, ...]):
    """The last chunk of a completion, saying why the engine ended it.

    It is a chunk of token ids like any other (usually empty), so code that only
    concatenates chunks needs no change. The HTTP backends end every stream the server
    finished with one; a stream that ends without it was not known to be finished
    (backends that cannot tell, such as :class:`~harmony_agent.backends.Scripted`, leave
    it out). ``reason == "length"`` means the engine stopped at a length limit, which
    may be its own and lower than ``max_tokens``: the agent then never takes the
    message for a finished answer.
    """

    reason: FinishReason

    def __new__(cls, tokens: Iterable[int] = (), reason: FinishReason = "stop") -> Finish:
        chunk = super().__new__(cls, tokens)
        chunk.reason = reason
        return chunk

    def __repr__(self) -> str:
        return f"Finish({list(self)!r}, reason={self.reason!r})"


@runtime_checkable
class Backend(Protocol):
    """Anything that turns a token prompt into a stream of generated token chunks.

    The chunks may or may not end with the stop token; the last may be a
    :class:`Finish` saying why the engine stopped. A stream that breaks raises
    :class:`~harmony_agent.BackendError`, or :class:`~harmony_agent.StreamInterrupted`
    when tokens had already arrived (the agent then resumes it). Closing the iterator
    early (``aclose``) must abort the request.
    """

    def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]: ...


BackendCallable = Callable[
    [list[int], SamplingParams],
    Union[Iterable[int], AsyncIterator[int], Awaitable[Iterable[int]]],  # noqa: UP007
]


class _CallableBackend:
    """Adapts ``fn(prompt_tokens, params)`` returning tokens (sync, async or iterables)."""

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn

    def __repr__(self) -> str:
        return f"CallableBackend({getattr(self.fn, '__name__', self.fn)!r})"

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        result = self.fn(list(prompt_tokens), params)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, (str, bytes)):
            raise TypeError(
                f"backend {self!r} returned a {type(result).__name__}, but a backend returns "
                "token ids (an iterable of ints); encode harmony text with "
                "ha.load_encoding().encode(text, allowed_special='all'), or replay texts "
                "with ha.backends.Scripted([...])"
            )
        if hasattr(result, "__aiter__"):
            async for item in result:
                yield _chunk(item)
            return
        for item in result:
            yield _chunk(item)


def _chunk(item: Any) -> Sequence[int]:
    if isinstance(item, int):
        return (item,)
    if isinstance(item, (str, bytes)) or not isinstance(item, Iterable):
        raise TypeError(
            "a callable backend yields token ids (ints, or lists of ints), got "
            f"{type(item).__name__} {item!r:.60}"
        )
    return tuple(int(t) for t in item)


def as_backend(obj: Backend | Callable[..., Any]) -> Backend:
    """Return ``obj`` if it has ``stream``; wrap a plain callable otherwise."""
    if hasattr(obj, "stream"):
        return obj
    if callable(obj):
        return _CallableBackend(obj)
    raise TypeError(
        f"a backend needs a stream(prompt_tokens, params) method or be callable: {obj!r}"
    )
