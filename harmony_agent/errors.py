"""The exception tree of harmony_agent.

Every error the library raises on purpose derives from :class:`HarmonyAgentError`::

    HarmonyAgentError
    ├── VocabError          the o200k vocabulary could not be found or failed verification
    ├── ConversationError   a conversation breaks the role hierarchy or channel rules
    ├── RenderError         a message cannot be rendered (e.g. a tool message without a name)
    ├── ParseError          strict parsing met tokens that are not valid harmony
    ├── ToolError           a tool was misconfigured or failed outside an agent run
    ├── RecordingError      a recording file cannot be read (missing, not a recorded run)
    └── BackendError        an inference backend failed (HTTP 4xx, exhausted retries, bad reply)
        ├── StreamInterrupted   a completion stream ended before the server said it finished
        ├── ReplayDrift         a replayed prompt differs from the recorded one
        └── ReplayExhausted     a replay was asked for more completions than were recorded

Failures inside an agent run that the model can recover from (bad tool arguments,
an unknown tool, a tool timeout) are not raised: they go back to the model as tool
messages.
"""

from __future__ import annotations

__all__ = [
    "BackendError",
    "ConversationError",
    "HarmonyAgentError",
    "ParseError",
    "RecordingError",
    "RenderError",
    "ReplayDrift",
    "ReplayExhausted",
    "StreamInterrupted",
    "ToolError",
    "VocabError",
]


class HarmonyAgentError(Exception):
    """Base class of every error raised by harmony_agent."""


class VocabError(HarmonyAgentError):
    """The vocabulary is missing or corrupt; the message lists every place searched."""

    def __init__(self, message: str, searched: list[str] | None = None) -> None:
        self.searched = list(searched or [])
        if self.searched:
            message += "\nSearched:\n" + "\n".join(f"  - {place}" for place in self.searched)
        super().__init__(message)


class ConversationError(HarmonyAgentError):
    """A conversation violates a rule; ``index`` is the offending message, ``rule`` the rule."""

    def __init__(self, message: str, *, index: int | None = None, rule: str | None = None) -> None:
        self.index = index
        self.rule = rule
        super().__init__(message)


class RenderError(HarmonyAgentError, ValueError):
    """A message cannot be rendered into tokens."""


class ParseError(HarmonyAgentError, ValueError):
    """Strict parsing failed; ``position`` is the index of the offending token."""

    def __init__(self, message: str, *, position: int | None = None) -> None:
        self.position = position
        super().__init__(message if position is None else f"{message} (at token {position})")


class ToolError(HarmonyAgentError):
    """A tool is misconfigured, or a tool call failed outside an agent run."""


class BackendError(HarmonyAgentError):
    """An inference backend failed: HTTP 4xx, retries exhausted, or a malformed reply."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.status = status
        super().__init__(message)


class StreamInterrupted(BackendError):
    """A completion stream ended before the server said it had finished.

    The connection closed, a read timed out, the server went away, or the stream simply
    stopped without the engine's end marker (vLLM's ``finish_reason``, SGLang's
    ``meta_info.finish_reason``, llama.cpp's ``stop: true``, Ollama's ``done: true``).
    The tokens that arrived are valid: the agent resumes by asking the engine to
    complete the prompt plus those tokens.

    Attributes:
        received: how many tokens of this stream had reached the caller.
        url: the server's base URL, when the backend has one.
    """

    def __init__(
        self,
        message: str,
        *,
        received: int = 0,
        url: str | None = None,
        status: int | None = None,
    ) -> None:
        self.received = received
        self.url = url
        super().__init__(message, status=status)


class RecordingError(HarmonyAgentError, ValueError):
    """A recording file cannot be read: missing, or a line that is not a recorded run."""


class ReplayDrift(BackendError):
    """A prompt sent to :class:`~harmony_agent.backends.Replay` differs from the recording.

    The message shows both sides decoded around the first differing token.

    Attributes:
        run: the recorded run (its index in the recording).
        step: the completion of that run (0 is the first).
        index: the first token position where the prompts differ.
        where: the message the position falls in, e.g. ``"the developer message"``.
        recorded: the recorded prompt's tokens around ``index``.
        actual: the actual prompt's tokens around ``index``.
        recorded_text: ``recorded`` decoded, the first differing token marked.
        actual_text: ``actual`` decoded, the first differing token marked.
    """

    def __init__(
        self,
        message: str,
        *,
        run: int,
        step: int,
        index: int,
        where: str,
        recorded: tuple[int, ...],
        actual: tuple[int, ...],
        recorded_text: str,
        actual_text: str,
    ) -> None:
        self.run, self.step, self.index, self.where = run, step, index, where
        self.recorded, self.actual = recorded, actual
        self.recorded_text, self.actual_text = recorded_text, actual_text
        super().__init__(message)


class ReplayExhausted(BackendError):
    """A :class:`~harmony_agent.backends.Replay` was asked for a completion it has not got.

    Attributes:
        run: the recorded run that ran out (None: every recorded run was already taken).
        step: the completion asked for (its index within the run).
    """

    def __init__(self, message: str, *, run: int | None, step: int) -> None:
        self.run, self.step = run, step
        super().__init__(message)
