"""What ``chat`` and ``run`` share: options, the backend, the built-in tools, the agent.

A backend is one entry of :data:`BACKENDS`; a built-in tool is one entry of
:data:`TOOLS` (constructed only when the user turns it on, so a missing optional
dependency costs nothing until then).
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harmony_agent.cli._errors import CliError, UsageError
from harmony_agent.errors import HarmonyAgentError

if TYPE_CHECKING:
    from harmony_agent.agent import Agent
    from harmony_agent.agent._backend import Backend
    from harmony_agent.tools import Tool

__all__ = [
    "BACKENDS",
    "EFFORTS",
    "TOOLS",
    "BackendChoice",
    "add_agent_arguments",
    "build_agent",
    "build_backend",
    "build_tools",
    "close_tools",
    "http_backend",
    "parse_tool_names",
]

EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True)
class BackendChoice:
    """One ``--backend`` value: how to reach that engine and what it needs."""

    default_url: str
    build: Callable[[str, str | None, str | None], Backend]


def _vllm(url: str, model: str | None, key: str | None) -> Backend:
    from harmony_agent.backends import VLLM

    return VLLM(url, model=model, api_key=key)


def _sglang(url: str, _model: str | None, key: str | None) -> Backend:
    from harmony_agent.backends import SGLang

    return SGLang(url, api_key=key)


def _llamacpp(url: str, _model: str | None, key: str | None) -> Backend:
    from harmony_agent.backends import LlamaCpp

    return LlamaCpp(url, api_key=key)


def _ollama(url: str, model: str | None, key: str | None) -> Backend:
    from harmony_agent.backends import Ollama

    return Ollama(url, model or "gpt-oss:20b", api_key=key)


#: ``--backend`` names: default URL (each engine's usual port) and constructor.
BACKENDS: dict[str, BackendChoice] = {
    "vllm": BackendChoice("http://127.0.0.1:8000", _vllm),
    "sglang": BackendChoice("http://127.0.0.1:30000", _sglang),
    "llamacpp": BackendChoice("http://127.0.0.1:8080", _llamacpp),
    "ollama": BackendChoice("http://127.0.0.1:11434", _ollama),
}


def _builtin(name: str, attribute: str) -> Callable[[], Tool]:
    """A factory for the built-in tool ``ha.<attribute>``, looked up when it is needed."""

    def build() -> Tool:
        import harmony_agent as ha

        cls = getattr(ha, attribute, None)
        if cls is None:
            raise CliError(f"the {name} tool is not available in this version of harmony_agent")
        tool: Tool = cls()
        return tool

    return build


#: ``--tools`` names and how to build each tool (on first use).
TOOLS: dict[str, Callable[[], Tool]] = {
    "browser": _builtin("browser", "BrowserTool"),
    "python": _builtin("python", "PythonTool"),
}


def parse_tool_names(text: str) -> tuple[str, ...]:
    """``"python,browser"`` → ``("python", "browser")``; ``""``/``"none"`` → ``()``."""
    names = tuple(n.strip().lower() for n in text.split(",") if n.strip())
    if names in ((), ("none",)):
        return ()
    unknown = [n for n in names if n not in TOOLS]
    if unknown:
        raise UsageError(
            f"unknown tool {unknown[0]!r}: the built-in tools are {', '.join(sorted(TOOLS))} "
            "(comma-separated, or none)"
        )
    return tuple(dict.fromkeys(names))


def _tools_arg(text: str) -> tuple[str, ...]:
    try:
        return parse_tool_names(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_agent_arguments(parser: argparse.ArgumentParser) -> None:
    """The options ``chat`` and ``run`` share."""
    server = parser.add_argument_group("the model server")
    server.add_argument(
        "--backend",
        choices=sorted(BACKENDS),
        default="vllm",
        help="the engine serving gpt-oss (default: vllm)",
    )
    server.add_argument(
        "--url",
        help="the server's address (default: vllm http://127.0.0.1:8000, sglang :30000, "
        "llamacpp :8080, ollama :11434)",
    )
    server.add_argument(
        "--model",
        help="the model name: vllm asks the server when it is left out; ollama's default is "
        "gpt-oss:20b; sglang and llama.cpp serve one model and need none",
    )
    server.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get("HARMONY_AGENT_API_KEY"),
        help="sent as a bearer token (default: $HARMONY_AGENT_API_KEY)",
    )
    agent = parser.add_argument_group("the agent")
    agent.add_argument(
        "--reasoning",
        choices=EFFORTS,
        default=None,
        help="reasoning effort (default: medium)",
    )
    agent.add_argument(
        "--show-reasoning",
        action="store_true",
        help="show the model's chain of thought, dimmed (hidden by default)",
    )
    agent.add_argument(
        "--tools",
        type=_tools_arg,
        default=(),
        metavar="NAMES",
        help="built-in tools to turn on, comma-separated: python, browser (default: none)",
    )
    agent.add_argument(
        "--instructions", metavar="TEXT", help="the developer message's instructions"
    )
    agent.add_argument(
        "--max-tokens",
        type=int,
        default=4096,
        metavar="N",
        help="most tokens per completion (default 4096)",
    )
    agent.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="sampling temperature (default 1.0)",
    )
    agent.add_argument(
        "--max-turns",
        type=int,
        default=16,
        metavar="N",
        help="most completions per answer (default 16)",
    )


def build_backend(args: argparse.Namespace) -> Backend:
    """The backend that ``--backend``, ``--url``, ``--model`` and ``--api-key`` describe."""
    return http_backend(args.backend, args.url, args.model, args.api_key)


def http_backend(name: str, url: str | None, model: str | None, key: str | None) -> Backend:
    """The HTTP backend ``name`` at ``url`` (its default when None), sending ``key``."""
    choice = BACKENDS[name]
    url = url or choice.default_url
    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--url must start with http:// or https://, got {url!r}")
    try:
        return choice.build(url, model, key)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def build_tools(names: Iterable[str]) -> list[Tool]:
    """The built-in tools called ``names`` (see :data:`TOOLS`)."""
    tools: list[Tool] = []
    for name in names:
        try:
            tools.append(TOOLS[name]())
        except CliError:
            close_tools(tools)
            raise
        except (HarmonyAgentError, ImportError, OSError, ValueError) as exc:
            close_tools(tools)
            raise CliError(f"the {name} tool cannot start: {exc}") from None
    return tools


def close_tools(tools: Sequence[Any]) -> None:
    """Close the tools that hold resources (kernels, HTTP clients); errors are ignored."""
    for tool in tools:
        close = getattr(tool, "close", None)
        if callable(close):
            with contextlib.suppress(Exception):  # closing is best effort at exit
                close()


def build_agent(
    args: argparse.Namespace,
    backend: Backend,
    tools: Sequence[Tool],
    *,
    reasoning: str,
    instructions: str | None,
) -> Agent:
    """The agent for ``chat`` or ``run`` from the shared options."""
    from harmony_agent.agent import Agent
    from harmony_agent.agent._backend import SamplingParams

    for option in ("max_tokens", "max_turns"):
        if getattr(args, option) < 1:
            raise UsageError(f"--{option.replace('_', '-')} must be at least 1")
    if args.temperature < 0:
        raise UsageError("--temperature must be 0 or more")
    return Agent(
        backend,
        tools,
        instructions=instructions,
        reasoning=reasoning,
        max_turns=args.max_turns,
        sampling=SamplingParams(max_tokens=args.max_tokens, temperature=args.temperature),
        record=getattr(args, "record", None),  # run --record
    )
