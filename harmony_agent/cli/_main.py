"""The ``harmony-agent`` program: the subcommands, global options and error handling."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from types import ModuleType

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import EXIT_FAILURE, CliError
from harmony_agent.errors import HarmonyAgentError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Subcommand name → module (in harmony_agent.cli) with SUMMARY, DESCRIPTION, EPILOG,
#: configure(parser) and execute(args, out) -> exit status. Add a line to add one.
SUBCOMMANDS: dict[str, str] = {
    "chat": "_chat",
    "run": "_run",
    "demo": "_demo",
    "index": "_index",
    "render": "_render",
    "parse": "_parse",
    "mcp": "_mcp",
    "serve": "_serve",
}

DESCRIPTION = """\
Build and run agents on OpenAI's gpt-oss models (the harmony format): chat with a
model server, answer prompts from scripts, render and parse harmony."""
EPILOG = """\
examples:
  harmony-agent demo                                  an agent end to end, offline
  harmony-agent chat --backend vllm --url http://127.0.0.1:8000
  harmony-agent run --backend ollama "What is 17 * 23?"
  harmony-agent index ./docs                          a local search index for the browser
  harmony-agent serve --url http://127.0.0.1:8000 --port 8080   an OpenAI-compatible API
  harmony-agent render conversation.json --tokens
  echo '<|channel|>final<|message|>Hi<|return|>' | harmony-agent parse -

Run harmony-agent COMMAND --help for a command's options; render --help describes
the conversation JSON format.

exit status: 0 success, 1 failure (the message says why), 2 usage error.
Errors are one line; --debug prints the traceback and turns on debug logging.
NO_COLOR=1 (or --no-color) turns colours off; output that is not a terminal has none."""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30, width=92)


def _common() -> argparse.ArgumentParser:
    """Options every subcommand takes, also after its name (``render --debug``)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,
        help="show tracebacks and debug logging",
    )
    common.add_argument(
        "--no-color",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no colours or animations",
    )
    return common


def _module(name: str) -> ModuleType:
    return importlib.import_module(f"harmony_agent.cli.{SUBCOMMANDS[name]}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    from harmony_agent import __version__

    common = _common()
    parser = argparse.ArgumentParser(
        prog="harmony-agent",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=_Formatter,
        parents=[common],
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"harmony-agent {__version__} (Python {sys.version.split()[0]})",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    sub.required = True
    for name in SUBCOMMANDS:
        module = _module(name)
        command = sub.add_parser(
            name,
            help=module.SUMMARY,
            description=module.DESCRIPTION,
            epilog=module.EPILOG,
            formatter_class=_Formatter,
            parents=[common],
        )
        module.configure(command)
        command.set_defaults(execute=module.execute)
    return parser


def _configure_logging(out: Output, debug: bool) -> None:
    """Library log records (``harmony_agent.*``) on stderr: warnings, or all with --debug."""
    from rich.logging import RichHandler

    handler: logging.Handler
    if out.err_color:
        handler = RichHandler(console=out.err, show_time=False, show_path=debug)
    else:
        handler = logging.StreamHandler(out.stderr)
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.set_name("harmony-agent-cli")
    logger = logging.getLogger("harmony_agent")
    for old in [h for h in logger.handlers if h.get_name() == "harmony-agent-cli"]:
        logger.removeHandler(old)  # main() called again in the same process
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``harmony-agent``; returns the exit status."""
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    out = Output(no_color=bool(getattr(args, "no_color", False)))
    _configure_logging(out, debug)
    prefix = f"harmony-agent {args.command}: error:"
    try:
        status: int = args.execute(args, out)
        return status
    except BrokenPipeError:  # the reader went away (| head): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILURE
    except CliError as exc:
        out.error(f"{prefix} {exc}")
        if debug:
            traceback.print_exc()
        return exc.exit_code
    except (HarmonyAgentError, OSError, ValueError, TypeError) as exc:
        out.error(f"{prefix} {exc}")
        if debug:
            traceback.print_exc()
        return EXIT_FAILURE
    except KeyboardInterrupt:
        out.error("interrupted")
        return 130
    except Exception as exc:  # a bug of ours: still one line unless --debug
        if debug:
            traceback.print_exc()
        else:
            out.error(f"{prefix} {type(exc).__name__}: {exc} (--debug shows the traceback)")
        return EXIT_FAILURE
    finally:
        out.stop_spinner()
