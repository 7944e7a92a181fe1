"""The public API is exactly what ../shared/API.md promises, plus what we add on purpose."""

from __future__ import annotations

import inspect
import subprocess
import sys

import harmony_agent as ha

# Names API.md promises at the top level.
PROMISED = {
    "load_encoding",
    "Encoding",
    "RenderConfig",
    "Role",
    "Channel",
    "ReasoningEffort",
    "Message",
    "SystemContent",
    "DeveloperContent",
    "Conversation",
    "StreamParser",
    "MessageStart",
    "ContentDelta",
    "MessageEnd",
    "ParseIssue",
    "visible_text",
    "events",
    "tool",
    "FunctionTool",
    "PythonTool",
    "Agent",
    "SamplingParams",
    "RunResult",
    "backends",
    "HarmonyAgentError",
    "VocabError",
    "ConversationError",
    "ParseError",
    "ToolError",
    "BackendError",
    "BrowserTool",
    "browser",
    "MCPServer",
}
# Promised by API.md §4 but built by its own issue (MCP).
PENDING: set[str] = set()
# What we add on purpose.
ADDED = {
    "Backend",
    "Event",
    "Preamble",
    "Recorder",
    "Recording",
    "RecordingError",
    "RenderError",
    "ResponseFormat",
    "ResumePolicy",
    "RunEnd",
    "StreamInterrupted",
    "ToolCall",
    "ToolCallStart",
    "ToolNamespace",
    "ToolResult",
    "ToolSpec",
    "Tool",
    "VisibleTextFilter",
    "run_many",
    "strip_reasoning",
}


def test_all_is_sorted_and_exact():
    assert ha.__all__ == sorted(ha.__all__)
    assert set(ha.__all__) == (PROMISED - PENDING) | ADDED


def test_every_exported_name_resolves():
    for name in ha.__all__:
        assert getattr(ha, name) is not None, name


def test_encoding_methods_match_openai_harmony_names():
    for method, params in {
        "render_conversation_for_completion": ["conversation", "next_turn_role", "config"],
        "render_conversation_for_training": ["conversation", "config"],
        "render_conversation": ["conversation", "config"],
        "render": ["message"],
        "parse_messages_from_completion_tokens": ["tokens", "role", "strict"],
        "stop_tokens": [],
        "stop_tokens_for_assistant_actions": [],
        "encode": ["text", "allowed_special"],
        "decode": ["tokens"],
    }.items():
        signature = inspect.signature(getattr(ha.Encoding, method))
        assert list(signature.parameters)[1 : 1 + len(params)] == params, method


def test_enum_values():
    assert [r.value for r in ha.Role] == ["system", "developer", "user", "assistant", "tool"]
    assert [c.value for c in ha.Channel] == ["analysis", "commentary", "final"]
    assert [e.value for e in ha.ReasoningEffort] == ["low", "medium", "high"]


def test_errors_form_one_tree():
    for name in ("VocabError", "ConversationError", "ParseError", "ToolError", "BackendError"):
        assert issubclass(getattr(ha, name), ha.HarmonyAgentError)


def test_import_is_light():
    """``import harmony_agent`` does not pull in the agent, backends, httpx or tools."""
    code = (
        "import sys, harmony_agent; "
        "print(sorted(m for m in ('httpx', 'harmony_agent.agent._agent', "
        "'harmony_agent.backends', 'jupyter_client', 'trafilatura') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_tool_constructors_take_the_arguments_api_md_names():
    for cls, names in {
        ha.PythonTool: ["timeout", "sandbox", "workdir"],
        ha.BrowserTool: ["search", "allowed_hosts"],
        ha.MCPServer: ["command", "url", "namespace"],
    }.items():
        params = list(inspect.signature(cls).parameters.values())
        assert [p.name for p in params[: len(names)]] == names, cls
        assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in params[: len(names)]), cls
