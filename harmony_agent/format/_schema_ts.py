"""JSON Schema → the TypeScript-like tool declarations of a harmony ``# Tools`` section.

Two flavors:

* ``"upstream"`` reproduces openai-harmony 0.0.8 byte for byte, quirks included
  (``any`` for ``$ref``/``allOf``/Optional, integer enums as ``number``, uncommented
  continuation lines of multi-line descriptions, nested descriptions printed twice).
* ``"improved"`` (the default) prints the same text wherever upstream renders a schema
  faithfully, and keeps the information upstream drops: ``$ref`` targets are inlined,
  unions, ``const``, maps, tuples and literal enums are spelled out, every comment line
  starts with ``//``, and BFCL's non-standard type names are understood.
  ``docs/schema_ts.md`` lists each deviation with an example.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from harmony_agent.format._schema_improved import _Improved
from harmony_agent.format._schema_json import _comment_lines, _rust_lines
from harmony_agent.format._schema_upstream import _upstream

Flavor = Literal["improved", "upstream"]

__all__ = ["Flavor", "json_schema_to_typescript", "render_tool_namespace"]


def json_schema_to_typescript(schema: Mapping[str, Any], *, flavor: Flavor = "improved") -> str:
    """Render a tool's parameter schema as the text that follows ``(_: `` in its declaration.

    Args:
        schema: a JSON Schema object, as a tool would send it to a chat API.
        flavor: ``"upstream"`` for openai-harmony 0.0.8's exact output, ``"improved"``
            for a rendering that loses no property names or literal values.

    Returns:
        The type text; the declaration is ``type NAME = (_: TEXT) => any;``.
    """
    if flavor == "upstream":
        return _upstream(schema, "")
    if flavor == "improved":
        return _Improved(schema).render_root()
    raise ValueError(f"flavor must be 'improved' or 'upstream', got {flavor!r}")


def render_tool_namespace(
    name: str,
    description: str | None,
    tools: Sequence[tuple[str, str, Mapping[str, Any] | None]],
    *,
    flavor: Flavor = "improved",
) -> str:
    """Render one ``## name`` section of a ``# Tools`` block, as openai-harmony lays it out.

    Args:
        name: the namespace, e.g. ``"functions"`` or ``"browser"``.
        description: the namespace description; ``// `` comments when there are tools,
            plain lines otherwise.
        tools: ``(tool name, tool description, parameter schema or None)`` triples.
        flavor: how parameter schemas are rendered (see `json_schema_to_typescript`).

    Returns:
        The section, without a trailing newline. Callers join sections with a blank line
        after ``"# Tools\\n\\n"``.
    """
    lines = _rust_lines if flavor == "upstream" else _comment_lines
    parts = [f"## {name}\n"]
    if description is not None:
        for line in lines(description):
            parts.append(f"// {line}" if tools else line)
    if tools:
        parts.append(f"namespace {name} {{\n")
        for tool_name, tool_description, parameters in tools:
            parts.extend(f"// {line}" for line in lines(tool_description))
            if parameters is None:
                parts.append(f"type {tool_name} = () => any;\n")
            else:
                ts = json_schema_to_typescript(parameters, flavor=flavor)
                parts.append(f"type {tool_name} = (_: {ts}) => any;\n")
        parts.append(f"}} // namespace {name}")
    return "\n".join(parts)
