"""``harmony-agent demo``: an agent end to end, offline (what ``make demo`` runs)."""

from __future__ import annotations

import argparse

from harmony_agent.cli._console import Output

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "run an agent end to end, offline (no GPU, no network)"
DESCRIPTION = """\
Run a whole agent episode offline: a scripted stand-in for gpt-oss, served over
HTTP on 127.0.0.1 in vLLM's protocol, answers a question with function tools. The
demo shows the prompt, the run as a developer sees it, what the user sees, and the
conversation kept for the next turn."""
EPILOG = """\
example:
  harmony-agent demo"""


def configure(parser: argparse.ArgumentParser) -> None:
    """``demo`` takes no arguments of its own."""


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``demo``."""
    from harmony_agent.demo import main as demo_main

    demo_main()
    return 0
