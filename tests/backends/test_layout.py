"""The backends split by concept: in-process backends never load the HTTP stack."""

from __future__ import annotations

import subprocess
import sys

import harmony_agent.backends._http as http
from harmony_agent.backends import HTTPBackend

SCRIPT = """
import sys
from harmony_agent.backends import Scripted, Transformers, VLLMEngine
from harmony_agent.backends._tokens import TextTokenizer, TokenGate, stop_set
import harmony_agent as ha
agent = ha.Agent(Scripted(["<|channel|>final<|message|>Hi.<|return|>"]))
assert agent.run("hi").final_text == "Hi."
loaded = sorted(m for m in sys.modules if m == "httpx" or m.startswith("httpx."))
assert not loaded, loaded
"""


def test_in_process_backends_do_not_load_httpx() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_the_http_module_still_offers_every_helper_it_did() -> None:
    for name in ("DONE", "TRAILING_ERRORS", "TextTokenizer", "TokenGate", "Unfinished",
                 "ndjson_events", "sse_events", "stop_set", "error_message",
                 "special_token_id", "AsyncClosing", "DEFAULT_TIMEOUT"):  # fmt: skip
        assert name in http.__all__ and hasattr(http, name)


def test_hooks_are_abstract() -> None:
    assert HTTPBackend.__abstractmethods__ == frozenset({"request_body", "_attempt"})
