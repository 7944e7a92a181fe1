"""The ``harmony-agent`` command line.

    harmony-agent demo                         an agent end to end, offline
    harmony-agent chat --backend vllm --url http://127.0.0.1:8000
    harmony-agent run "question" [--json]      one answer, for scripts
    harmony-agent render conversation.json     harmony text or --tokens
    harmony-agent parse output.txt             messages, issues and stops

One module per subcommand (``_chat``, ``_run``, ``_render``, ``_parse``, ``_demo``),
registered in :data:`harmony_agent.cli._main.SUBCOMMANDS`; shared pieces: ``_console``
(colours, spinner, plain output when piped), ``_errors`` (exit codes), ``_io``
(input files and the conversation JSON format), ``_setup`` (backend, tools and agent
from the options) and ``_session`` (a conversation with a server, shown as it streams).
"""

from harmony_agent.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
