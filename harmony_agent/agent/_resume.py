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
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from harmony_agent.agent._backend import Backend, Finish, SamplingParams
from harmony_agent.errors import BackendError, StreamInterrupted

__all__ = ["ResumePolicy", "Resuming", "resumed_stream"]

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


#: Called before each resume with the interruption and the resume's number (1, 2, ...).
OnResume = Callable[[StreamInterrupted, int], None]


async def resumed_stream(
    backend: Backend,
    prompt: list[int],
    params: SamplingParams,
    policy: ResumePolicy,
    on_resume: OnResume | None = None,
) -> AsyncIterator[Sequence[int]]:
    """``backend.stream(prompt, params)``, resumed where it breaks, up to ``policy.tries``.

    Raises:
        StreamInterrupted: the stream broke and could not be resumed; the message says
            how many tokens arrived and why each resume failed.
        BackendError: the first request failed before any token (nothing to resume).
    """
    received: list[int] = []
    resumes = 0
    cut: StreamInterrupted | None = None  # the interruption being resumed
    while True:
        attempt_prompt, attempt_params = prompt, params
        if received:
            remaining = params.max_tokens - len(received)
            if remaining <= 0:
                yield Finish((), "length")
                return
            attempt_prompt = [*prompt, *received]
            attempt_params = params.model_copy(update={"max_tokens": remaining})
        stream = backend.stream(attempt_prompt, attempt_params)
        try:
            async for chunk in stream:
                received += chunk
                yield chunk
            return
        except StreamInterrupted as exc:
            if not received or resumes >= policy.tries:
                raise _gave_up(exc, cut, resumes) from exc
            cut = exc
        except BackendError as exc:
            if cut is None:
                raise  # the first request failed before any token: nothing to resume
            client_error = exc.status is not None and 400 <= exc.status < 500 and exc.status != 429
            if client_error or resumes >= policy.tries:
                raise _gave_up(exc, cut, resumes) from exc
        finally:
            close = getattr(stream, "aclose", None)
            if close is not None:
                await close()
        resumes += 1
        if on_resume is not None:
            on_resume(cut, resumes)
        await asyncio.sleep(policy.delay(resumes))


def _gave_up(last: BackendError, cut: StreamInterrupted | None, resumes: int) -> StreamInterrupted:
    """The error of a stream that stays broken: the first cut, and what the resumes met."""
    first = cut or last
    received = first.received if isinstance(first, StreamInterrupted) else 0
    url = first.url if isinstance(first, StreamInterrupted) else None
    message = str(first)
    if resumes:
        message += f"; {resumes} resume(s) failed, the last with: {last}"
    return StreamInterrupted(message, received=received, url=url, status=last.status)


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
        return resumed_stream(self.backend, prompt_tokens, params, self.policy, _log_resume)


def _log_resume(cut: StreamInterrupted, resume: int) -> None:
    logger.warning("resuming a broken completion stream (resume %d): %s", resume, cut)
