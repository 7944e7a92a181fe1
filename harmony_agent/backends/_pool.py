"""A pool of backends: spreads concurrent runs over endpoints and fails over.

Routing, in order:

1. **Affinity.** A prompt that extends a transcript this pool served (the same run's
   next step, or a resume after a broken stream) goes back to the endpoint that served
   it, whose prefix cache holds it, unless that endpoint is down.
2. **Least outstanding requests** among the endpoints that are up (ties go round
   robin).

A request that fails before its first token with a connection error, a 5xx or a
malformed reply (after the member's own retries) takes that endpoint out for a
cooldown that doubles with each failure in a row, and is tried on the next endpoint.
After the cooldown a health probe (a GET the server must answer below 500) lets it back
in; members that are not HTTP backends get a real request instead. A 4xx is the
request's fault and is raised as it is. Once tokens have flowed, a broken stream raises
:class:`~harmony_agent.StreamInterrupted` as usual; the agent's resume then extends the
transcript, so it returns to the same endpoint, or fails over if that one died.

Affinity is cheap: a transcript is cut after each special token and the pieces are
hashed in a chain, so every step needs one pass over the prompt; the pool remembers the
chain hash of the last ``affinity_entries`` transcripts.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import httpx

from harmony_agent.agent._backend import Backend, SamplingParams
from harmony_agent.backends._http import AsyncClosing, HTTPBackend
from harmony_agent.errors import BackendError, StreamInterrupted
from harmony_agent.format import _tokens as T

__all__ = ["EndpointStatus", "Pool"]

#: Where each engine answers a health probe; any answer below 500 counts as alive.
_HEALTH_PATHS = {"Ollama": "/api/version"}
_DEFAULT_HEALTH_PATH = "/health"


@dataclass(frozen=True)
class EndpointStatus:
    """One endpoint of a :class:`Pool`, as the pool sees it now.

    Attributes:
        backend: the member backend.
        up: whether new runs are routed to it.
        outstanding: requests streaming from it right now.
        served: requests it finished (including broken streams that had tokens).
        failures: failures in a row (0 once a request or probe succeeds).
        down_for: seconds until it is probed again (0 when up).
    """

    backend: Backend
    up: bool
    outstanding: int
    served: int
    failures: int
    down_for: float


class _Endpoint:
    def __init__(self, backend: Backend, index: int) -> None:
        self.backend = backend
        self.index = index
        self.outstanding = 0
        self.served = 0
        self.failures = 0
        self.down_until = 0.0  # monotonic; 0 = up
        self.probing: asyncio.Lock | None = None

    def is_up(self) -> bool:
        return self.down_until == 0.0

    def status(self, now: float) -> EndpointStatus:
        return EndpointStatus(
            backend=self.backend,
            up=self.down_until == 0.0,
            outstanding=self.outstanding,
            served=self.served,
            failures=self.failures,
            down_for=max(0.0, self.down_until - now) if self.down_until else 0.0,
        )


def _chain(tokens: Sequence[int]) -> list[int]:
    """Chain hashes of ``tokens`` cut after each special token, the whole last."""
    hashes: list[int] = []
    h, start = 0, 0
    for i, token in enumerate(tokens):
        if token >= T.FIRST_SPECIAL:
            h = hash((h, tuple(tokens[start : i + 1])))
            hashes.append(h)
            start = i + 1
    if start < len(tokens):
        hashes.append(hash((h, tuple(tokens[start:]))))
    return hashes


class Pool(AsyncClosing):
    """Spreads runs over several backends (endpoints) and fails over between them.

    Args:
        backends: the members, e.g. ``[VLLM(url) for url in urls]``. Give HTTP members
            few retries (``max_retries=1``) so a dead endpoint is left quickly: the pool
            does the failing over.
        cooldown: seconds a failed endpoint stays out before it is probed; doubled for
            each failure in a row, up to ``max_cooldown``.
        max_cooldown: the longest cooldown.
        probe_timeout: seconds a health probe may take.
        affinity_entries: how many served transcripts are remembered for affinity.

    Usable as an async context manager; ``aclose()`` closes every member.
    """

    def __init__(
        self,
        backends: Sequence[Backend],
        *,
        cooldown: float = 2.0,
        max_cooldown: float = 60.0,
        probe_timeout: float = 2.0,
        affinity_entries: int = 10_000,
    ) -> None:
        members = list(backends)
        if not members:
            raise ValueError("Pool needs at least one backend")
        for member in members:
            if not callable(getattr(member, "stream", None)):
                raise TypeError(
                    f"Pool members must be backends with a stream() method, got {member!r}"
                )
        if cooldown <= 0 or max_cooldown < cooldown:
            raise ValueError(
                f"need 0 < cooldown <= max_cooldown, got cooldown={cooldown}, "
                f"max_cooldown={max_cooldown}"
            )
        if affinity_entries < 0:
            raise ValueError(f"affinity_entries must be >= 0, got {affinity_entries}")
        self._endpoints = [_Endpoint(b, i) for i, b in enumerate(members)]
        self.cooldown = cooldown
        self.max_cooldown = max_cooldown
        self.probe_timeout = probe_timeout
        self.affinity_entries = affinity_entries
        self._affinity: OrderedDict[int, _Endpoint] = OrderedDict()
        self._turn = itertools.count()

    def __repr__(self) -> str:
        return f"Pool({[e.backend for e in self._endpoints]!r})"

    @property
    def backends(self) -> list[Backend]:
        """The members, in the order given."""
        return [e.backend for e in self._endpoints]

    def status(self) -> list[EndpointStatus]:
        """How each endpoint stands now, in the order given."""
        now = time.monotonic()
        return [e.status(now) for e in self._endpoints]

    # -- health ---------------------------------------------------------------------
    async def health(self) -> list[bool]:
        """Probe every endpoint now (concurrently); brings live ones back in.

        Members that are not HTTP backends count as up unless a request failed.
        """
        return list(await asyncio.gather(*(self._probe(e) for e in self._endpoints)))

    async def _probe(self, endpoint: _Endpoint) -> bool:
        backend = endpoint.backend
        if not isinstance(backend, HTTPBackend):
            return endpoint.down_until == 0.0
        path = _HEALTH_PATHS.get(type(backend).__name__, _DEFAULT_HEALTH_PATH)
        try:
            response = await backend.client.get(
                backend.base_url + path, headers=backend._headers(), timeout=self.probe_timeout
            )
            alive = response.status_code < 500
        except httpx.HTTPError:
            alive = False
        if alive:
            endpoint.down_until = 0.0  # back in; a served request clears the failures
        else:
            self._mark_down(endpoint)
        return alive

    def _mark_down(self, endpoint: _Endpoint) -> None:
        endpoint.failures += 1
        delay = min(self.max_cooldown, self.cooldown * 2.0 ** (endpoint.failures - 1))
        endpoint.down_until = time.monotonic() + delay

    def _mark_up(self, endpoint: _Endpoint) -> None:
        endpoint.failures = 0
        endpoint.down_until = 0.0

    async def _revive(self) -> None:
        """Probe the endpoints whose cooldown is over (one probe each at a time)."""
        now = time.monotonic()
        due = [e for e in self._endpoints if e.down_until and e.down_until <= now]
        probes = []
        for endpoint in due:
            if not isinstance(endpoint.backend, HTTPBackend):
                endpoint.down_until = 0.0  # let a real request find out
                continue
            if endpoint.probing is None:
                endpoint.probing = asyncio.Lock()
            if not endpoint.probing.locked():
                probes.append(self._probe_once(endpoint))
        if probes:
            await asyncio.gather(*probes)

    async def _probe_once(self, endpoint: _Endpoint) -> None:
        assert endpoint.probing is not None
        async with endpoint.probing:
            await self._probe(endpoint)

    # -- routing --------------------------------------------------------------------
    def _affine(self, chain: list[int]) -> _Endpoint | None:
        for key in reversed(chain):
            endpoint = self._affinity.get(key)
            if endpoint is not None:
                self._affinity.move_to_end(key)
                return endpoint
        return None

    def _remember(self, transcript: Sequence[int], endpoint: _Endpoint) -> None:
        if not self.affinity_entries or not transcript:
            return
        key = _chain(transcript)[-1]
        self._affinity[key] = endpoint
        self._affinity.move_to_end(key)
        while len(self._affinity) > self.affinity_entries:
            self._affinity.popitem(last=False)

    def _order(self, preferred: _Endpoint | None) -> list[_Endpoint]:
        """Endpoints to try, best first: the affine one, then up ones by load, then down."""
        turn = next(self._turn)
        n = len(self._endpoints)
        up = [e for e in self._endpoints if e.is_up()]
        up.sort(key=lambda e: (e.outstanding, (e.index - turn) % n))
        down = sorted((e for e in self._endpoints if not e.is_up()), key=lambda e: e.down_until)
        order = up + down  # when all are down, try them anyway, soonest-due first
        if preferred is not None and preferred.is_up():
            order.remove(preferred)
            order.insert(0, preferred)
        return order

    async def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        """Stream the completion from one endpoint, failing over before the first token."""
        if any(e.down_until for e in self._endpoints):
            await self._revive()
        preferred = self._affine(_chain(prompt_tokens)) if self._affinity else None
        errors: list[str] = []
        for endpoint in self._order(preferred):
            received: list[int] = []
            endpoint.outstanding += 1
            inner = endpoint.backend.stream(prompt_tokens, params)
            try:
                async for chunk in inner:
                    received += chunk
                    yield chunk
            except StreamInterrupted:
                self._served(endpoint, prompt_tokens, received)
                raise
            except BackendError as exc:
                if received:
                    self._served(endpoint, prompt_tokens, received)
                    raise
                if exc.status is not None and 400 <= exc.status < 500 and exc.status != 429:
                    raise  # the request's fault: every endpoint would refuse it
                self._mark_down(endpoint)
                errors.append(f"{endpoint.backend!r}: {exc}")
                continue
            finally:
                endpoint.outstanding -= 1
                aclose = getattr(inner, "aclose", None)
                if aclose is not None:
                    await aclose()
            self._served(endpoint, prompt_tokens, received)
            return
        raise BackendError(
            f"every endpoint of the pool failed before the first token: {'; '.join(errors)}"
        )

    def _served(self, endpoint: _Endpoint, prompt: list[int], received: list[int]) -> None:
        endpoint.served += 1
        self._mark_up(endpoint)
        self._remember(prompt + received, endpoint)

    # -- lifecycle ------------------------------------------------------------------
    async def release_loop(self) -> None:
        """Let each member close what it opened in the running event loop."""
        for endpoint in self._endpoints:
            release = getattr(endpoint.backend, "release_loop", None)
            if release is not None:
                await release()

    async def aclose(self) -> None:
        """Close every member that can be closed."""
        for endpoint in self._endpoints:
            aclose = getattr(endpoint.backend, "aclose", None)
            if aclose is not None:
                await aclose()
