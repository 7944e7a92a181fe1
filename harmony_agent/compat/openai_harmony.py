"""Drop-in replacement for openai-harmony 0.0.8's Python API, on harmony_agent's codec.

Change one import and keep the rest of the code::

    from harmony_agent.compat import openai_harmony            # was: import openai_harmony
    from harmony_agent.compat.openai_harmony import Message, Role, load_harmony_encoding

Same classes, constructors, builders, method signatures, return types and errors as
openai-harmony (its test suite passes unchanged against this module), with these
differences: it loads offline with no environment variable; it is several times faster;
every codec error is a ``HarmonyError``; and ``to_ha``/``from_ha`` convert to and from
harmony_agent's own models. ``docs/switching_from_openai_harmony.md`` lists every known
difference.
"""

from __future__ import annotations

from harmony_agent.compat._oh_codec import HarmonyError
from harmony_agent.compat._oh_convert import from_ha, to_ha
from harmony_agent.compat._oh_encoding import (
    HarmonyEncoding,
    HarmonyEncodingName,
    StreamableParser,
    load_harmony_encoding,
    raise_disallowed_special_token,
)
from harmony_agent.compat._oh_models import (
    Author,
    ChannelConfig,
    Content,
    Conversation,
    DeveloperContent,
    Message,
    ReasoningEffort,
    RenderConversationConfig,
    RenderOptions,
    Role,
    SystemContent,
    TextContent,
    ToolDescription,
    ToolNamespaceConfig,
)
from harmony_agent.compat._oh_parser import StreamState

__all__ = [
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
    "from_ha",
    "load_harmony_encoding",
    "raise_disallowed_special_token",
    "to_ha",
]
