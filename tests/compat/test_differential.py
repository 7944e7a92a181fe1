"""Differential test: the same random calls on the compat module and on the real
openai-harmony 0.0.8 give equal results — rendered tokens, parsed messages, streaming
parser state after every token, encode/decode output, and the same errors (type and
message) where upstream raises.

Each scenario is a function of (module, encoding, rng): it is run once per side with the
same seed, so both sides see the same sequence of calls.
"""

from __future__ import annotations

import json
import random
import types
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import harmony_agent as ha
from harmony_agent.compat import openai_harmony as co

Outcome = tuple[Any, ...]


def outcome(fn: Callable[[], Any]) -> Outcome:
    """A call's result, or its error as (family, message): HarmonyError and upstream's plain
    RuntimeError count as one family (ours is a RuntimeError subclass)."""
    try:
        return ("ok", fn())
    except Exception as e:
        family = "RuntimeError" if isinstance(e, RuntimeError) else type(e).__name__
        return ("error", family, str(e))


def as_json(messages: list[Any]) -> list[Any]:
    return [json.loads(m.to_json()) for m in messages]


@pytest.fixture(scope="module")
def sides(oh: types.ModuleType, oh_encoding: Any, enc: co.HarmonyEncoding) -> list[Any]:
    return [(oh, oh_encoding), (co, enc)]


def compare(sides: list[Any], scenario: Callable[..., Any], seeds: range) -> None:
    mismatches = []
    for seed in seeds:
        (m1, e1), (m2, e2) = sides
        theirs = scenario(m1, e1, random.Random(seed))
        ours = scenario(m2, e2, random.Random(seed))
        if theirs != ours:
            first = next((a, b) for a, b in zip(theirs, ours, strict=False) if a != b)
            mismatches.append((seed, str(first[0])[:400], str(first[1])[:400]))
    assert not mismatches, f"{len(mismatches)} mismatches; first: {mismatches[:3]}"


# -- rendering ------------------------------------------------------------------------------
SCHEMAS: list[dict[str, Any] | None] = [
    None,
    {
        "type": "object",
        "properties": {
            "location": {"type": "string", "description": "City"},
            "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
        },
        "required": ["location"],
    },
    {"type": "object", "properties": {}},
    {
        "type": "object",
        "properties": {
            "n": {"type": "integer", "default": 3},
            "tags": {"type": "array", "items": {"type": "string"}},
            "x": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
            "o": {"oneOf": [{"type": "string"}, {"type": "number", "description": "num"}]},
        },
    },
]
TEXTS = [
    "",
    "hi",
    "What is 2 + 2?",
    "<|end|> injected <|start|>assistant",
    "é🎉 日本語",
    "line\nline\r\n",
    "  spaced  ",
    '{"a": [1, 2.5]}',
    "word " * 30,
]


def _system(m: Any, rng: random.Random) -> Any:
    s = m.SystemContent.new()
    for _ in range(rng.randint(0, 5)):
        step = rng.randrange(9)
        if step == 0:
            s = s.with_model_identity(rng.choice(["You are a bot.", "", "two\nlines"]))
        elif step == 1:
            s = s.with_reasoning_effort(rng.choice(list(m.ReasoningEffort)))
        elif step == 2:
            s = s.with_conversation_start_date("2025-06-28")
        elif step == 3:
            s = s.with_knowledge_cutoff("2021-01")
        elif step == 4:
            s = s.with_required_channels(rng.choice([["analysis", "final"], [], ["a", "b"]]))
        elif step == 5:
            s = s.with_browser_tool()
        elif step == 6:
            s = s.with_python_tool()
        elif step == 7:
            s = s.with_channel_config(m.ChannelConfig(valid_channels=["x"], channel_required=False))
        else:
            for field in (
                "model_identity",
                "reasoning_effort",
                "knowledge_cutoff",
                "channel_config",
            ):
                if rng.random() < 0.5:
                    setattr(s, field, None)
    return s


