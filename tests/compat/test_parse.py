"""Parsing completions and the token codec: upstream's messages, leniency and errors."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harmony_agent.compat.openai_harmony import (
    Author,
    HarmonyError,
    Message,
    Role,
)
from tests.compat.conftest import FIXTURES, fixture_ids, fixture_text

PARSE_CASES = [
    c
    for c in json.loads((FIXTURES / "cases.json").read_text())
    if c["function"] == "parse_messages_from_completion_tokens"
]


def _tokens(enc, text: str) -> list[int]:
    return enc.encode(text, allowed_special="all")


def _parse(enc, text: str, role: Role | None = Role.ASSISTANT, strict: bool = True):
    return enc.parse_messages_from_completion_tokens(_tokens(enc, text), role, strict=strict)


def _fields(m: Message) -> tuple[Any, ...]:
    text = "".join(c.text for c in m.content)  # type: ignore[attr-defined]
    return (m.author.role.value, m.author.name, m.channel, m.recipient, m.content_type, text)


@pytest.mark.parametrize("case", PARSE_CASES, ids=lambda c: c["fixture"])
def test_reference_fixtures(enc, case: dict[str, Any]):
    if case["input"] == "token_ids":
        tokens = fixture_ids(case["fixture"])
    else:
        tokens = _tokens(enc, fixture_text(case["fixture"]))
    role = case["flags"]["role"]
    parsed = enc.parse_messages_from_completion_tokens(
        tokens, None if role is None else Role(role), strict=case["flags"]["strict"]
    )
    assert parsed == [Message.from_dict(m) for m in case["messages"]]


@pytest.mark.parametrize(
    ("header", "fields"),
    [
        # as rendered, and as gpt-oss writes it (recipient after the channel)
        (
            "assistant to=functions.f<|channel|>commentary <|constrain|>json",
            ("functions.f", "<|constrain|>json"),
        ),
        (
            "assistant<|channel|>commentary to=functions.f <|constrain|>json",
            ("functions.f", "<|constrain|>json"),
        ),
        (
            "assistant<|channel|>commentary to=functions.f<|constrain|>json",
            ("functions.f", "<|constrain|>json"),
        ),
        ("assistant to=python<|channel|>analysis code", ("python", "code")),
        # a lone word after the channel is a recipient, upstream's way
        ("assistant<|channel|>final json", ("json", None)),
    ],
)
def test_header_forms(enc, header: str, fields: tuple[str | None, str | None]):
    (m,) = _parse(enc, f"<|start|>{header}<|message|>x<|call|>", role=None)
    assert (m.recipient, m.content_type) == fields
    assert m.author == Author(role=Role.ASSISTANT)


def test_an_unknown_first_word_is_a_tools_name(enc):
    (m,) = _parse(
        enc, "<|start|>browser.search to=assistant<|channel|>commentary<|message|>r<|end|>", None
    )
    assert _fields(m) == ("tool", "browser.search", "commentary", "assistant", None, "r")
    with pytest.raises(HarmonyError, match=r"Unknown role: browser\.search"):
        _parse(enc, "<|start|>browser.search<|message|>r<|end|>", None)


def test_a_given_role_is_used_for_the_first_header_only(enc):
    msgs = _parse(enc, "<|channel|>final<|message|>a<|end|><|start|>user<|message|>b<|end|>")
    assert [_fields(m)[:3] for m in msgs] == [("assistant", None, "final"), ("user", None, None)]


def test_text_is_decoded_with_special_tokens_as_text(enc):
    (m,) = _parse(enc, "<|start|>assistant<|message|>a<|start|>b<|channel|>c<|end|>", None)
    assert _fields(m)[-1] == "a<|start|>b<|channel|>c"


def test_end_of_input_finishes_the_last_message(enc):
    (m,) = _parse(enc, "<|channel|>final<|message|>cut off mid")
    assert _fields(m)[-1] == "cut off mid"
    assert _parse(enc, "<|channel|>final<|message|>a<|return|>") == [
        Message.from_role_and_content(Role.ASSISTANT, "a").with_channel("final")
    ]


@pytest.mark.parametrize(
    ("text", "role", "error"),
    [
        (
            "I must refuse<|end|><|start|>assistant<|channel|>final<|message|>no<|end|>",
            Role.ASSISTANT,
            r'unexpected tokens remaining in message header: Some\("I"\)',
        ),
        (
            "<|start|>assistant<|message|>a<|end|>stray",
            None,
            r"Unexpected token 689 while expecting start token 200006",
        ),
        (
            "<|start|>assistant<|channel|>final",
            None,
            "Unexpected EOS while waiting for message header to complete",
        ),
        ("", Role.ASSISTANT, "Unexpected EOS while waiting for message header to complete"),
        (
            "<|start|>assistant<|channel|> final<|message|>x<|end|>",
            None,
            "channel marker present but no channel value",
        ),
        ("<|start|><|message|>x<|end|>", None, "message header did not contain a role"),
        ("<|start|>robot<|message|>x<|end|>", None, "Unknown role: robot"),
    ],
)
def test_strict_errors(enc, text: str, role: Role | None, error: str):
    with pytest.raises(HarmonyError, match=error):
        _parse(enc, text, role)


def test_lenient_mode_recovers_a_header_cut_short_by_a_stop_token(enc):
    text = (
        "<|channel|>analysis I must refuse<|end|>"
        "<|start|>assistant<|channel|>final<|message|>No.<|return|>"
    )
    with pytest.raises(HarmonyError, match="unexpected tokens remaining"):
        _parse(enc, text)
    msgs = _parse(enc, text, strict=False)
    assert [_fields(m) for m in msgs] == [
        ("assistant", None, "analysis", None, None, "I must refuse"),
        ("assistant", None, "final", None, None, "No."),
    ]


def test_lenient_mode_still_requires_start_tokens_between_messages(enc):
    with pytest.raises(HarmonyError, match="while expecting start token"):
        _parse(enc, "<|channel|>final<|message|>a<|end|>b", strict=False)


def test_invalid_utf8_in_text_becomes_replacement_characters(enc):
    prefix = _tokens(enc, "<|start|>assistant<|message|>")
    (m,) = enc.parse_messages_from_completion_tokens([*prefix, 9552, 9552, *enc.encode("ok")], None)
    assert _fields(m)[-1] == " \ufffd \ufffdok"


def test_ids_beyond_the_vocabulary(enc):
    prefix = _tokens(enc, "<|start|>assistant<|message|>")
    (m,) = enc.parse_messages_from_completion_tokens([*prefix, 24912, 201089, 2375], None)
    assert _fields(m)[-1] == "hello\ufffd"  # upstream stops decoding at an unknown id
    with pytest.raises(OverflowError):
        enc.parse_messages_from_completion_tokens([-1], None)


# -- the token codec -----------------------------------------------------------------------
def test_special_tokens(enc):
    names = enc.special_tokens_set
    assert len(names) == 1091
    assert {"<|reserved_200018|>", "<|reserved_201088|>", "<|constrain|>"} <= names
    assert "<|endofprompt|>" not in names
    assert enc.is_special_token(199998) and enc.is_special_token(201088)
    assert not enc.is_special_token(199997) and not enc.is_special_token(201089)
    assert sorted(enc.stop_tokens()) == [200002, 200007, 200012]
    assert sorted(enc.stop_tokens_for_assistant_actions()) == [200002, 200012]


def test_encode_refuses_special_token_text_unless_told(enc):
    assert enc.encode("hello world") == [24912, 2375]
    with pytest.raises(HarmonyError, match="disallowed special token '<\\|end\\|>'"):
        enc.encode("a <|end|> b")
    assert enc.encode("<|end|>", allowed_special={"<|end|>"}) == [200007]
    assert enc.encode("<|end|>", disallowed_special=()) == [27, 91, 419, 91, 29]
    assert enc.encode("x<|reserved_200018|>", allowed_special="all")[-1] == 200018
    with pytest.raises(HarmonyError):  # a disallowed string need not be a special token
        enc.encode("a secret", disallowed_special={"secret"})


def test_decode_errors(enc):
    assert enc.decode_utf8([200014, 201088]) == "<|reserved_200014|><|reserved_201088|>"
    with pytest.raises(HarmonyError, match="Invalid token for decoding: 99999999"):
        enc.decode_utf8([99999999])
    with pytest.raises(HarmonyError, match="Invalid token for decoding: 201089"):
        enc.decode([201089])
    with pytest.raises(HarmonyError, match="incomplete utf-8 byte sequence from index 8"):
        enc.decode_utf8([132990, 9552])
    with pytest.raises(HarmonyError, match="invalid utf-8 sequence of 2 bytes from index 1"):
        enc.decode_utf8([9552, 9552])
    assert "Chicken" in enc.decode([132990, 9552])
