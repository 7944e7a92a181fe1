"""coalesced(): frames ready together go out as one; none is held back; early exit closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from harmony_agent.server._coalesce import coalesced


async def test_frames_ready_together_are_joined_and_none_waits() -> None:
    release = asyncio.Event()

    async def frames() -> AsyncGenerator[str, None]:
        yield "a"
        yield "b"  # ready at once: joined with "a"
        await release.wait()
        yield "c"

    out = coalesced(frames())
    assert await anext(out) == "ab"  # sent before "c" exists
    release.set()
    assert [chunk async for chunk in out] == ["c"]


async def test_an_error_of_the_source_reaches_the_consumer() -> None:
    async def frames() -> AsyncGenerator[str, None]:
        yield "a"
        raise ValueError("broken")

    with pytest.raises(ValueError, match="broken"):
        _ = [chunk async for chunk in coalesced(frames())]


async def test_a_consumer_that_leaves_stops_and_closes_the_source() -> None:
    closed = asyncio.Event()

    async def frames() -> AsyncGenerator[str, None]:
        try:
            while True:
                yield "x"
                await asyncio.sleep(0.01)
        finally:
            closed.set()

    out = coalesced(frames())
    assert await anext(out) == "x"
    await out.aclose()
    await asyncio.wait_for(closed.wait(), 2)