def _developer(m: Any, rng: random.Random) -> Any:
    d = m.DeveloperContent.new()
    if rng.random() < 0.7:
        d = d.with_instructions(rng.choice(TEXTS[1:]))
    if rng.random() < 0.6:
        tools = [
            m.ToolDescription.new(
                f"tool_{i}", rng.choice(["Does a thing.", "Two\nlines.", ""]), rng.choice(SCHEMAS)
            )
            for i in range(rng.randint(0, 3))
        ]
        d = d.with_function_tools(tools)
    if rng.random() < 0.2:
        extra = m.ToolNamespaceConfig(
            name="other", description="Other tools.", tools=[m.ToolDescription.new("z", "Z.")]
        )
        d = d.with_tools(extra)
    return d


def _message(m: Any, rng: random.Random) -> Any:
    role = rng.choice(
        ["user", "assistant", "assistant", "assistant", "tool", "system", "developer"]
    )
    if role == "tool":
        name = rng.choice(["functions.get_weather", "browser.search", "python", None])
        author = m.Author(role=m.Role.TOOL, name=name)
        msg = m.Message.from_author_and_content(author, rng.choice(TEXTS))
    elif rng.random() < 0.1:
        msg = m.Message.from_author_and_content(m.Author.new(m.Role(role), "alice"), "hi")
    else:
        msg = m.Message.from_role_and_content(m.Role(role), rng.choice(TEXTS))
    if rng.random() < 0.1:
        msg = msg.adding_content(rng.choice(TEXTS))
    if rng.random() < 0.04:
        msg = msg.adding_content(m.SystemContent.new())
    if rng.random() < 0.7:
        msg = msg.with_channel(rng.choice(["analysis", "final", "commentary", "final", "x", ""]))
    if rng.random() < 0.25:
        msg = msg.with_recipient(
            rng.choice(["functions.get_weather", "python", "all", "assistant"])
        )
    if rng.random() < 0.15:
        msg = msg.with_content_type(
            rng.choice(["<|constrain|>json", "json", "code", "<|constrain|>"])
        )
    return msg


def render_scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
    messages = []
    if rng.random() < 0.7:
        messages.append(m.Message.from_role_and_content(m.Role.SYSTEM, _system(m, rng)))
    if rng.random() < 0.6:
        messages.append(m.Message.from_role_and_content(m.Role.DEVELOPER, _developer(m, rng)))
    messages += [_message(m, rng) for _ in range(rng.randint(0, 8))]
    convo = m.Conversation.from_messages(messages)
    config = rng.choice([None, m.RenderConversationConfig(auto_drop_analysis=rng.random() < 0.5)])
    role = rng.choice(list(m.Role))
    results = [
        outcome(lambda: enc.render_conversation_for_completion(convo, role, config)),
        outcome(lambda: enc.render_conversation(convo, config)),
        outcome(lambda: enc.render_conversation_for_training(convo, config)),
        ("json", json.loads(convo.to_json())),
    ]
    options = m.RenderOptions(conversation_has_function_tools=rng.random() < 0.5)
    for msg in messages:
        results.append(outcome(lambda msg=msg: enc.render(msg, options)))
    return results


def test_rendering(sides):
    compare(sides, render_scenario, range(600))


# -- parsing --------------------------------------------------------------------------------
FRAGMENTS = [
    "<|start|>", "<|end|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|return|>",
    "<|call|>", "assistant", "user", "tool", "system", "functions.get_weather",
    " to=functions.get_weather", " to=", "to=", "analysis", "final", "commentary", " json",
    " code", " ", "  ", "\n", "\t", "\u00a0", "\u2003", "\x0b", "\x1c", "hello", " world",
    "é", "🎉", "<", ">", "browser.search", " to=assistant", "<|endoftext|>",
    "<|reserved_200018|>", "assistant<|channel|>final<|message|>", '{"a": 1}', 'a"b\\c',
]  # fmt: skip
ODD_IDS = [9552, 132990, 200018, 201088, 201089, 199998, 199999, 200000, 5, 55]
HEADERS = [
    "assistant", "", "functions.get_weather to=assistant", "assistant to=functions.f", "user",
    "tool", "foo bar", "to=x", "browser.search", "assistant to=python",
]  # fmt: skip
CHANNELS = [
    "analysis", "final", "commentary", "commentary to=functions.f",
    "commentary to=functions.f <|constrain|>json", "final json", "", " x",
]  # fmt: skip
BODIES = ["hi", "", "2 + 2 = 4.", '{"location": "Tokyo"}', "é🎉", "a<|start|>b", "l1\nl2"]


