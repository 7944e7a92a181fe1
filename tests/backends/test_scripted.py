"""The Scripted test double, and plain callables as backends."""

from __future__ import annotations

import pytest

from harmony_agent.agent._backend import Backend, as_backend
from harmony_agent.backends import Scripted
from harmony_agent.errors import BackendError
from harmony_agent.format import Encoding
from harmony_agent.format import _tokens as T
from tests.backends.conftest import FINAL, TOOL_CALL, collect, flat, harmony, params


async def test_replays_text_and_tokens_in_order(encoding: Encoding, prompt: list[int]) -> None:
    backend = Scripted([TOOL_CALL, [1, 2, 3, T.RETURN]])
    assert isinstance(backend, Backend)
    first = await collect(backend.stream(prompt, params()))
    second = await collect(backend.stream([*prompt, 42], params()))
    assert flat(first) == harmony(encoding, TOOL_CALL)
    assert first == [[t] for t in flat(first)]  # one token per chunk by default
    assert second == [[1], [2], [3], [T.RETURN]]
    assert backend.prompts == [prompt, [*prompt, 42]]
    assert backend.calls == [params(), params()]
    assert backend.remaining == 0


async def test_exhaustion_is_an_error(prompt: list[int]) -> None:
    backend = Scripted(FINAL)  # one string: a script of one completion
    await collect(backend.stream(prompt, params()))
    with pytest.raises(BackendError, match="no completion left for call 2"):
        await collect(backend.stream(prompt, params()))
    assert len(backend.prompts) == 2  # the failed call is recorded too


async def test_max_tokens_truncates(prompt: list[int]) -> None:
    backend = Scripted([[10, 11, 12, 13, T.RETURN]], chunk_size=3)
    chunks = await collect(backend.stream(prompt, params(max_tokens=4)))
    assert chunks == [[10, 11, 12], [13]]


async def test_stops_at_the_first_stop_token(prompt: list[int]) -> None:
    script = [[1, T.END, 2, T.CALL, 3], [1, T.END, 2, T.CALL, 3], [1, T.END, 2]]
    backend = Scripted(script, chunk_size=10)
    assert flat(await collect(backend.stream(prompt, params()))) == [1, T.END, 2, T.CALL]
    custom = params(stop_tokens=(T.END,))
    assert flat(await collect(backend.stream(prompt, custom))) == [1, T.END]
    no_stops = params(stop_tokens=())
    assert flat(await collect(backend.stream(prompt, no_stops))) == [1, T.END, 2]


async def test_callable_script_sees_each_prompt(encoding: Encoding, prompt: list[int]) -> None:
    def script(prompt_tokens: list[int]) -> str:
        return f"<|channel|>final<|message|>{len(prompt_tokens)} tokens<|return|>"

    backend = Scripted(script)
    tokens = flat(await collect(backend.stream(prompt, params())))
    assert encoding.decode(tokens) == f"<|channel|>final<|message|>{len(prompt)} tokens<|return|>"
    assert backend.remaining is None


async def test_async_callable_script(prompt: list[int]) -> None:
    async def script(prompt_tokens: list[int]) -> list[int]:
        return [prompt_tokens[0], T.RETURN]

    backend = Scripted(script, chunk_size=2)
    assert await collect(backend.stream(prompt, params())) == [[prompt[0], T.RETURN]]


async def test_rejects_what_is_not_a_completion(prompt: list[int]) -> None:
    backend = Scripted([[1, "two"]])  # type: ignore[list-item]
    with pytest.raises(BackendError, match="must be token ids or harmony text"):
        await collect(backend.stream(prompt, params()))
    with pytest.raises(ValueError, match="chunk_size"):
        Scripted([], chunk_size=0)


async def test_early_close(prompt: list[int]) -> None:
    backend = Scripted([[1, 2, 3, T.RETURN]])
    stream = backend.stream(prompt, params())
    assert await anext(stream) == [1]
    await stream.aclose()  # type: ignore[attr-defined]
    assert "0 left" in repr(backend)


async def test_a_plain_callable_is_a_backend(prompt: list[int]) -> None:
    def backend_fn(prompt_tokens: list[int], sampling: object) -> list[int]:
        return [7, 8, T.RETURN]

    backend = as_backend(backend_fn)
    assert await collect(backend.stream(prompt, params())) == [[7], [8], [T.RETURN]]
    scripted = Scripted([FINAL])
    assert as_backend(scripted) is scripted
