"""Between MCP and harmony: names, input schemas, and call results as text for the model."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import pydantic_core

from harmony_agent.format._messages import ToolSpec

__all__ = ["namespace_name", "result_text", "schema_of", "tool_specs"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
#: Namespaces the model knows as built-in tools: an MCP server never takes their name.
_RESERVED = {"functions", "python", "browser", "container", "multi_tool_use"}


def _identifier(text: str, fallback: str) -> str:
    """``text`` as a TypeScript-safe identifier: letters, digits, ``_``; no leading digit."""
    name = _UNSAFE.sub("_", text.strip()).strip("_")
    if not name:
        name = fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    return name


def namespace_name(server_name: str | None) -> str:
    """A harmony namespace name for a server (``"Demo Server"`` -> ``"demo_server"``)."""
    name = _identifier((server_name or "").lower(), "mcp")
    return f"{name}_mcp" if name in _RESERVED else name


def schema_of(input_schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The arguments schema as the renderer takes it; None when there are no arguments."""
    if not input_schema:
        return None
    schema = _strip_titles(dict(input_schema))
    assert isinstance(schema, dict)
    if schema.get("type", "object") == "object" and not schema.get("properties"):
        extra = schema.get("additionalProperties")
        if not extra:
            return None
    return schema


def tool_specs(tools: Iterable[Any]) -> tuple[tuple[ToolSpec, ...], dict[str, str]]:
    """Harmony specs for MCP tools, and harmony name -> MCP name (names made safe, unique)."""
    specs: list[ToolSpec] = []
    routes: dict[str, str] = {}
    for tool in tools:
        original = str(tool.name)
        name = base = _identifier(original, "tool")
        n = 2
        while name in routes:
            name, n = f"{base}_{n}", n + 1
        routes[name] = original
        description = tool.description or getattr(tool, "title", None) or ""
        if name != original:
            description = f"{description}\n(MCP name: {original})".strip()
        specs.append(
            ToolSpec(name=name, description=description, parameters=schema_of(tool.input_schema))
        )
    return tuple(specs), routes


def result_text(result: Any) -> str:
    """What the model reads for a ``CallToolResult``: text, JSON, or notes for binary parts."""
    parts = [_block_text(block) for block in result.content or ()]
    parts = [part for part in parts if part]
    if not parts and result.structured_content is not None:
        parts.append(pydantic_core.to_json(result.structured_content, fallback=str).decode())
    return "\n".join(parts)


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", None)
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        data = str(block.data).strip()
        size = len(data) * 3 // 4 - data[-2:].count("=")  # base64
        return f"[{kind}: {block.mime_type}, {size} bytes, not shown]"
    if kind == "resource":
        res = block.resource
        text = getattr(res, "text", None)
        if isinstance(text, str):
            return f"[resource {res.uri}]\n{text}"
        mime = getattr(res, "mime_type", None) or "binary"
        return f"[resource {res.uri}: {mime}, not shown]"
    if kind == "resource_link":
        return f"[resource link: {block.name} {block.uri}]"
    return json.dumps(block.model_dump(mode="json", by_alias=True), ensure_ascii=False)


def _strip_titles(node: Any, in_map: bool = False) -> Any:
    """Drop pydantic's ``title`` keys of schema objects (not properties called so)."""
    if isinstance(node, list):
        return [_strip_titles(item) for item in node]
    if not isinstance(node, dict):
        return node
    if in_map:
        return {k: _strip_titles(v) for k, v in node.items()}
    maps = ("properties", "$defs", "definitions", "patternProperties")
    return {
        k: _strip_titles(v, in_map=k in maps)
        for k, v in node.items()
        if k != "title" or not isinstance(v, str)
    }
