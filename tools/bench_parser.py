"""Benchmark: the streaming parser against openai-harmony's StreamableParser, same run.

    .venv/bin/python tools/bench_parser.py

A ~20k-token trajectory of the kind gpt-oss writes in a tool-using run (long analysis
in natural prose, preambles, function calls with JSON arguments, tool answers, a final
answer with non-ASCII text) is parsed:

- one token at a time, reading every delta: ours ``feed(token)`` and iterating its
  events; ours ``process(token)`` polling ``last_delta``/``current_channel``;
  openai-harmony ``process`` + ``last_content_delta`` + ``current_channel``;
- in chunks (16, 256 tokens, everything at once), against openai-harmony's
  ``parse_messages_from_completion_tokens``.

Two more streams bracket it: many short messages (headers dominate) and two long
messages of prose (no headers to speak of; every delta is a new object).

Not a test: numbers depend on the machine; compare ratios within one run.
"""

from __future__ import annotations

import gc
import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

# bench sets TIKTOKEN_ENCODINGS_BASE so that openai-harmony loads offline.
import bench as _bench_setup  # noqa: E402, F401

import harmony_agent as ha  # noqa: E402
from harmony_agent.format._parser import StreamParser  # noqa: E402


def _prose() -> list[str]:
    """Paragraphs of real English prose (standard-library docstrings), in a fixed order."""
    import argparse
    import asyncio
    import collections
    import decimal
    import email
    import logging
    import statistics
    import textwrap
    import unittest

    paragraphs = []
    for module in (collections, argparse, logging, asyncio, decimal, unittest, textwrap):
        for _, obj in inspect.getmembers(module):
            doc = inspect.getdoc(obj)
            if doc and len(doc) > 300:
                paragraphs.append(doc)
    del email, statistics
    return paragraphs


def tool_run(enc: ha.Encoding, n_tokens: int = 20_000) -> list[int]:
    """A tool-using run: long analysis in prose, a preamble, a function call, the tool's
    answer, again and again, then a final answer; about ``n_tokens`` long."""
    prose = _prose()
    cities = ["Paris", "Zürich", "São Paulo", "東京", "Reykjavík", "Kraków", "Montréal"]
    parts: list[str] = []
    total, step = 0, 0
    while total < n_tokens:
        city = cities[step % len(cities)]
        thought = "\n\n".join(prose[(3 * step + k) % len(prose)] for k in range(2))
        args = json.dumps({"location": city, "unit": "celsius", "days": 1 + step % 5})
        answer = json.dumps(
            {"city": city, "temperature": 3 + step % 25, "conditions": "light rain ☔, wind 🌬"},
            ensure_ascii=False,
        )
        piece = (
            f"<|channel|>analysis<|message|>{thought}<|end|>"
            f"<|start|>assistant<|channel|>commentary<|message|>Checking {city}.<|end|>"
            "<|start|>assistant<|channel|>commentary to=functions.get_weather "
            f"<|constrain|>json<|message|>{args}<|call|>"
            "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
            f"{answer}<|end|><|start|>assistant"
        )
        parts.append(piece)
        total += len(enc.encode(piece, allowed_special="all"))
        step += 1
    final = prose[step % len(prose)] + "\n\nBon voyage — 良い旅を! 😊"
    parts.append(f"<|channel|>final<|message|>{final}<|return|>")
    return enc.encode("".join(parts), allowed_special="all")


def short_steps(enc: ha.Encoding, n_tokens: int = 20_000) -> list[int]:
    """Many short messages: one-sentence analysis, call, answer (headers dominate)."""
    parts, total, step = [], 0, 0
    while total < n_tokens:
        piece = (
            f"<|channel|>analysis<|message|>Step {step}: I need the weather in city {step}."
            "<|end|><|start|>assistant<|channel|>commentary to=functions.get_weather "
            f'<|constrain|>json<|message|>{{"location": "City {step}"}}<|call|>'
            "<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
            f'{{"temperature": {step % 30}, "conditions": "cloudy ☔"}}<|end|><|start|>assistant'
        )
        parts.append(piece)
        total += len(enc.encode(piece, allowed_special="all"))
        step += 1
    parts.append("<|channel|>final<|message|>Pack an umbrella.<|return|>")
    return enc.encode("".join(parts), allowed_special="all")


