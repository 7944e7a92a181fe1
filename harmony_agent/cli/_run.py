"""``harmony-agent run``: one prompt to a model server, for scripts."""

from __future__ import annotations

import argparse
import sys

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import CliError, UsageError
from harmony_agent.cli._session import Session
from harmony_agent.cli._setup import add_agent_arguments

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "answer one prompt with a model server (script-friendly, --json)"
DESCRIPTION = """\
Send one prompt to gpt-oss on a model server and print the answer as it streams.
Only the final answer goes to stdout; with --show-reasoning the chain of thought
goes to stderr, as do tool calls and their answers.

--json prints the whole run instead (a RunResult: final_text, messages, the
conversation to continue from, stop_reason, usage, turns) as one JSON object.

--record FILE appends the run to FILE token for token (one JSON line: every prompt
and completion, the tool answers, the outcome); replay it in tests with
ha.backends.Replay or harmony_agent.testing.replay, no model needed.

exit status: 0 when the model gave a final answer, 1 when it did not (stop_reason
says why; with --json the JSON is still printed) or the server failed, 2 for a
usage error."""
EPILOG = """\
examples:
  harmony-agent run "What is 17 * 23?"
  harmony-agent run --backend ollama --model gpt-oss:20b "Name three moons of Jupiter."
  echo "Summarise: ..." | harmony-agent run - --reasoning low
  harmony-agent run --json "Hi" | jq .usage
  harmony-agent run --load chat.json "And in Fahrenheit?"   # continue a saved chat
  harmony-agent run --tools python --record runs.jsonl "What is 2**100?"  # for replay"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``run``'s arguments."""
    parser.add_argument(
        "prompt",
        nargs="?",
        help="the question; - reads it from stdin; may be left out with --load to answer "
        "the loaded conversation as it is",
    )
    parser.add_argument("--json", action="store_true", help="print the RunResult as JSON")
    parser.add_argument(
        "--load", metavar="FILE", help="continue the conversation saved in FILE (chat's /save)"
    )
    parser.add_argument(
        "--record",
        metavar="FILE",
        help="append the run to FILE token for token (JSONL), to replay it in tests",
    )
    add_agent_arguments(parser)


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``run``."""
    prompt: str | None = args.prompt
    if prompt == "-":
        prompt = sys.stdin.read().strip()
        if not prompt:
            raise UsageError("the prompt read from stdin is empty")
    if prompt is None and args.load is None:
        raise UsageError("give a prompt (or - to read it from stdin)")
    session = Session(args, out)
    try:
        if args.load is not None:
            session.load(args.load)
        result = session.ask(prompt, stream=not args.json)
    finally:
        session.close()
    if args.json:
        out.write(result.model_dump_json() + "\n")
    if result.stop_reason != "final":
        raise CliError(
            f"the model gave no final answer (stop_reason={result.stop_reason}"
            f"{', ' + result.error if result.error else ''}); {_advice(result.stop_reason)}"
        )
    return 0


def _advice(stop_reason: str) -> str:
    return {
        "max_turns": "allow more completions with --max-turns",
        "max_tokens": "allow longer completions with --max-tokens",
        "no_final": "the model ended its turn without answering; try again or rephrase",
    }.get(stop_reason, "see --json for the whole run")
