"""The format layer: tokens, messages, renderer and parser. Knows nothing of agents."""

from harmony_agent.format._conversation import Conversation
from harmony_agent.format._encoding import Encoding, load_encoding
from harmony_agent.format._messages import (
    Channel,
    DeveloperContent,
    Message,
    ReasoningEffort,
    ResponseFormat,
    Role,
    SystemContent,
    ToolNamespace,
    ToolSpec,
)
from harmony_agent.format._render import RenderConfig
from harmony_agent.format._stops import restore_stop_token, stop_token_for

__all__ = [
    "Channel",
    "Conversation",
    "DeveloperContent",
    "Encoding",
    "Message",
    "ReasoningEffort",
    "RenderConfig",
    "ResponseFormat",
    "Role",
    "SystemContent",
    "ToolNamespace",
    "ToolSpec",
    "load_encoding",
    "restore_stop_token",
    "stop_token_for",
]
