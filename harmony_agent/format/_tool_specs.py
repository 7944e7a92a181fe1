"""Tool declarations: :class:`ToolSpec`, :class:`ToolNamespace`, and the built-in tools.

The browser and python namespaces are spelled exactly as gpt-oss was trained on them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = [
    "Namespaces",
    "ToolNamespace",
    "ToolSpec",
    "unique_namespaces",
    "with_namespace",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ToolSpec(BaseModel):
    """One tool in a namespace: name, description and a JSON Schema for its arguments."""

    model_config = _FROZEN

    name: str
    description: str = ""
    parameters: dict[str, Any] | None = None

    @classmethod
    def coerce(cls, value: ToolSpec | Mapping[str, Any]) -> ToolSpec:
        """Accept a ToolSpec, ``{name, description, parameters}`` or OpenAI's function format."""
        if isinstance(value, ToolSpec):
            return value
        if isinstance(value, Mapping):
            data = dict(value)
            if data.get("type") == "function" and isinstance(data.get("function"), Mapping):
                data = dict(data["function"])
            data.pop("strict", None)
            data.pop("type", None)
            return cls.model_validate(data)
        spec = getattr(value, "spec", None)
        if isinstance(spec, ToolSpec):
            return spec
        raise TypeError(f"expected a ToolSpec or a mapping describing a tool, got {value!r}")


class ToolNamespace(BaseModel):
    """A namespace of tools (``functions``, ``browser``, ``python``) as the prompt shows it."""

    model_config = _FROZEN

    name: str
    description: str | None = None
    tools: tuple[ToolSpec, ...] = ()

    @classmethod
    def browser(cls) -> ToolNamespace:
        """The built-in browser tool exactly as gpt-oss was trained on it."""
        return _BROWSER

    @classmethod
    def python(cls, timeout: float = 120.0) -> ToolNamespace:
        """The built-in python tool; the description states ``timeout`` truthfully."""
        return cls(name="python", description=_PYTHON_DESCRIPTION.format(timeout=float(timeout)))


def _coerce_namespaces(value: object) -> object:
    if isinstance(value, Mapping):  # openai-harmony keeps {name: namespace}
        return tuple(value.values())
    return value


Namespaces = Annotated[tuple[ToolNamespace, ...], BeforeValidator(_coerce_namespaces)]


def unique_namespaces(value: tuple[ToolNamespace, ...]) -> tuple[ToolNamespace, ...]:
    names = [ns.name for ns in value]
    if len(set(names)) != len(names):
        raise ValueError(f"tool namespaces must have unique names, got {names}")
    return value


def with_namespace(
    namespaces: tuple[ToolNamespace, ...], ns: ToolNamespace
) -> tuple[ToolNamespace, ...]:
    return (*(n for n in namespaces if n.name != ns.name), ns)


_BROWSER_DESCRIPTION = (
    "Tool for browsing.\n"
    "The `cursor` appears in brackets before each browsing display: `[{cursor}]`.\n"
    "Cite information from the tool using the following format:\n"
    "`【{cursor}†L{line_start}(-L{line_end})?】`, for example: `【6†L9-L11】` or `【8†L3】`.\n"
    "Do not quote more than 10 words directly from the tool output.\n"
    "sources=web (default: web)"
)

_BROWSER = ToolNamespace(
    name="browser",
    description=_BROWSER_DESCRIPTION,
    tools=(
        ToolSpec(
            name="search",
            description="Searches for information related to `query` and displays `topn` results.",
            parameters={
                "type": "object",
                "properties": {
                    "query": {"type": "string"},
                    "topn": {"type": "number", "default": 10},
                    "source": {"type": "string"},
                },
                "required": ["query"],
            },
        ),
        ToolSpec(
            name="open",
            description=(
                "Opens the link `id` from the page indicated by `cursor` starting at line number"
                " `loc`, showing `num_lines` lines.\n"
                "Valid link ids are displayed with the formatting: `【{id}†.*】`.\n"
                "If `cursor` is not provided, the most recent page is implied.\n"
                "If `id` is a string, it is treated as a fully qualified URL associated with"
                " `source`.\n"
                "If `loc` is not provided, the viewport will be positioned at the beginning of"
                " the document or centered on the most relevant passage, if available.\n"
                "Use this function without `id` to scroll to a new location of an opened page."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "id": {"type": ["number", "string"], "default": -1},
                    "cursor": {"type": "number", "default": -1},
                    "loc": {"type": "number", "default": -1},
                    "num_lines": {"type": "number", "default": -1},
                    "view_source": {"type": "boolean", "default": False},
                    "source": {"type": "string"},
                },
            },
        ),
        ToolSpec(
            name="find",
            description=(
                "Finds exact matches of `pattern` in the current page, or the page given by"
                " `cursor`."
            ),
            parameters={
                "type": "object",
                "properties": {
                    "pattern": {"type": "string"},
                    "cursor": {"type": "number", "default": -1},
                },
                "required": ["pattern"],
            },
        ),
    ),
)

_PYTHON_DESCRIPTION = (
    "Use this tool to execute Python code in your chain of thought. The code will not be shown"
    " to the user. This tool should be used for internal reasoning, but not for code that is"
    " intended to be visible to the user (e.g. when creating plots, tables, or files).\n\n"
    "When you send a message containing Python code to python, it will be executed in a"
    " stateful Jupyter notebook environment. python will respond with the output of the"
    " execution or time out after {timeout} seconds. The drive at '/mnt/data' can be used to"
    " save and persist user files. Internet access for this session is UNKNOWN. Depends on the"
    " cluster."
)
