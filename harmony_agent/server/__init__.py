"""The OpenAI-compatible server (placeholder until the core lands)."""

from harmony_agent.server._responses import ResponsesService
from harmony_agent.server._responses_http import responses_router

__all__ = ["ResponsesService", "responses_router"]