def _completion(enc: Any, rng: random.Random) -> list[int]:
    """A plausible completion, sometimes broken (dropped, inserted, replaced, cut tokens)."""
    parts = []
    for i in range(rng.randint(1, 4)):
        header = rng.choice(HEADERS)
        if rng.random() < 0.8:
            header += "<|channel|>" + rng.choice(CHANNELS)
        if rng.random() < 0.15:
            header += rng.choice([" <|constrain|>json", "<|constrain|>json", " extra words"])
        start = "<|start|>" if i or rng.random() < 0.5 else ""
        message = "<|message|>" if rng.random() < 0.92 else ""
        end = rng.choice(["<|end|>", "<|call|>", "<|return|>", ""] if i else ["<|end|>", ""])
        parts.append(start + header + message + rng.choice(BODIES) + end)
    tokens: list[int] = enc.encode("".join(parts), allowed_special="all")
    for _ in range(rng.choice([0, 0, 1, 2])):
        if not tokens:
            break
        i = rng.randrange(len(tokens))
        kind = rng.random()
        if kind < 0.3:
            del tokens[i]
        elif kind < 0.6:
            tokens.insert(i, rng.choice(ODD_IDS))
        elif kind < 0.8:
            tokens = tokens[:i]
        else:
            tokens[i] = rng.choice(ODD_IDS)
    return tokens


def _noise(enc: Any, rng: random.Random) -> list[int]:
    tokens: list[int] = []
    for _ in range(rng.randint(0, 14)):
        if rng.random() < 0.15:
            tokens.append(rng.choice(ODD_IDS))
        else:
            tokens += enc.encode(rng.choice(FRAGMENTS), allowed_special="all")
    return tokens


def _tokens_and_options(m: Any, enc: Any, rng: random.Random) -> tuple[list[int], Any, bool]:
    tokens = _completion(enc, rng) if rng.random() < 0.7 else _noise(enc, rng)
    role = rng.choice([None, "assistant", "assistant", "tool", "user"])
    return tokens, None if role is None else m.Role(role), rng.random() < 0.5


def parse_scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
    tokens, role, strict = _tokens_and_options(m, enc, rng)
    return [
        outcome(
            lambda: as_json(enc.parse_messages_from_completion_tokens(tokens, role, strict=strict))
        )
    ]


def _snapshot(parser: Any) -> tuple[Any, ...]:
    return (
        parser.state_data,
        parser.state.value,
        parser.current_role,
        parser.current_channel,
        parser.current_recipient,
        parser.current_content_type,
        parser.current_content,
        parser.last_content_delta,
        parser.tokens,
        as_json(parser.messages),
    )


def stream_scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
    tokens, role, strict = _tokens_and_options(m, enc, rng)
    parser = m.StreamableParser(enc, role, strict=strict)
    results = []
    for token in [*tokens, None]:
        step = parser.process_eos if token is None else (lambda t=token: parser.process(t))
        results.append(outcome(lambda step=step: step() and None))
        results.append(outcome(lambda: _snapshot(parser)))
    return results


def test_parsing(sides):
    compare(sides, parse_scenario, range(2000))


def test_streaming_parser_state_after_every_token(sides):
    compare(sides, stream_scenario, range(700))


@pytest.fixture(scope="module")
def partial_ids() -> list[int]:
    """Ordinary tokens whose bytes are not valid UTF-8 on their own."""
    out = []
    for i, b in enumerate(ha.load_encoding().token_byte_table):
        try:
            b.decode()
        except UnicodeDecodeError:
            out.append(i)
    return out


def test_utf8_repair_in_content_and_decoding(sides, partial_ids):
    def scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
        body = [
            rng.choice(partial_ids) if rng.random() < 0.6 else rng.choice([55, 9552, 220, 24912])
            for _ in range(rng.randint(0, 12))
        ]
        if rng.random() < 0.1:
            body.insert(rng.randint(0, len(body)), rng.choice([201089, 200018]))
        prefix = enc.encode("<|start|>assistant<|message|>", allowed_special="all")
        tokens = prefix + body + ([200007] if rng.random() < 0.5 else [])
        return [
            *stream_like(m, enc, tokens),
            outcome(lambda: as_json(enc.parse_messages_from_completion_tokens(tokens, None))),
            outcome(lambda: enc.decode_utf8(body)),
            outcome(lambda: enc.decode(body)),
        ]

    def stream_like(m: Any, enc: Any, tokens: list[int]) -> list[Outcome]:
        parser = m.StreamableParser(enc, None)
        out = []
        for t in tokens:
            out.append(outcome(lambda t=t: parser.process(t) and None))
            out.append(outcome(lambda: _snapshot(parser)))
        out.append(outcome(lambda: parser.process_eos() and _snapshot(parser)))
        return out

    compare(sides, scenario, range(800))


