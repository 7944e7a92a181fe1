"""One owner for the stop token: the constant, and restoring one an engine left out."""

from __future__ import annotations

import harmony_agent as ha
from harmony_agent.format import _tokens as T
from harmony_agent.format import restore_stop_token, stop_token_for
from tests._helpers import tokens

CALL = '<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"x": 1}'
FINAL = "<|channel|>final<|message|>Done."


def test_the_default_stop_set_is_one_constant(encoding: ha.Encoding) -> None:
    assert T.ACTION_STOPS == (T.RETURN, T.CALL)
    assert tuple(encoding.stop_tokens_for_assistant_actions()) == T.ACTION_STOPS
    assert ha.Agent(ha.backends.Scripted([])).sampling.stop_tokens == T.ACTION_STOPS
    assert (stop_token_for("functions.f"), stop_token_for(None)) == (T.CALL, T.RETURN)


def test_a_stripped_stop_token_is_restored_from_the_header(encoding: ha.Encoding) -> None:
    call, final = tokens(encoding, CALL), tokens(encoding, FINAL)
    assert restore_stop_token(call, encoding=encoding) == [*call, T.CALL]
    assert restore_stop_token(final, encoding=encoding) == [*final, T.RETURN]
    # "to=" in a body is no recipient; a recipient in the role header is one
    body = tokens(encoding, "<|channel|>final<|message|>set x to=5")
    assert restore_stop_token(body, encoding=encoding)[-1] == T.RETURN
    role_header = tokens(encoding, " to=functions.f<|channel|>commentary<|message|>{}")
    assert restore_stop_token(role_header, encoding=encoding)[-1] == T.CALL


def test_nothing_is_added_where_nothing_is_missing(encoding: ha.Encoding) -> None:
    final = tokens(encoding, FINAL)
    whole = [*final, T.RETURN]
    assert restore_stop_token(whole, encoding=encoding) == whole
    thought = tokens(encoding, "<|channel|>analysis<|message|>Hm.<|end|>")
    assert restore_stop_token(thought, encoding=encoding) == thought  # a closed message
    assert restore_stop_token([], encoding=encoding) == []
    # a stop the request did not ask for is not added
    assert restore_stop_token(final, encoding=encoding, stops=(T.CALL,)) == final
