"""``harmony-agent serve``: an OpenAI-compatible server in front of any backend."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from harmony_agent.cli._console import Output
from harmony_agent.cli._errors import CliError, UsageError
from harmony_agent.cli._setup import (
    BACKENDS,
    EFFORTS,
    build_tools,
    close_tools,
    http_backend,
    parse_tool_names,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from harmony_agent.agent._backend import Backend
    from harmony_agent.tools import Tool

__all__ = ["ARGS_ENV", "DESCRIPTION", "EPILOG", "SUMMARY", "app_from_env", "configure", "execute"]

SUMMARY = "serve /v1/chat/completions over any backend, harmony done right"
DESCRIPTION = """\
An OpenAI-compatible server in front of a raw-token engine: applications speak the
OpenAI API, the server does harmony (our renderer, our lenient parser, the chain of
thought kept out of answers, function calls handed back to the client, built-in tools
run sandboxed here).

Endpoints: GET /health, GET /v1/models, POST /v1/chat/completions (streaming or
not). It listens on 127.0.0.1 unless --host says otherwise; with --api-key, every /v1
request must send "Authorization: Bearer KEY". Needs harmony_agent[server]."""
EPILOG = """\
examples:
  harmony-agent serve --backend vllm --url http://127.0.0.1:8000 --port 8080
  harmony-agent serve --backend ollama --model gpt-oss:20b --tools python,browser
  harmony-agent serve --backend transformers --model openai/gpt-oss-20b
  harmony-agent serve --url http://gpu-box:8000 --host 0.0.0.0 --api-key "$KEY"

then, from any OpenAI client:
  OpenAI(base_url="http://127.0.0.1:8080/v1", api_key="KEY or anything")"""


def configure(parser: argparse.ArgumentParser) -> None:
    """Add ``serve``'s arguments."""
    engine = parser.add_argument_group("the engine behind the server")
    engine.add_argument(
        "--backend",
        choices=[*sorted(BACKENDS), "transformers"],
        default="vllm",
        help="the engine serving gpt-oss as raw tokens (default: vllm)",
    )
    engine.add_argument(
        "--url",
        help="the engine's address (default: vllm http://127.0.0.1:8000, sglang :30000, "
        "llamacpp :8080, ollama :11434; not used by transformers)",
    )
    engine.add_argument(
        "--model",
        help="the engine's model: vllm asks the server when it is left out; ollama's "
        "default is gpt-oss:20b; transformers loads this name or path (required)",
    )
    engine.add_argument(
        "--engine-api-key",
        metavar="KEY",
        default=os.environ.get("HARMONY_AGENT_API_KEY"),
        help="bearer token sent to the engine (default: $HARMONY_AGENT_API_KEY)",
    )
    server = parser.add_argument_group("the server")
    server.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    server.add_argument("--port", type=int, default=8000, help="port to listen on (8000)")
    server.add_argument(
        "--api-key",
        metavar="KEY",
        default=os.environ.get("HARMONY_AGENT_SERVE_KEY"),
        help="require this bearer token from clients (default: $HARMONY_AGENT_SERVE_KEY; "
        "none: open)",
    )
    server.add_argument(
        "--served-model-name",
        metavar="NAME",
        help="the model name clients see (default: --model, or gpt-oss)",
    )
    server.add_argument(
        "--tools",
        type=_tools_arg,
        default=(),
        metavar="NAMES",
        help="built-in tools run on the server, comma-separated: python, browser (default: none)",
    )
    server.add_argument(
        "--reasoning",
        choices=EFFORTS,
        default="medium",
        help="reasoning effort when a request names none (default: medium)",
    )
    server.add_argument(
        "--max-tokens",
        type=int,
        default=8192,
        metavar="N",
        help="tokens per completion when a request sets no limit (default 8192)",
    )
    server.add_argument(
        "--max-turns",
        type=int,
        default=16,
        metavar="N",
        help="completions per request with built-in tools (default 16)",
    )
    server.add_argument(
        "--context-window",
        type=int,
        metavar="N",
        help="the model's context length, to cap completions (default: the engine's)",
    )
    server.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="server processes sharing the port (default 1; the server's own CPU, "
        "mostly HTTP, binds first at high concurrency)",
    )
    server.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        default="info",
        help="uvicorn's log level (default: info)",
    )


