"""``harmony-agent render``: a conversation JSON file as harmony text or token ids."""

from __future__ import annotations

import argparse
import json

from harmony_agent.cli._console import Output
from harmony_agent.cli._io import CONVERSATION_FORMAT, load_conversation
from harmony_agent.format import RenderConfig, Role, load_encoding

__all__ = ["DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "render a conversation to harmony text or token ids"
DESCRIPTION = """\
Render a conversation the way gpt-oss reads it: the harmony text (default) or the
token ids (--tokens). By default the prompt ends with <|start|>assistant, ready for
the model to complete; --next-role none renders the messages alone."""
EPILOG = (
    """\
examples:
  harmony-agent render conversation.json
  harmony-agent render conversation.json --tokens
  echo '[{"role": "user", "content": "Hi"}]' | harmony-agent render -

"""
    + CONVERSATION_FORMAT
)

_NEXT_ROLES = [*(r.value for r in Role), "none"]


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``render``'s arguments."""
    parser.add_argument("file", help="conversation JSON file, or - to read stdin")
    parser.add_argument("--tokens", action="store_true", help="print token ids, not text")
    parser.add_argument(
        "--next-role",
        default="assistant",
        choices=_NEXT_ROLES,
        metavar="ROLE",
        help="role of the turn to complete: " + ", ".join(_NEXT_ROLES) + " (default: assistant)",
    )
    parser.add_argument(
        "--keep-analysis",
        action="store_true",
        help="keep every analysis message (default: drop those of finished turns)",
    )
    parser.add_argument(
        "--upstream",
        action="store_true",
        help="openai-harmony's chain-of-thought policy and tool-schema text",
    )


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``render``."""
    conversation = load_conversation(args.file)
    enc = load_encoding()
    config = RenderConfig(
        auto_drop_analysis=not args.keep_analysis,
        cot_policy="upstream" if args.upstream else "turns",
        schema_flavor="upstream" if args.upstream else "improved",
    )
    if args.next_role == "none":
        tokens = enc.render_conversation(conversation, config)
    else:
        tokens = enc.render_conversation_for_completion(conversation, Role(args.next_role), config)
    out.write((json.dumps(tokens) if args.tokens else enc.decode(tokens)) + "\n")
    return 0
