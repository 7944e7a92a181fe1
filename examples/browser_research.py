"""Research with the browser tool: search, open, find, and citations users can follow.

Offline, the browser searches a local index (SQLite full-text search) of two notes
written below, opens one, finds a phrase in it, and the (scripted, labelled) model cites
the lines it read as ``【cursor†La-Lb】``; ``ha.browser.citations`` turns those marks into
links that keep the line range. To use a real model and a self-hosted search engine::

    HARMONY_AGENT_URL=http://127.0.0.1:8000 SEARXNG_URL=http://127.0.0.1:8888 \\
        python examples/browser_research.py
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

import harmony_agent as ha

NOTES = {
    "tides.md": "# Why there are two tides a day\n\nThe moon's gravity pulls the near side of\n"
    "the ocean more than the Earth's centre, and the Earth's centre more than the far\n"
    "side. Two bulges result, one facing the moon and one opposite it, so most coasts\n"
    "see two high tides a day.\n",
    "spring-tides.md": "# Spring and neap tides\n\nWhen the sun and moon line up, at new\n"
    "and full moon, their pulls add and tides run higher: spring tides. At the quarter\n"
    "moons they pull at right angles and tides are weaker: neap tides.\n",
}


def stand_in(prompt: list[int]) -> str:
    """Scripted, not a model: search, open the first hit, find a phrase, cite it."""
    text = ha.load_encoding().decode(prompt)
    answers = re.findall(
        r"<\|start\|>browser\.(\w+) to=assistant.*?<\|message\|>(.*?)<\|end\|>", text, re.S
    )
    done = [name for name, _ in answers]
    call = "<|channel|>analysis to=browser.{} <|constrain|>json<|message|>{}<|call|>"
    if "search" not in done:
        return call.format("search", '{"query": "why two tides a day"}')
    if "open" not in done:
        link = re.search(r"【(\d+)†Why there are two tides", answers[-1][1])
        return call.format("open", f'{{"id": {link.group(1) if link else 0}}}')
    if "find" not in done:
        return call.format("find", '{"pattern": "two bulges"}')
    page = dict(answers)["open"]
    cursor = re.match(r"\[(\d+)\]", page)
    lines = [int(n) for n in re.findall(r"^L(\d+): .*(?:pulls|bulges)", page, re.M)]
    mark = f"【{cursor.group(1) if cursor else 1}†L{min(lines)}-L{max(lines)}】" if lines else ""
    return (
        "<|channel|>final<|message|>(scripted) The moon pulls the near ocean harder than the "
        f"Earth and the Earth harder than the far ocean, raising two bulges {mark}.<|return|>"
    )


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="notes-"))
    for name, body in NOTES.items():
        (folder / name).write_text(body, encoding="utf-8")
    index_path = folder / "index.sqlite"
    ha.browser.build_index(folder, index_path)
    engines: list[ha.browser.SearchEngine] = [ha.browser.LocalIndex(index_path)]
    if os.environ.get("SEARXNG_URL"):
        engines.insert(0, ha.browser.SearXNG(os.environ["SEARXNG_URL"]))
    browser = ha.BrowserTool(search=engines)
    url = os.environ.get("HARMONY_AGENT_URL")
    backend = ha.backends.VLLM(url) if url else ha.backends.Scripted(stand_in)
    result = ha.Agent(backend, tools=[browser]).run("Why are there two tides a day?")
    for message in result.tool_calls:
        print(f"→ {message.recipient} {message.text}")
    print(f"\nanswer: {result.final_text}\n")
    cited = ha.browser.citations(result, browser=browser)
    for c in cited:
        print(f"{c.mark}: {c.url} {c.lines}\n    “{' '.join(c.quote.split())}”")
    print(f"\nfor users: {cited.markdown()}")


if __name__ == "__main__":
    main()