def _tools_arg(text: str) -> tuple[str, ...]:
    try:
        return parse_tool_names(text)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _backend(args: argparse.Namespace) -> Backend:
    if args.backend == "transformers":
        if not args.model:
            raise UsageError("--backend transformers needs --model (a model name or path)")
        try:
            from harmony_agent.backends import Transformers

            return Transformers(args.model)
        except ImportError as exc:
            raise CliError(
                f"the transformers backend needs torch and transformers: {exc}"
            ) from None
    # the engine's key: --api-key is what this server asks of its own clients
    return http_backend(args.backend, args.url, args.model, args.engine_api_key)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check(args: argparse.Namespace) -> None:
    if not 0 <= args.port < 65536:
        raise UsageError(f"--port takes a port number (0-65535), got {args.port}")
    for option in ("max_tokens", "max_turns", "context_window", "workers"):
        value = getattr(args, option)
        if value is not None and value < 1:
            raise UsageError(f"--{option.replace('_', '-')} must be at least 1")
    if args.backend != "transformers":
        url = urlsplit(args.url or BACKENDS[args.backend].default_url)
        if url.port == args.port and _loopback(url.hostname or "") and _loopback(args.host):
            raise UsageError(
                f"the engine is at {url.geturl()} and the server would listen on port "
                f"{args.port} too: choose another --port"
            )


#: Where ``--workers`` hands each worker process the parsed options (JSON).
ARGS_ENV = "HARMONY_AGENT_SERVE_ARGS"


def _app(
    args: argparse.Namespace, backend: Backend, tools: list[Tool], *, owns_tools: bool
) -> FastAPI:
    from harmony_agent.server import create_app

    return create_app(
        backend,
        model=args.served_model_name or args.model or "gpt-oss",
        api_key=args.api_key,
        tools=tools,
        max_tokens=args.max_tokens,
        max_turns=args.max_turns,
        context_window=args.context_window,
        reasoning=args.reasoning,
        owns_tools=owns_tools,
    )


def app_from_env() -> FastAPI:
    """The app of one ``--workers`` process, from the options in ``$HARMONY_AGENT_SERVE_ARGS``.

    Each worker has its own backend connections and its own built-in tools.
    """
    args = argparse.Namespace(**json.loads(os.environ[ARGS_ENV]))
    args.tools = tuple(args.tools)
    return _app(args, _backend(args), build_tools(args.tools), owns_tools=True)


def execute(args: argparse.Namespace, out: Output) -> int:
    """Run ``serve`` until interrupted."""
    try:
        from harmony_agent.server import serve
    except ImportError as exc:
        raise CliError(
            f"serve needs FastAPI and uvicorn (pip install 'harmony_agent[server]'): {exc}"
        ) from None
    _check(args)
    # a bad --url or a missing --model fails here, before any worker starts
    backend = _backend(args) if args.workers == 1 or args.backend != "transformers" else None
    if not _loopback(args.host) and not args.api_key:
        out.error(
            f"warning: listening on {args.host} without --api-key: anyone who can reach "
            "it can use the model" + (" and its tools" if args.tools else "")
        )

    def ready(url: str) -> None:
        what = f"{args.backend} at {args.url or 'its default address'}"
        if args.backend == "transformers":
            what = f"transformers ({args.model})"
        print(f"harmony-agent serve: {url}/v1 in front of {what}", flush=True)
        workers = f"; {args.workers} worker processes" if args.workers > 1 else ""
        print(f"  tools: {', '.join(args.tools) or 'none'}{workers}; Ctrl-C stops", flush=True)

    options = {"host": args.host, "port": args.port, "log_level": args.log_level}
    tools: list[Tool] = []
    try:
        if args.workers > 1:
            keep = {k: v for k, v in vars(args).items() if k not in ("execute",)}
            os.environ[ARGS_ENV] = json.dumps(keep)
            serve(f"{__name__}:app_from_env", workers=args.workers, on_ready=ready, **options)
        else:
            assert backend is not None
            tools = build_tools(args.tools)
            serve(_app(args, backend, tools, owns_tools=False), on_ready=ready, **options)
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised Ctrl-C
        print("harmony-agent serve: stopped", flush=True)
    finally:
        close_tools(tools)
    return 0
