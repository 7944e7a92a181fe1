"""The compat module's surface: exactly openai-harmony 0.0.8's public API plus our two
converters, the same signatures, and no dependency on openai-harmony or on the network."""

from __future__ import annotations

import enum
import inspect
import os
import re
import subprocess
import sys
import types
from typing import Any

import pytest

from harmony_agent.compat import openai_harmony as co

# openai-harmony 0.0.8's public names (its own __all__ misses about half of them).
UPSTREAM_PUBLIC = {
    "Author",
    "ChannelConfig",
    "Content",
    "Conversation",
    "DeveloperContent",
    "HarmonyEncoding",
    "HarmonyEncodingName",
    "HarmonyError",
    "Message",
    "ReasoningEffort",
    "RenderConversationConfig",
    "RenderOptions",
    "Role",
    "StreamState",
    "StreamableParser",
    "SystemContent",
    "TextContent",
    "ToolDescription",
    "ToolNamespaceConfig",
    "load_harmony_encoding",
    "raise_disallowed_special_token",
}
ADDED = {"to_ha", "from_ha"}


def _public(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and getattr(value, "__module__", module.__name__) != "typing"
        and name != "annotations"
    }


def test_all_is_sorted_complete_and_exact():
    assert co.__all__ == sorted(co.__all__)
    assert set(co.__all__) == UPSTREAM_PUBLIC | ADDED
    assert _public(co) == set(co.__all__)


def test_upstream_public_names_are_all_here(oh: types.ModuleType):
    theirs = {
        name
        for name, value in vars(oh).items()
        if not name.startswith("_")
        and (inspect.isclass(value) or inspect.isfunction(value))
        and getattr(value, "__module__", "").startswith("openai_harmony")
    } | {"HarmonyError"}
    assert theirs == UPSTREAM_PUBLIC


def _signature(obj: Any) -> list[tuple[str, Any, Any]]:
    sig = inspect.signature(obj)
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("name", sorted(UPSTREAM_PUBLIC - {"HarmonyError"}))
def test_signatures_match_upstream(oh: types.ModuleType, name: str):
    ours, theirs = getattr(co, name), getattr(oh, name)
    if inspect.isfunction(theirs):
        assert _signature(ours) == _signature(theirs)
        return
    if issubclass(theirs, enum.Enum):
        assert [(m.name, m.value) for m in ours] == [(m.name, m.value) for m in theirs]
        return
    if name not in ("HarmonyEncoding", "StreamableParser"):
        assert list(ours.model_fields) == list(theirs.model_fields)
    for attr, value in vars(theirs).items():
        if attr.startswith("_") and attr not in ("__init__", "__iter__"):
            continue
        assert hasattr(ours, attr), f"{name}.{attr}"
        if inspect.isfunction(value) and attr != "__init__":
            expected = _signature(value)
            got = _signature(getattr(ours, attr))
            if attr == "encode":  # immutable default instead of a shared mutable set()
                expected = [(n, k, frozenset() if d == set() else d) for n, k, d in expected]
            assert got == expected, f"{name}.{attr}"
        elif isinstance(value, (property, classmethod, staticmethod)):
            assert isinstance(inspect.getattr_static(ours, attr), type(value)), f"{name}.{attr}"


def test_streamable_parser_constructor_matches():
    params = _signature(co.StreamableParser.__init__)
    assert [(n, k.name) for n, k, _ in params] == [
        ("self", "POSITIONAL_OR_KEYWORD"),
        ("encoding", "POSITIONAL_OR_KEYWORD"),
        ("role", "POSITIONAL_OR_KEYWORD"),
        ("strict", "KEYWORD_ONLY"),
    ]


def test_harmony_error_is_a_runtime_error_and_ours():
    import harmony_agent as ha

    assert issubclass(co.HarmonyError, RuntimeError)
    assert issubclass(co.HarmonyError, ha.HarmonyAgentError)


def test_works_offline_without_openai_harmony_or_environment(tmp_path):
    """No openai_harmony, no TIKTOKEN_ENCODINGS_BASE, no tiktoken cache, no network."""
    code = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "openai_harmony" or name.startswith("openai_harmony."):
            raise ImportError("blocked")
        return None

sys.meta_path.insert(0, Block())
from harmony_agent.compat.openai_harmony import (
    Conversation, HarmonyEncodingName, Message, Role, load_harmony_encoding,
)
enc = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
convo = Conversation.from_messages([Message.from_role_and_content(Role.USER, "hi")])
tokens = enc.render_conversation_for_completion(convo, Role.ASSISTANT)
parsed = enc.parse_messages_from_completion_tokens(tokens[:-2], None)
assert "openai_harmony" not in sys.modules
print(enc.decode_utf8(tokens), parsed[0].content[0].text)
"""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("TIKTOKEN_ENCODINGS_BASE", "HARMONY_AGENT_VOCAB", "TIKTOKEN_CACHE_DIR")
    }
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path), HARMONY_AGENT_OFFLINE="1")
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "<|start|>user<|message|>hi<|end|><|start|>assistant hi"


def test_loading_by_name():
    assert str(co.HarmonyEncodingName.HARMONY_GPT_OSS) == "HarmonyGptOss"
    enc = co.load_harmony_encoding("HarmonyGptOss")
    assert enc.name == "HarmonyGptOss"
    # every encoding object shares one codec
    assert co.load_harmony_encoding("HarmonyGptOss").ha_encoding is enc.ha_encoding
    with pytest.raises(ValueError, match="Invalid HarmonyEncodingName: gpt2"):
        co.load_harmony_encoding("gpt2")


def test_raise_disallowed_special_token():
    with pytest.raises(co.HarmonyError, match=re.escape("disallowed special token '<|end|>'")):
        co.raise_disallowed_special_token("<|end|>")
