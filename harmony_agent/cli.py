"""The ``harmony-agent`` command line: ``render``, ``parse`` and ``demo``.

    harmony-agent render conversation.json          # harmony text of a conversation
    harmony-agent render conversation.json --tokens # token ids
    echo '<|channel|>final<|message|>Hi<|return|>' | harmony-agent parse -
    harmony-agent demo

A conversation file is ``Conversation.model_dump_json()`` output, or openai-harmony's
``{"messages": [...]}`` JSON form.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harmony_agent.errors import HarmonyAgentError
from harmony_agent.format import Conversation, Message, RenderConfig, Role, load_encoding


def _read(source: str) -> str:
    return sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")


def _conversation(data: Any) -> Conversation:
    messages = data.get("messages", data) if isinstance(data, dict) else data
    if not isinstance(messages, list):
        raise HarmonyAgentError("expected {'messages': [...]} or a list of messages")
    built = []
    for m in messages:
        harmony_form = isinstance(m.get("content"), list)  # openai-harmony's to_dict() form
        built.append(Message.from_harmony_dict(m) if harmony_form else Message.model_validate(m))
    return Conversation(built)


def _render(args: argparse.Namespace) -> int:
    enc = load_encoding()
    conversation = _conversation(json.loads(_read(args.file)))
    config = RenderConfig(
        auto_drop_analysis=not args.keep_analysis,
        cot_policy="upstream" if args.upstream else "turns",
        schema_flavor="upstream" if args.upstream else "improved",
    )
    if args.next_role == "none":
        tokens = enc.render_conversation(conversation, config)
    else:
        tokens = enc.render_conversation_for_completion(conversation, Role(args.next_role), config)
    print(json.dumps(tokens) if args.tokens else enc.decode(tokens))
    return 0


def _parse(args: argparse.Namespace) -> int:
    enc = load_encoding()
    raw = _read(args.file).strip()
    if raw.startswith("["):
        tokens = [int(t) for t in json.loads(raw)]
    else:
        tokens = enc.encode(raw, allowed_special="all")
    role = None if args.role == "none" else Role(args.role)
    messages = enc.parse_messages_from_completion_tokens(tokens, role, strict=args.strict)
    print(json.dumps([m.model_dump(mode="json") for m in messages], ensure_ascii=False, indent=2))
    return 0


def _demo(_args: argparse.Namespace) -> int:
    from harmony_agent.demo import main as demo_main

    demo_main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = argparse.ArgumentParser(prog="harmony-agent", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    render = sub.add_parser("render", help="render a conversation JSON file to harmony")
    render.add_argument("file", help="conversation JSON file, or - for stdin")
    render.add_argument("--tokens", action="store_true", help="print token ids, not text")
    render.add_argument("--next-role", default="assistant", help="role of the next turn, or 'none'")
    render.add_argument("--keep-analysis", action="store_true", help="keep all analysis")
    render.add_argument(
        "--upstream", action="store_true", help="openai-harmony's CoT policy and schema text"
    )
    render.set_defaults(func=_render)

    parse = sub.add_parser("parse", help="parse model output (harmony text or token ids)")
    parse.add_argument("file", help="text or JSON token list file, or - for stdin")
    parse.add_argument("--role", default="assistant", help="role the stream starts in, or 'none'")
    parse.add_argument("--strict", action="store_true", help="fail on malformed output")
    parse.set_defaults(func=_parse)

    demo = sub.add_parser("demo", help="run an agent end to end, offline")
    demo.set_defaults(func=_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``harmony-agent``."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except (HarmonyAgentError, OSError, ValueError) as exc:
        print(f"harmony-agent {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
