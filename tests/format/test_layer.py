"""The format layer stands alone: render, parse and stream load nothing above it."""

from __future__ import annotations

import subprocess
import sys

import harmony_agent as ha
from harmony_agent import events
from harmony_agent.agent import _events as agent_events
from harmony_agent.format import _events as format_events

SCRIPT = """
import sys
import harmony_agent as ha
from harmony_agent.format import load_encoding, Message, restore_stop_token
enc = load_encoding()
tokens = enc.render(Message.assistant("Hi.", channel="final"))
assert enc.parse_messages_from_completion_tokens(tokens)[0].text == "Hi."
parser = ha.StreamParser(enc)
kinds = [e.type for e in parser.feed(enc.encode("<|channel|>final<|message|>Hi.<|return|>",
                                                allowed_special="all"))]
assert kinds == ["message_start", "content_delta", "message_end"], kinds
ha.MessageStart, ha.ContentDelta, ha.MessageEnd, ha.ParseIssue
restore_stop_token(tokens[:-1], encoding=enc)
above = ("agent", "tools", "backends", "testing", "browser", "cli", "compat")
loaded = sorted(m for m in sys.modules
                if m.split(".")[:2] in [["harmony_agent", layer] for layer in above])
assert not loaded, loaded
assert "httpx" not in sys.modules
"""


def test_render_parse_and_stream_load_nothing_above_the_format_layer() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_events_live_in_their_layers_and_are_gathered_in_one_module() -> None:
    for name in ("MessageStart", "ContentDelta", "MessageEnd", "ParseIssue", "Event"):
        assert getattr(events, name) is getattr(format_events, name)
    for name in ("ToolCallStart", "ToolResult", "RunEnd", "AgentEvent"):
        assert getattr(events, name) is getattr(agent_events, name)
    assert ha.MessageStart is format_events.MessageStart and ha.RunEnd is agent_events.RunEnd
    assert ha.MessageStart.__module__ == "harmony_agent.format._events"


def test_dir_shows_the_public_api_only() -> None:
    shown = set(dir(ha))
    assert set(ha.__all__) <= shown
    assert not {"importlib", "logging", "annotations", "TYPE_CHECKING", "Any"} & shown
    assert all(not name.startswith("_") for name in shown)
