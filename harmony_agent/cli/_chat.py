"""``harmony-agent chat``: a multi-turn conversation with a model server."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Iterator

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import CliError, UsageError
from harmony_agent.cli._session import Session
from harmony_agent.cli._setup import EFFORTS, add_agent_arguments, parse_tool_names
from harmony_agent.errors import HarmonyAgentError

__all__ = ["COMMANDS", "DESCRIPTION", "EPILOG", "SUMMARY", "configure", "execute"]

SUMMARY = "chat with gpt-oss on a model server (vLLM, SGLang, llama.cpp, Ollama)"
DESCRIPTION = """\
Chat with gpt-oss served by vLLM, SGLang, llama.cpp or Ollama. Answers stream as
they are generated; the model's chain of thought stays hidden unless you ask for
it (--show-reasoning, or /reasoning during the chat), and is then shown dimmed.

Type a message and press Enter. Commands during the chat:
  /reasoning [on|off]     show or hide the chain of thought
  /effort low|medium|high reasoning effort of the next answers
  /tools [NAMES|none]     show or set the built-in tools (python, browser)
  /save FILE              save the conversation as JSON (reload with --load FILE)
  /load FILE              continue a saved conversation
  /new                    start over
  /help                   this list
  /exit                   leave (Ctrl-D works too)

With stdin not a terminal (a pipe or a file), each line is one message and only
the answers are printed: handy for scripts and tests."""
EPILOG = """\
examples:
  harmony-agent chat                                   # vLLM on http://127.0.0.1:8000
  harmony-agent chat --backend ollama --model gpt-oss:20b
  harmony-agent chat --backend llamacpp --url http://127.0.0.1:8080 --reasoning high
  harmony-agent chat --tools python,browser --show-reasoning
  harmony-agent chat --load chat.json                  # continue a saved chat"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``chat``'s arguments."""
    parser.add_argument(
        "--load", metavar="FILE", help="continue the conversation saved in FILE (/save)"
    )
    add_agent_arguments(parser)


# -- in-chat commands ---------------------------------------------------------------------
def _reasoning(session: Session, arg: str) -> str:
    if arg in ("", "toggle"):
        session.show_reasoning = not session.show_reasoning
    elif arg in ("on", "show"):
        session.show_reasoning = True
    elif arg in ("off", "hide"):
        session.show_reasoning = False
    else:
        raise UsageError("/reasoning takes on or off")
    return f"reasoning {'shown' if session.show_reasoning else 'hidden'}"


def _effort(session: Session, arg: str) -> str:
    if arg not in EFFORTS:
        raise UsageError(f"/effort takes one of {', '.join(EFFORTS)} (now {session.effort})")
    session.set_effort(arg)
    return f"reasoning effort {arg}"


def _tools(session: Session, arg: str) -> str:
    if arg:
        session.set_tools(parse_tool_names(arg))
    return f"tools: {', '.join(session.tool_names) or 'none'}"


def _save(session: Session, arg: str) -> str:
    if not arg:
        raise UsageError("/save needs a file name")
    return f"saved {session.save(arg)} messages to {arg}"


def _load(session: Session, arg: str) -> str:
    if not arg:
        raise UsageError("/load needs a file name")
    return f"loaded {session.load(arg)} messages from {arg}"


def _new(session: Session, _arg: str) -> str:
    session.clear()
    return "new conversation"


def _help(_session: Session, _arg: str) -> str:
    return DESCRIPTION.split("Commands during the chat:\n")[1].split("\n\n")[0]


#: ``/name`` → handler returning the line to show.
COMMANDS: dict[str, Callable[[Session, str], str]] = {
    "effort": _effort,
    "help": _help,
    "load": _load,
    "new": _new,
    "reasoning": _reasoning,
    "save": _save,
    "tools": _tools,
}
_EXIT = {"exit", "quit", "q"}


def _lines(interactive: bool) -> Iterator[str]:
    """The user's lines: prompted on a terminal, one per line from a pipe."""
    if interactive:
        with contextlib.suppress(ImportError):  # line editing and history for input()
            import readline  # noqa: F401
        while True:
            try:
                yield input("you> ")
            except EOFError:
                print()
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


def _command(session: Session, out: Output, line: str, *, interactive: bool) -> bool:
    """Run one ``/command``; False when it asks to leave. A failing command ends a
    chat read from a pipe (exit status 1 or 2), and is reported on a terminal."""
    name, _, arg = line[1:].strip().partition(" ")
    if name in _EXIT:
        return False
    handler = COMMANDS.get(name)
    try:
        if handler is None:
            raise UsageError(f"unknown command /{name}: try /help")
        out.note(handler(session, arg.strip()), style="green")
    except CliError as exc:
        if not interactive:
            raise
        out.error(str(exc))
    return True


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``chat``."""
    interactive = sys.stdin.isatty()
    session = Session(args, out)
    try:
        if args.load is not None:
            session.load(args.load)
        if interactive:
            out.note(
                f"chat with {args.backend} at {getattr(session.backend, 'base_url', '?')}; "
                f"reasoning "
                f"{session.effort}, tools: {', '.join(session.tool_names) or 'none'}. "
                "/help for commands, /exit to leave.",
            )
        for line in _lines(interactive):
            text = line.strip()
            if not text:
                continue
            if text.startswith("/"):
                if not _command(session, out, text, interactive=interactive):
                    break
                continue
            try:
                result = session.ask(line)
                if result.stop_reason != "final":
                    out.warn(f"no answer this time (stop_reason={result.stop_reason})")
            except KeyboardInterrupt:
                out.error("(interrupted: this answer was dropped)")
            except HarmonyAgentError as exc:
                if not interactive:
                    raise
                out.error(f"error: {exc}")
    except KeyboardInterrupt:
        out.note("")
    finally:
        session.close()
    return 0
