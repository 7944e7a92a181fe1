"""harmony_agent end to end, offline: what ``make demo`` and ``harmony-agent demo`` run.

The model is SCRIPTED: a small Python function stands in for gpt-oss and writes
harmony tokens the way it does (reasoning on ``analysis``, built-in tool calls, a
function call on ``commentary``, a cited answer on ``final``), deciding each step from
the tool answers in its prompt. Everything else is real: the agent loop talks HTTP to a
loopback server speaking vLLM's ``/v1/completions`` protocol, the streaming parser
splits the stream, the browser searches a local SQLite index of the bundled notes in
``harmony_agent/demo_corpus/`` (original text, Apache-2.0 with the project) and opens
them, the python tool runs the code in a sandboxed Jupyter kernel, and the citations
of the answer are resolved to the lines they quote.

    python -m harmony_agent.demo [--show-reasoning] [--no-sandbox]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

import harmony_agent as ha
from harmony_agent.cli._console import Output
from harmony_agent.tools.python import SandboxMode

__all__ = ["QUESTION", "main", "run_demo", "scripted_model"]

QUESTION = "How much warmer is Lisbon than Oslo today, in Fahrenheit? Cite your source."
CORPUS = Path(__file__).resolve().parent / "demo_corpus"
TEMPERATURES = {"Oslo": 4, "Lisbon": 19}


@ha.tool
def get_temperatures(cities: list[str]) -> dict[str, int]:
    """Today's temperature in °C for each city.

    Args:
        cities: City names, e.g. ["Oslo"].
    """
    return {city: TEMPERATURES.get(city, 15) for city in cities}


def _answer(text: str, author: str) -> str | None:
    """The body of the last tool answer from ``author`` in the prompt text."""
    bodies = re.findall(
        rf"<\|start\|>{re.escape(author)} to=assistant.*?<\|message\|>(.*?)<\|end\|>", text, re.S
    )
    return bodies[-1] if bodies else None


def scripted_model(prompt: list[int]) -> str:
    """Stands in for gpt-oss: the next step, read off the tool answers in the prompt."""
    text = ha.load_encoding().decode(prompt)
    results = _answer(text, "browser.search")
    if results is None:
        return (
            "<|channel|>analysis<|message|>The user wants a temperature difference in "
            "Fahrenheit, with a source. First find how the scales convert."
            "<|end|><|start|>assistant<|channel|>analysis to=browser.search <|constrain|>json"
            '<|message|>{"query": "convert celsius fahrenheit", "topn": 3}<|call|>'
        )
    page = _answer(text, "browser.open")
    if page is None:
        link = re.search(r"【(\d+)†Converting between Celsius", results)
        return (
            "<|channel|>analysis<|message|>The first result explains the conversion. Open it."
            "<|end|><|start|>assistant<|channel|>analysis to=browser.open <|constrain|>json"
            f'<|message|>{{"id": {link.group(1) if link else 0}}}<|call|>'
        )
    temperatures = _answer(text, "functions.get_temperatures")
    if temperatures is None:
        return (
            "<|channel|>analysis<|message|>A difference converts with 9/5 alone, no +32. "
            "Now today's temperatures.<|end|><|start|>assistant<|channel|>commentary<|message|>"
            "Checking today's temperatures in both cities.<|end|><|start|>assistant"
            "<|channel|>commentary to=functions.get_temperatures <|constrain|>json"
            '<|message|>{"cities": ["Oslo", "Lisbon"]}<|call|>'
        )
    computed = _answer(text, "python")
    if computed is None:
        return (
            "<|channel|>analysis<|message|>Compute the difference in Python to be exact."
            "<|end|><|start|>assistant<|channel|>analysis to=python code<|message|>"
            f"temps = {temperatures}\n"
            'diff_c = temps["Lisbon"] - temps["Oslo"]\n'
            "diff_f = diff_c * 9 / 5  # a difference: no +32\n"
            'print(f"{diff_c} °C = {diff_f:g} °F")<|call|>'
        )
    cursor = re.search(r"\[(\d+)\] Converting between Celsius", page)
    lines = re.findall(r"^L(\d+): .*(?:difference|without adding)", page, re.M)
    mark = f"【{cursor.group(1) if cursor else 1}†L{lines[0]}-L{lines[-1]}】" if lines else ""
    match = re.search(r"(-?\d+) °C = (-?[\d.]+) °F", computed)
    diff_c, diff_f = match.groups() if match else ("?", "?")
    return (
        "<|channel|>analysis<|message|>Python says " + computed.strip() + ". Answer, citing "
        "the note on differences.<|end|><|start|>assistant<|channel|>final<|message|>"
        f"Lisbon is {diff_f} °F warmer than Oslo today ({TEMPERATURES['Lisbon']} °C against "
        f"{TEMPERATURES['Oslo']} °C, a difference of {diff_c} °C). A temperature difference "
        f"converts with the factor 9/5 alone, without adding 32 {mark}.<|return|>"
    )


async def run_demo(
    out: Output, *, show_reasoning: bool = False, sandbox: SandboxMode = "auto"
) -> ha.RunResult:
    """Run the episode, showing it on ``out``; returns its result."""
    from harmony_agent.backends import VLLM
    from harmony_agent.browser import LocalIndex, build_index, citations
    from harmony_agent.testing import FakeVLLMServer

    out.note("harmony_agent demo: the model is SCRIPTED (a Python stand-in for gpt-oss,", "bold")
    out.note("no GPU, no network); the HTTP server, parser, tools and sandbox are real.", "bold")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="harmony-agent-demo-") as workdir:
        index_path = Path(workdir) / "index.sqlite"
        stats = build_index(CORPUS, index_path)
        out.note(f"indexed {stats.indexed} notes from {CORPUS} for the browser")
        browser = ha.BrowserTool(search=LocalIndex(index_path))
        python = ha.PythonTool(timeout=30, sandbox=sandbox, workdir=Path(workdir) / "data")
        with python, FakeVLLMServer(scripted_model, token_delay=0.001) as server:
            async with VLLM(server.base_url, model=server.model_name) as backend:
                agent = ha.Agent(
                    backend,
                    tools=[browser, python, get_temperatures],
                    instructions="Use the tools; cite what you read. Be brief.",
                    reasoning="low",
                    max_turns=10,
                )
                out.note(f"\nuser: {QUESTION}\n", "bold")
                result = await _show(agent.stream(QUESTION), out, show_reasoning)
        cited = citations(result, browser=browser)
    elapsed = time.perf_counter() - started
    if len(cited):
        out.note("\ncitations, resolved:", "bold")
    for c in cited:
        quote = " ".join(c.quote.split())
        out.note(f"  {c.mark} → {c.url} {c.lines}: “{quote[:150]}”")
    usage = result.usage
    out.note(
        f"\nsummary: {result.turns} completions, {len(result.tool_calls)} tool calls, "
        f"{usage.prompt_tokens} prompt + {usage.completion_tokens} generated tokens, "
        f"{elapsed:.1f} s, stop_reason={result.stop_reason}",
        "bold",
    )
    return result


async def _show(events: object, out: Output, show_reasoning: bool) -> ha.RunResult:
    """The user-visible stream on stdout; reasoning (if asked) and tools on stderr."""
    visible = ha.VisibleTextFilter(include_preambles=True)
    async for event in events:  # type: ignore[attr-defined]
        text = visible.feed(event)
        if text:
            out.write(text)
        if isinstance(event, ha.ContentDelta) and event.channel == "analysis":
            if show_reasoning:
                out.side(event.text, "dim italic")
            else:
                out.spinner("thinking…")
        elif isinstance(event, ha.MessageEnd):
            if event.message.channel == "analysis" and show_reasoning:
                out.side("\n")
            elif event.message.channel == "commentary" and event.message.recipient is None:
                out.write("\n")  # a preamble: the user sees it, then the work
        elif isinstance(event, ha.ToolCallStart):
            body = " ".join(event.message.text.split())
            out.note(f"→ {event.message.recipient} {body[:120]}", "cyan")
            out.spinner(f"running {event.message.recipient}…")
        elif isinstance(event, ha.ToolResult):
            for answer in event.messages:
                lines = [line for line in answer.text.splitlines() if line.strip()]
                first = lines[0] if lines else "(empty)"
                more = f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
                out.note(f"← {answer.name}: {first[:110]}{more}", "red" if event.error else "dim")
        elif isinstance(event, ha.RunEnd):
            out.stop_spinner()
            out.write("\n")
            result: ha.RunResult = event.result
            return result
    raise AssertionError("the run ended without a RunEnd event")  # pragma: no cover


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The demo's options (shared by ``python -m harmony_agent.demo`` and the CLI)."""
    parser.add_argument(
        "--show-reasoning", action="store_true", help="show the chain of thought, dimmed"
    )
    parser.add_argument(
        "--no-sandbox",
        action="store_true",
        help="run the python tool without bubblewrap (only where none can be installed)",
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of ``python -m harmony_agent.demo``."""
    parser = argparse.ArgumentParser(prog="python -m harmony_agent.demo")
    add_arguments(parser)
    args = parser.parse_args(argv)
    sandbox: SandboxMode = "none" if args.no_sandbox else "auto"
    asyncio.run(run_demo(Output(), show_reasoning=args.show_reasoning, sandbox=sandbox))


if __name__ == "__main__":
    main()
