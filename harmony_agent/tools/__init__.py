"""Tools the agent can call: the tool interface, function tools and the python tool.

Write a function with type hints and a docstring and decorate it with :func:`tool`
(or pass it as it is); implement :class:`Tool` for anything else (a namespace for the
prompt and an async ``call``).
"""

from harmony_agent.tools._base import Placement, Tool, ToolCall, error_text
from harmony_agent.tools._client import ClientTool
from harmony_agent.tools._docstring import Docstring, parse_docstring
from harmony_agent.tools._function import FunctionTool, as_tool, result_text, tool
from harmony_agent.tools.python import PythonTool, SandboxLimits

__all__ = [
    "ClientTool",
    "Docstring",
    "FunctionTool",
    "Placement",
    "PythonTool",
    "SandboxLimits",
    "Tool",
    "ToolCall",
    "as_tool",
    "error_text",
    "parse_docstring",
    "result_text",
    "tool",
]
