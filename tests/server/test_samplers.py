"""The call pattern of gpt-oss's own eval sampler for Chat Completions, against the server.

gpt-oss's evals (``gpt_oss/evals/chat_completions_sampler.py``) build an ``openai.OpenAI``
client on the server's ``/v1``, optionally prepend a system message, and call
``chat.completions.create(model, messages, reasoning_effort, temperature, max_tokens)``;
they read ``choices[0].message.content`` (retrying when it is empty), put
``message.reasoning`` back into the list as an assistant message when there is one, and
keep ``usage`` as the response's metadata. The same calls here, our own code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import openai

from harmony_agent.format import Encoding
from tests.server.conftest import API_MODEL, Served

ANSWER = (
    "<|channel|>analysis<|message|>2 + 2 is 4. Answer with the letter.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>Answer: B<|return|>"
)


def sample(
    client: openai.OpenAI,
    messages: list[dict[str, Any]],
    *,
    system: str | None,
    effort: str | None,
    temperature: float,
    max_tokens: int,
) -> tuple[str, Any, list[dict[str, Any]]]:
    """One eval sample the way the sampler takes it: text, usage, the messages sent."""
    if system:
        messages = [{"role": "system", "content": system}, *messages]
    response = client.chat.completions.create(
        model=API_MODEL,
        messages=messages,  # type: ignore[arg-type]
        reasoning_effort=effort,  # type: ignore[arg-type]
        temperature=temperature,
        max_tokens=max_tokens,
    )
    message = response.choices[0].message
    reasoning = getattr(message, "reasoning", None)
    if reasoning:
        messages.append({"role": "assistant", "content": reasoning})
    assert message.content, "the sampler retries an empty answer"
    return message.content, response.usage, messages


def test_the_eval_sampler_call_pattern(served: Callable[..., Served], encoding: Encoding) -> None:
    app = served(ANSWER)
    client = app.client(timeout=24 * 60 * 60)
    question = [{"role": "user", "content": "What is 2 + 2? A) 3 B) 4"}]
    for effort, max_tokens in (("low", 1024), ("high", 32768), (None, 2048)):
        text, usage, sent = sample(
            client,
            list(question),
            system="You are a helpful assistant.",
            effort=effort,
            temperature=1.0,
            max_tokens=max_tokens,
        )
        assert text == "Answer: B"
        assert usage.prompt_tokens > 0 and usage.completion_tokens > 0
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
        assert sent[-1] == {"role": "assistant", "content": "2 + 2 is 4. Answer with the letter."}
        body = app.engine.bodies[-1]
        assert body["max_tokens"] == max_tokens
        prompt = encoding.decode(body["prompt"])
        assert f"Reasoning: {effort or 'medium'}" in prompt
        assert "# Instructions\n\nYou are a helpful assistant." in prompt
