"""The ``mcp`` SDK, imported on first use with a clear error when the extra is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from harmony_agent.errors import ToolError

__all__ = ["require"]


def require(module: str = "mcp") -> ModuleType:
    """Import ``module`` of the MCP SDK, or raise ToolError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ToolError(
            f"MCP support needs the 'mcp' package ({exc}); install it with "
            "pip install 'harmony_agent[mcp]'"
        ) from None
