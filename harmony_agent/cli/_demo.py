"""``harmony-agent demo``: an agent end to end, offline (what ``make demo`` runs)."""

from __future__ import annotations

import argparse
import asyncio

from harmony_agent.cli._console import Output

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "run an agent with every tool end to end, offline (scripted model)"
DESCRIPTION = """\
Run a whole agent episode offline. The model is scripted: a Python stand-in for
gpt-oss, served over HTTP on 127.0.0.1 in vLLM's protocol. Everything else is real:
the streaming parser, the browser searching and opening a local index of bundled
notes, a function tool, and the python tool running code in a sandboxed Jupyter
kernel. You see what a user would (the answer, its preamble), the tool calls and
their answers, the citations resolved to the lines they quote, and a summary.

The python tool needs bubblewrap (apt-get install bubblewrap; make demo installs
it when run as root). --no-sandbox runs it unsandboxed instead."""
EPILOG = """\
examples:
  harmony-agent demo
  harmony-agent demo --show-reasoning"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``demo``'s arguments."""
    from harmony_agent.demo import add_arguments

    add_arguments(parser)


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``demo``."""
    from harmony_agent.demo import run_demo
    from harmony_agent.tools.python import SandboxMode

    sandbox: SandboxMode = "none" if args.no_sandbox else "auto"
    result = asyncio.run(run_demo(out, show_reasoning=args.show_reasoning, sandbox=sandbox))
    return 0 if result.stop_reason == "final" else 1