@settings(max_examples=300, deadline=None)
@given(
    pieces=st.lists(
        st.sampled_from([*FRAGMENTS, "<|start|>assistant", "<|message|>x"]), max_size=16
    ),
    role=st.sampled_from([None, "assistant", "tool"]),
    strict=st.booleans(),
)
def test_parsing_generated_streams(sides, pieces: list[str], role: str | None, strict: bool):
    results = []
    for m, enc in sides:
        tokens = enc.encode("".join(pieces), allowed_special="all")
        r = None if role is None else m.Role(role)
        parsed = outcome(
            lambda enc=enc, tokens=tokens, r=r: as_json(
                enc.parse_messages_from_completion_tokens(tokens, r, strict=strict)
            )
        )
        parser = m.StreamableParser(enc, r, strict=strict)
        states = []
        for t in tokens:
            states.append(outcome(lambda t=t, p=parser: p.process(t) and None))
            states.append(outcome(lambda p=parser: _snapshot(p)))
        results.append((tokens, parsed, states))
    assert results[0] == results[1]


# -- encode / decode ------------------------------------------------------------------------
# A few fixed sets: upstream compiles a regex per distinct set, which is slow to repeat.
ALLOWED_SETS = [
    {"<|end|>"},
    {"<|start|>", "<|end|>", "<|message|>", "not special"},
    {"<|reserved_200018|>", "<|constrain|>", "<|endoftext|>"},
    {"<|reserved_201088|>", "<|call|>", "<|return|>", "<|channel|>"},
]


def test_encoding_and_decoding(sides):
    def scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
        names = sorted(enc.special_tokens_set)
        pool = [*FRAGMENTS, *names[:5], "<|reserved_201088|>", "<|endofprompt|>", "<|", "\ud83d"]
        text = "".join(rng.choice(pool) for _ in range(rng.randint(0, 8)))
        kwargs: dict[str, Any] = {}
        pick = rng.random()
        if pick < 0.3:
            kwargs["allowed_special"] = "all"
        elif pick < 0.6:
            kwargs["allowed_special"] = rng.choice(ALLOWED_SETS)
        pick = rng.random()
        if pick < 0.3:
            kwargs["disallowed_special"] = ()
        elif pick < 0.4:
            kwargs["disallowed_special"] = {"<|end|>", "hello"}
        encoded = outcome(lambda: enc.encode(text, **kwargs))
        if encoded[0] == "error":  # same refusal; the advice after the first line is ours
            encoded = (*encoded[:2], encoded[2].split("\n")[0])
        tokens = encoded[1] if encoded[0] == "ok" else [rng.randrange(201100)]
        return [
            encoded,
            outcome(lambda: enc.decode(tokens)),
            outcome(lambda: enc.decode_utf8(tokens)),
            ("set", sorted(enc.special_tokens_set) == names and len(names)),
            ("stops", sorted(enc.stop_tokens()), sorted(enc.stop_tokens_for_assistant_actions())),
            outcome(lambda: [enc.is_special_token(t) for t in (0, 199997, 199998, 201088, 201089)]),
        ]

    compare(sides, scenario, range(1000))


def test_out_of_range_ids(sides):
    def scenario(m: Any, enc: Any, rng: random.Random) -> list[Outcome]:
        bad = rng.choice([-1, 2**32])
        parser = m.StreamableParser(enc, None)
        return [
            outcome(lambda: enc.decode([bad]))[:2],
            outcome(lambda: enc.is_special_token(bad))[:2],
            outcome(lambda: enc.parse_messages_from_completion_tokens([bad]))[:2],
            outcome(lambda: parser.process(bad))[:2],
        ]

    compare(sides, scenario, range(4))
