"""``harmony-agent parse``: model output (harmony text or token ids) as messages."""

from __future__ import annotations

import argparse
import json
from typing import Any

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import CliError
from harmony_agent.cli._io import read_text, tokens_from_json
from harmony_agent.format import Role, load_encoding
from harmony_agent.format._parser import StreamParser

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "parse model output into messages, with every issue shown"
DESCRIPTION = """\
Parse what a gpt-oss model generated (harmony text, or a JSON list of token ids)
and print the messages as JSON on stdout. Problems go to stderr, one line each: the
parser's issues (tokens it could not place in a message) and a last message that
was cut off (its stop is "incomplete": no <|end|>, <|call|> or <|return|>).

exit status: 0 when the output parsed cleanly (a cut-off last message is only a
warning: servers often strip the final stop token), 1 when there were parse issues
(the messages are still printed) or --strict found an error, 2 for a usage error."""
EPILOG = """\
examples:
  echo '<|channel|>final<|message|>Hi<|return|>' | harmony-agent parse -
  harmony-agent parse completion.json --full    # token ids; messages, stops and issues
  harmony-agent parse prompt_and_output.txt --role none   # starts at <|start|>

--role: what the model generates after a completion prompt (which ends with
<|start|>assistant) begins with <|channel|>; that is --role assistant, the default.
Text that begins with <|start|> (a whole rendered message) needs --role none."""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``parse``'s arguments."""
    parser.add_argument("file", help="text or JSON token-id list file, or - to read stdin")
    parser.add_argument(
        "--role",
        default="assistant",
        choices=[*(r.value for r in Role), "none"],
        metavar="ROLE",
        help="author of the first message when the output starts without <|start|>: "
        "assistant (default), another role, or none",
    )
    parser.add_argument(
        "--strict", action="store_true", help="fail at the first malformed token instead"
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help='print {"messages": [...], "stops": [...], "issues": [...]} instead of the messages',
    )


def _tokens(raw: str, source: str) -> list[int]:
    text = raw.strip()
    if not text:
        where = "stdin" if source == "-" else source
        raise CliError(f"{where}: empty: expected harmony text or a JSON list of token ids")
    if text.startswith("["):
        return tokens_from_json(text, source)
    return load_encoding().encode(text, allowed_special="all")


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``parse``."""
    tokens = _tokens(read_text(args.file), args.file)
    role = None if args.role == "none" else Role(args.role)
    parser = StreamParser(load_encoding(), role=role, strict=args.strict)
    events = parser.feed(tokens) + parser.finish()
    stops = [e.stop for e in events if e.type == "message_end"]
    messages = [m.model_dump(mode="json") for m in parser.messages]
    report: Any = messages
    if args.full:
        issues = [
            {"index": i.index, "detail": i.detail, "tokens": list(i.tokens)} for i in parser.issues
        ]
        report = {"messages": messages, "stops": stops, "issues": issues}
    out.write(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    for issue in parser.issues:
        ids = ", ".join(map(str, issue.tokens[:8])) + (", …" if len(issue.tokens) > 8 else "")
        shown = f" (tokens {ids})" if issue.tokens else ""
        out.warn(f"parse issue in message {issue.index}: {issue.detail}{shown}")
    if stops and stops[-1] == "incomplete":
        out.warn(
            f"message {len(stops) - 1} was cut off: no <|end|>, <|call|> or <|return|> "
            'followed (stop "incomplete")'
        )
    if parser.issues:
        out.error(
            f"harmony-agent parse: {len(parser.issues)} parse issue(s); the messages printed "
            "are the parser's best effort"
        )
        return 1
    return 0
