"""Resuming a completion whose stream broke, from the tokens that had arrived.

Prompts are token-exact and only grow, so a completion cut after ``k`` tokens can be
finished by asking the engine to complete ``prompt + those k tokens`` with the
remaining ``max_tokens``: the caller sees one stream, with no token repeated or lost.
Only :class:`~harmony_agent.StreamInterrupted` is resumed; a stream that breaks before
its first token is the backend's to retry, and an error the engine reports (HTTP 4xx,
an error event) is not a cut.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from harmony_agent.agent._backend import Backend, Finish, SamplingParams
from harmony_agent.errors import BackendError, StreamInterrupted

__all__ = ["Resume", "ResumePolicy", "Resuming", "resumed_stream"]

logger = logging.getLogger("harmony_agent.agent")


@dataclass(frozen=True)
class ResumePolicy:
    """How often, and how patiently, a broken completion stream is resumed.

    Attributes:
        tries: resumes per completion (0 turns resuming off).
        backoff: seconds before the first resume; doubles each time, with jitter.
        max_backoff: the longest wait between two resumes.
    """

    tries: int = 3
    backoff: float = 0.5
    max_backoff: float = 8.0

    def __post_init__(self) -> None:
        if self.tries < 0:
            raise ValueError(f"ResumePolicy.tries must be >= 0, got {self.tries}")
        if self.backoff < 0 or self.max_backoff < 0:
            raise ValueError("ResumePolicy backoff times must be >= 0")

    def delay(self, resume: int) -> float:
        """Seconds to wait before resume number ``resume`` (1, 2, ...)."""
        delay = min(self.max_backoff, self.backoff * 2.0 ** (resume - 1))
        return delay * (0.5 + random.random() / 2)  # jitter: spread runs that broke together


class Resume:
    """The resumes of one completion: after a break, whether and how to go on.

    The agent loop keeps one per completion and asks :meth:`after` when the stream
    raises; :func:`resumed_stream` does the same for any backend.

    Args:
        policy: how often and how patiently to resume.
        prompt: the completion's prompt.
        params: its sampling parameters.
    """

    __slots__ = ("cut", "params", "policy", "prompt", "resumes")

    def __init__(self, policy: ResumePolicy, prompt: list[int], params: SamplingParams) -> None:
        self.policy, self.prompt, self.params = policy, prompt, params
        self.resumes = 0
        self.cut: StreamInterrupted | None = None  # the interruption being resumed

    def after(
        self, error: BackendError, received: Sequence[int]
    ) -> tuple[list[int], SamplingParams] | None:
        """What to ask next after ``error``, with ``received`` tokens in hand.

        Returns the prompt and parameters that continue the completion, or None when no
        token is left to generate (the completion ended at ``max_tokens``).

        Raises:
            BackendError: ``error`` itself when the first request failed before any
                token (nothing to resume).
            StreamInterrupted: the stream stays broken (tries used up, or the engine
                refused the continuation); the message says how it broke and why each
                resume failed.
        """
        if isinstance(error, StreamInterrupted) and (self.cut is None or received):
            if not received or self.resumes >= self.policy.tries:
                raise self._gave_up(error) from error
            self.cut = error
        elif self.cut is None:
            raise error  # the first request failed before any token: nothing to resume
        else:
            status = error.status
            refused = status is not None and 400 <= status < 500 and status != 429
            if refused or self.resumes >= self.policy.tries:
                raise self._gave_up(error) from error
        remaining = self.params.max_tokens - len(received)
        if remaining <= 0:
            return None
        self.resumes += 1
        params = self.params.model_copy(update={"max_tokens": remaining})
        return [*self.prompt, *received], params

    async def wait(self) -> None:
        """Sleep before the resume :meth:`after` just allowed."""
        await asyncio.sleep(self.policy.delay(self.resumes))

    def _gave_up(self, last: BackendError) -> StreamInterrupted:
        first = self.cut or last
        received = first.received if isinstance(first, StreamInterrupted) else 0
        url = first.url if isinstance(first, StreamInterrupted) else None
        message = str(first)
        if self.resumes:
            message += f"; {self.resumes} resume(s) failed, the last with: {last}"
        return StreamInterrupted(message, received=received, url=url, status=last.status)


async def resumed_stream(
    backend: Backend, prompt: list[int], params: SamplingParams, policy: ResumePolicy
) -> AsyncIterator[Sequence[int]]:
    """``backend.stream(prompt, params)``, resumed where it breaks, up to ``policy.tries``.

    Raises:
        StreamInterrupted: the stream broke and could not be resumed.
        BackendError: the first request failed before any token (nothing to resume).
    """
    received: list[int] = []
    resume = Resume(policy, prompt, params)
    attempt: tuple[list[int], SamplingParams] | None = (prompt, params)
    while attempt is not None:
        stream = backend.stream(*attempt)
        try:
            async for chunk in stream:
                received += chunk
                yield chunk
            return
        except BackendError as exc:
            attempt = resume.after(exc, received)
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        if attempt is not None:
            logger.warning("resuming a broken stream (resume %d): %s", resume.resumes, resume.cut)
            await resume.wait()
    yield Finish((), "length")  # the break came with max_tokens used up


class Resuming:
    """A backend whose broken streams are resumed (what the agent does for you).

    For code that drives a backend without :class:`~harmony_agent.Agent`::

        backend = ha.backends.Resuming(ha.backends.VLLM(url), ResumePolicy(tries=5))
        async for chunk in backend.stream(prompt, params): ...

    Args:
        backend: the backend to wrap.
        policy: how often and how patiently to resume.
    """

    def __init__(self, backend: Backend, policy: ResumePolicy | None = None) -> None:
        self.backend = backend
        self.policy = policy or ResumePolicy()

    def __repr__(self) -> str:
        return f"Resuming({self.backend!r}, tries={self.policy.tries})"

    def stream(
        self, prompt_tokens: list[int], params: SamplingParams
    ) -> AsyncIterator[Sequence[int]]:
        """The wrapped backend's stream, resumed where it breaks."""
        return resumed_stream(self.backend, prompt_tokens, params, self.policy)
