"""``Pool``: load spreading, failover, endpoints out and back in, affinity within a run.

Every test runs real HTTP adapters against fake engine servers on loopback: some dead
(a closed port), some failing with 5xx, some slow.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import harmony_agent as ha
from harmony_agent.backends import VLLM, Pool, Scripted
from harmony_agent.backends._pool import _chain
from harmony_agent.errors import BackendError, StreamInterrupted
from harmony_agent.format import Encoding
from harmony_agent.testing import Cut, FakeServer, FakeVLLMServer
from tests._helpers import lookup
from tests.backends.conftest import FINAL, MODEL, collect, eventually, flat, harmony, params

ANSWER = "<|channel|>final<|message|>Forty-two.<|return|>"
CALL = (
    "<|channel|>commentary to=functions.lookup <|constrain|>json"
    '<|message|>{"topic": "life"}<|call|>'
)


def tool_model(prompt: list[int]) -> str:
    """Call the tool first; answer once its result is in the prompt."""
    return ANSWER if "life: 42" in ha.load_encoding().decode(prompt) else CALL


@pytest.fixture
def servers() -> Iterator[Callable[..., FakeVLLMServer]]:
    started: list[FakeServer] = []

    def start(model: Any = None, **kwargs: Any) -> FakeVLLMServer:
        server = FakeVLLMServer(model, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.close()


def dead_url() -> str:
    server = FakeVLLMServer().start()
    url = server.base_url
    server.close()  # nothing listens there any more
    return url


def member(url: str, **kwargs: Any) -> VLLM:
    return VLLM(url, model=MODEL, max_retries=0, retry_backoff=0.0, **kwargs)


def prompt_for(encoding: Encoding, question: str) -> list[int]:
    return harmony(encoding, f"<|start|>user<|message|>{question}<|end|><|start|>assistant")


async def test_concurrent_runs_spread_by_outstanding_requests(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    fakes = [servers(FINAL, token_delay=0.01) for _ in range(3)]
    async with Pool([member(s.base_url) for s in fakes]) as pool:
        results = await asyncio.gather(
            *(collect(pool.stream(prompt_for(encoding, f"q{i}"), params())) for i in range(9))
        )
        assert all(flat(r) == harmony(encoding, FINAL) for r in results)
        assert [len(s.bodies) for s in fakes] == [3, 3, 3]
        assert all(status.outstanding == 0 and status.up for status in pool.status())


async def test_a_dead_endpoint_is_failed_over_and_taken_out(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    live = [servers(FINAL) for _ in range(2)]
    pool = Pool([member(dead_url()), *(member(s.base_url) for s in live)], cooldown=30.0)
    async with pool:
        for i in range(6):
            tokens = flat(await collect(pool.stream(prompt_for(encoding, f"q{i}"), params())))
            assert tokens == harmony(encoding, FINAL)
        dead, *up = pool.status()
        assert not dead.up and dead.failures == 1 and dead.down_for > 20
        assert all(s.up for s in up)
        assert sum(len(s.bodies) for s in live) == 6
        assert await pool.health() == [False, True, True]


async def test_5xx_before_the_first_token_fails_over(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    failing = servers(FINAL, fail_first=100, fail_status=503)
    healthy = servers(FINAL)
    async with Pool([member(failing.base_url), member(healthy.base_url)]) as pool:
        tokens = flat(await collect(pool.stream(prompt_for(encoding, "q"), params())))
    assert tokens == harmony(encoding, FINAL)
    assert failing.requests_seen == 1 and len(healthy.bodies) == 1


async def test_a_bad_request_is_not_failed_over(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    first, second = servers(FINAL), servers(FINAL)
    bad = {"temperature": "hot"}
    members = [member(s.base_url, extra_body=bad) for s in (first, second)]
    async with Pool(members) as pool:
        with pytest.raises(BackendError) as info:
            await collect(pool.stream(prompt_for(encoding, "q"), params()))
        assert info.value.status == 400
        assert first.requests_seen + second.requests_seen == 1
        assert all(s.up for s in pool.status())


async def test_every_endpoint_down_names_each(encoding: Encoding) -> None:
    urls = [dead_url(), dead_url()]
    async with Pool([member(url) for url in urls]) as pool:
        with pytest.raises(BackendError, match="every endpoint") as info:
            await collect(pool.stream(prompt_for(encoding, "q"), params()))
    assert all(url in str(info.value) for url in urls)


async def test_a_failed_endpoint_comes_back_after_its_cooldown(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    flapping, steady = servers(FINAL, fail_first=10**9), servers(FINAL)
    questions = (f"q{i}" for i in range(100))

    async def until(predicate: Callable[[], bool]) -> None:
        for _ in range(6):  # ties alternate: a request reaches it within two
            await collect(pool.stream(prompt_for(encoding, next(questions)), params()))
            if predicate():
                return
        raise AssertionError(pool.status())

    async with Pool([member(flapping.base_url), member(steady.base_url)], cooldown=0.05) as pool:
        await until(lambda: not pool.status()[0].up)
        assert pool.status()[0].failures == 1
        await asyncio.sleep(0.06)  # cooldown over: the probe lets it in, and it fails again
        await until(lambda: pool.status()[0].failures == 2)
        assert not pool.status()[0].up  # out again, for twice as long
        flapping.fail_first = 0  # it recovers
        await asyncio.sleep(0.11)
        await until(lambda: pool.status()[0].served > 0)
        assert pool.status()[0].up and pool.status()[0].failures == 0
    assert steady.completed == steady.requests_seen  # every run was answered


async def test_a_flapping_endpoint_loses_no_run(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    flapping, steady = servers(FINAL, fail_first=2), servers(FINAL)
    async with Pool([member(flapping.base_url), member(steady.base_url)], cooldown=0.01) as pool:
        for i in range(20):
            if i % 5 == 0:
                flapping.fail_first = flapping.requests_seen + 2
            tokens = flat(await collect(pool.stream(prompt_for(encoding, f"q{i}"), params())))
            assert tokens == harmony(encoding, FINAL)
            await asyncio.sleep(0.005)
    assert len(steady.bodies) >= 10


async def test_a_slow_endpoint_gets_less_work(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    slow = servers(FINAL, token_delay=0.02)
    fast = [servers(FINAL) for _ in range(2)]
    gate = asyncio.Semaphore(6)

    async def one(i: int) -> list[int]:
        async with gate:
            return flat(await collect(pool.stream(prompt_for(encoding, f"q{i}"), params())))

    async with Pool([member(s.base_url) for s in (slow, *fast)]) as pool:
        results = await asyncio.gather(*(one(i) for i in range(40)))
    assert all(r == harmony(encoding, FINAL) for r in results)
    assert len(slow.bodies) < min(len(s.bodies) for s in fast)


async def test_a_resume_returns_to_its_endpoint(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    def cut_once(number: int, resumed: bool) -> Cut | None:
        return Cut(3) if number == 1 else None

    fakes = [servers(FINAL, cut=cut_once) for _ in range(3)]
    prompt = prompt_for(encoding, "q")
    async with Pool([member(s.base_url) for s in fakes]) as pool:
        received: list[int] = []
        with pytest.raises(StreamInterrupted):
            async for chunk in pool.stream(prompt, params()):
                received += chunk
        # load elsewhere must not pull the continuation away from its prefix cache
        rest = flat(await collect(pool.stream(prompt + received, params())))
    assert received + rest == harmony(encoding, FINAL)
    assert sorted(s.resumed for s in fakes) == [0, 0, 1]
    assert [len(s.bodies) for s in fakes if s.resumed] == [2]


async def test_a_resume_fails_over_when_its_endpoint_died(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    dying, other = servers(FINAL, cut=Cut(3, how="die")), servers(FINAL)
    prompt = prompt_for(encoding, "q")
    async with Pool([member(dying.base_url), member(other.base_url)]) as pool:
        received: list[int] = []
        with pytest.raises(StreamInterrupted):
            async for chunk in pool.stream(prompt, params()):
                received += chunk
        await collect(pool.stream(prompt + received, params()))
        assert not pool.status()[0].up
    assert other.bodies[-1]["prompt"] == prompt + received


async def test_each_run_stays_on_one_endpoint(
    servers: Callable[..., FakeVLLMServer],
) -> None:
    fakes = [servers(tool_model, token_delay=0.002) for _ in range(3)]
    async with Pool([member(s.base_url) for s in fakes]) as pool:
        agent = ha.Agent(pool, tools=[lookup])
        results = await asyncio.gather(*(agent.arun(f"What is life? ({i})") for i in range(9)))
    assert all(r.final_text == "Forty-two." for r in results)
    assert sum(len(s.bodies) for s in fakes) == 18
    for server in fakes:
        prompts = [body["prompt"] for body in server.bodies]
        seconds = [p for p in prompts if "life: 42" in ha.load_encoding().decode(p)]
        firsts = [p for p in prompts if p not in seconds]
        assert len(firsts) == len(seconds)  # each run's second step went where its first did
    assert max(len(s.bodies) for s in fakes) - min(len(s.bodies) for s in fakes) <= 2


async def test_cancelling_aborts_the_request(
    servers: Callable[..., FakeVLLMServer], encoding: Encoding
) -> None:
    server = servers(FINAL, token_delay=0.02)
    async with Pool([member(server.base_url)]) as pool:
        stream = pool.stream(prompt_for(encoding, "q"), params())
        async for _ in stream:
            break
        await stream.aclose()  # type: ignore[attr-defined]
        assert await eventually(lambda: server.disconnects == 1)
        assert pool.status()[0].outstanding == 0


async def test_members_need_not_be_http(encoding: Encoding) -> None:
    pool = Pool([Scripted([FINAL] * 4), Scripted([FINAL] * 4)])
    results = [flat(await collect(pool.stream([1, 2, 3], params()))) for _ in range(4)]
    assert all(r == harmony(encoding, FINAL) for r in results)
    assert [s.served for s in pool.status()] == [2, 2]
    assert await pool.health() == [True, True]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="at least one"):
        Pool([])
    with pytest.raises(TypeError, match="stream"):
        Pool([object()])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="cooldown"):
        Pool([Scripted([FINAL])], cooldown=0)


def test_affinity_memory_is_bounded() -> None:
    pool = Pool([Scripted([FINAL]), Scripted([FINAL])], affinity_entries=2)
    for i in range(5):
        pool._remember([i, 200005, i], pool._endpoints[i % 2])
    assert len(pool._affinity) == 2


def test_chain_hashes_extend_with_the_transcript() -> None:
    transcript = [1, 2, 200005, 3, 4, 200012]
    following = [*transcript, 200006, 5]
    assert _chain(transcript)[-1] in _chain(following)
    assert _chain([1, 2, 3])[-1] == _chain([1, 2, 3])[-1]
    assert _chain([1, 2, 3])[-1] not in _chain([1, 2, 4, 200005])