def two_messages(enc: ha.Encoding, n_tokens: int = 20_000) -> list[int]:
    """One long analysis and one long answer, in prose: the fewest headers, and the
    largest share of tokens the parser has not seen before in the message."""
    body = enc.encode_ordinary("\n\n".join(_prose()))
    thought, answer = enc.decode(body[: n_tokens // 2]), enc.decode(body[n_tokens // 2 : n_tokens])
    return enc.encode(
        f"<|channel|>analysis<|message|>{thought}<|end|>"
        f"<|start|>assistant<|channel|>final<|message|>{answer}<|return|>",
        allowed_special="all",
    )


def timeit(fn: Callable[[], Any], *, repeat: int = 5) -> float:
    """Best of ``repeat`` runs, in seconds."""
    fn()
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
    finally:
        gc.enable()
    return best


def bench(name: str, tokens: list[int], enc: ha.Encoding, oh: Any, oe: Any) -> None:
    n = len(tokens)
    A = ha.Role.ASSISTANT

    def theirs_polled() -> None:
        parser = oh.StreamableParser(oe, oh.Role.ASSISTANT)
        for t in tokens:
            parser.process(t)
            _ = parser.last_content_delta
            _ = parser.current_channel
        parser.process_eos()

    def ours_events() -> None:
        parser = StreamParser(enc, role=A)
        for t in tokens:
            for event in parser.feed(t):
                if event.type == "content_delta":
                    _ = event.text
        parser.finish()

    def ours_polled() -> None:
        parser = StreamParser(enc, role=A)
        for t in tokens:
            parser.process(t)
            _ = parser.last_delta
            _ = parser.current_channel
        parser.finish()

    def ours_chunks(size: int) -> Callable[[], None]:
        def run() -> None:
            parser = StreamParser(enc, role=A)
            for i in range(0, n, size):
                parser.feed(tokens[i : i + size])
            parser.finish()

        return run

    # Sanity: both parse the same messages.
    theirs = oe.parse_messages_from_completion_tokens(tokens, oh.Role.ASSISTANT)
    ours = enc.parse_messages_from_completion_tokens(tokens, A)
    assert ours == [ha.Message.from_openai_harmony(m) for m in theirs]

    def line(label: str, seconds: float, reference: float) -> None:
        print(
            f"  {label:<52} {seconds * 1e3:7.2f} ms {seconds / n * 1e9:6.0f} ns/token"
            f"  x{reference / seconds:5.1f}"
        )

    print(f"{name}: {n} tokens, {len(ours)} messages")
    base = timeit(theirs_polled, repeat=3)
    line("openai-harmony: process + last_content_delta + channel", base, base)
    line("ours: feed(token), reading each delta", timeit(ours_events, repeat=3), base)
    line("ours: process(token) + last_delta + current_channel", timeit(ours_polled), base)
    whole = timeit(lambda: oe.parse_messages_from_completion_tokens(tokens, oh.Role.ASSISTANT))
    line("openai-harmony: parse_messages_from_completion_tokens", whole, whole)
    line("ours: parse_messages_from_completion_tokens", timeit(ours_chunks(n)), whole)
    for size in (16, 256):
        line(f"ours: feed(chunks of {size})", timeit(ours_chunks(size)), whole)


def main() -> None:
    import openai_harmony as oh

    enc = ha.load_encoding()
    oe = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)
    print("x: how many times faster than openai-harmony (its line above), best of runs")
    for name, make in (
        ("tool-using run", tool_run),
        ("short steps", short_steps),
        ("two long messages", two_messages),
    ):
        bench(name, make(enc), enc, oh, oe)


if __name__ == "__main__":
    main()
