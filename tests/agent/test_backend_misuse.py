"""A callable backend that returns text instead of token ids gets a clear error."""

from __future__ import annotations

from typing import Any

import pytest

import harmony_agent as ha


def test_callable_backend_returning_a_string():
    def backend(prompt: list[int], params: ha.SamplingParams) -> Any:
        return "<|channel|>final<|message|>Hi<|return|>"

    with pytest.raises(TypeError) as info:
        ha.Agent(backend).run("Hi")
    message = str(info.value)
    assert "backend CallableBackend('backend') returned a str" in message
    assert "a backend returns token ids" in message and "ha.backends.Scripted" in message


def test_callable_backend_yielding_strings():
    def backend(prompt: list[int], params: ha.SamplingParams) -> Any:
        yield "Hi"

    with pytest.raises(TypeError, match=r"yields token ids .* got str 'Hi'"):
        ha.Agent(backend).run("Hi")


def test_callable_backend_of_token_ids_still_works(encoding: ha.Encoding):
    answer = encoding.encode("<|channel|>final<|message|>Hi<|return|>", allowed_special="all")
    assert ha.Agent(lambda prompt, params: answer).run("Hi").final_text == "Hi"
    assert ha.Agent(lambda prompt, params: [answer[:2], answer[2:]]).run("Hi").final_text == "Hi"
