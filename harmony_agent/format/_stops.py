"""The stop token of a completion, and putting back one that an engine left out.

Some engines strip the stop token from what they stream (Ollama always; others when
they only say they stopped). Which one it was follows from the message being written:
a message with a recipient is a tool call and ends with ``<|call|>``, any other with
``<|return|>``. The agent restores it with :func:`stop_token_for` from its parser's
header; :func:`restore_stop_token` does the same for code driving a backend directly.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from harmony_agent.format import _tokens as T

if TYPE_CHECKING:
    from harmony_agent.format._encoding import Encoding

__all__ = ["restore_stop_token", "stop_token_for"]


def stop_token_for(recipient: str | None) -> int:
    """The token ending an assistant message: ``<|call|>`` with a recipient, else ``<|return|>``."""
    return T.CALL if recipient else T.RETURN


def restore_stop_token(
    completion: Sequence[int],
    *,
    prompt: Sequence[int] | None = None,
    encoding: Encoding | None = None,
    stops: Collection[int] = T.ACTION_STOPS,
) -> list[int]:
    """``completion`` with the stop token an engine left out put back.

    Args:
        completion: the tokens generated after a prompt ending in ``<|start|>assistant``,
            as a backend streamed them (all chunks joined).
        prompt: the prompt, when its last header is not just ``<|start|>assistant``
            (a recipient there, ``<|start|>assistant to=functions.f``, counts too).
        encoding: the harmony encoding (default: :func:`~harmony_agent.load_encoding`).
        stops: the stop tokens of the request; a stop token outside them is not added.

    Returns:
        A new list: ``completion`` plus ``<|call|>`` or ``<|return|>`` when its last
        message is open (it was cut by a stripped stop token), else ``completion``
        as it is. A completion cut by ``max_tokens`` is cut, not stopped: do not pass it.
    """
    from harmony_agent.format._events import MessageEnd, MessageStart
    from harmony_agent.format._parser import StreamParser

    out = list(completion)
    if out and out[-1] in stops:
        return out
    head: list[int] = []
    if prompt is not None and T.START in prompt:
        last = len(prompt) - 1 - list(reversed(prompt)).index(T.START)
        head = list(prompt[last:])
    parser = StreamParser(encoding, role=None) if head else StreamParser(encoding)
    open_start: MessageStart | None = None
    for event in parser.feed([*head, *out]):
        if isinstance(event, MessageStart):
            open_start = event
        elif isinstance(event, MessageEnd):
            open_start = None
    if open_start is not None:
        token = stop_token_for(open_start.recipient)
        if token in stops:
            out.append(token)
    return out
