"""The Responses API the way gpt-oss's own evals call it (``gpt_oss/evals/responses_sampler.py``):
``developer`` message first, ``reasoning={"effort": ...}`` for reasoning models, else
``temperature`` and ``max_output_tokens=131072``; the text read from ``output_text`` and
the output items' text parts, the usage kept. Over the fake vLLM server."""

from __future__ import annotations

from typing import Any

from openai import OpenAI

import harmony_agent as ha
from harmony_agent.server import create_app
from harmony_agent.testing import FakeVLLMServer
from tests.server.responses_support import final, serve, think


def sample(
    client: OpenAI,
    messages: list[dict[str, Any]],
    *,
    developer: str | None = None,
    reasoning_effort: str | None = None,
    reasoning_model: bool = False,
    temperature: float = 1.0,
    max_tokens: int = 131_072,
) -> tuple[str, Any, list[dict[str, Any]]]:
    """One sampler call, with the eval sampler's arguments and its reading of the reply."""
    if developer:
        messages = [{"role": "developer", "content": developer}, *messages]
    if reasoning_model:
        reasoning = {"effort": reasoning_effort} if reasoning_effort else None
        response = client.responses.create(
            model="gpt-oss-120b",
            input=messages,  # type: ignore[arg-type]
            reasoning=reasoning,  # type: ignore[arg-type]
        )
    else:
        response = client.responses.create(
            model="gpt-oss-120b",
            input=messages,  # type: ignore[arg-type]
            temperature=temperature,
            max_output_tokens=max_tokens,
        )
    for output in response.output:
        role = getattr(output, "role", "assistant")
        if hasattr(output, "text"):
            messages.append({"role": role, "content": output.text})
        elif hasattr(output, "content"):
            for part in output.content or ():
                if getattr(part, "text", None):
                    messages.append({"role": role, "content": part.text})
    return response.output_text, response.usage, messages


def test_the_eval_sampler_over_the_fake_vllm_server() -> None:
    model = think("Two plus two is four.") + final("4")
    with FakeVLLMServer(model, model_name="gpt-oss-120b") as engine:
        backend = ha.backends.VLLM(engine.base_url, model="gpt-oss-120b")
        with serve(create_app(backend, model="gpt-oss-120b")) as client:
            question = [{"role": "user", "content": "What is 2 + 2?"}]
            text, usage, listed = sample(
                client,
                list(question),
                developer="Answer with a number.",
                reasoning_model=True,
                reasoning_effort="low",
            )
            plain, plain_usage, _ = sample(client, list(question), temperature=0.6)
            bodies = list(engine.bodies)
    assert text == "4" == plain
    assert usage is not None and usage.output_tokens > 0 and usage.input_tokens > 0
    assert usage.output_tokens_details.reasoning_tokens > 0
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert plain_usage is not None and plain_usage.output_tokens == usage.output_tokens
    # the sampler reads the reasoning item's text as well as the answer
    assert [m["content"] for m in listed[-2:]] == ["Two plus two is four.", "4"]
    encoding = ha.load_encoding()
    reasoning_prompt = encoding.decode(bodies[0]["prompt"])
    assert "Reasoning: low" in reasoning_prompt
    assert "# Instructions\n\nAnswer with a number." in reasoning_prompt
    assert bodies[1]["max_tokens"] == 131_072 and bodies[1]["temperature"] == 0.6
    assert "Reasoning: medium" in encoding.decode(bodies[1]["prompt"])
