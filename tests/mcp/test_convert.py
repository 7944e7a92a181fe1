"""MCP <-> harmony conversions: names, schemas, results (SDK types, no server)."""

from __future__ import annotations

import base64

import pytest

from harmony_agent.mcp._convert import namespace_name, result_text, schema_of, tool_specs

types = pytest.importorskip("mcp.types")


def test_namespace_names_are_identifiers_and_never_built_in_ones() -> None:
    assert namespace_name("Demo Server") == "demo_server"
    assert namespace_name("secure-filesystem-server") == "secure_filesystem_server"
    assert namespace_name("9lives") == "mcp_9lives"
    assert namespace_name("") == "mcp"
    assert namespace_name(None) == "mcp"
    assert namespace_name("Python") == "python_mcp"
    assert namespace_name("functions") == "functions_mcp"


def test_tool_names_are_made_safe_unique_and_routed() -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string", "title": "Q"}}}
    tools = [
        types.Tool(name="text.reverse/v1", input_schema=schema, description="Reverse."),
        types.Tool(name="text_reverse_v1", input_schema=schema),
        types.Tool(name="ping", input_schema={"type": "object", "properties": {}}),
    ]
    specs, routes = tool_specs(tools)
    assert [s.name for s in specs] == ["text_reverse_v1", "text_reverse_v1_2", "ping"]
    assert routes == {
        "text_reverse_v1": "text.reverse/v1",
        "text_reverse_v1_2": "text_reverse_v1",
        "ping": "ping",
    }
    assert specs[0].description == "Reverse.\n(MCP name: text.reverse/v1)"
    assert specs[0].parameters == {"type": "object", "properties": {"q": {"type": "string"}}}
    assert specs[2].parameters is None  # no arguments: rendered as () => any
    assert schema_of({"type": "object", "additionalProperties": True}) is not None


def test_results_read_as_text() -> None:
    png = base64.b64encode(b"\x89PNG" + bytes(96)).decode()
    result = types.CallToolResult(
        content=[
            types.TextContent(type="text", text="hello"),
            types.ImageContent(type="image", data=png, mime_type="image/png"),
            types.EmbeddedResource(
                type="resource",
                resource=types.TextResourceContents(uri="file:///a.txt", text="inside"),
            ),
            types.EmbeddedResource(
                type="resource",
                resource=types.BlobResourceContents(
                    uri="file:///b.bin", blob=png, mime_type="application/octet-stream"
                ),
            ),
            types.ResourceLink(type="resource_link", name="c", uri="file:///c"),
        ]
    )
    assert result_text(result).splitlines() == [
        "hello",
        "[image: image/png, 100 bytes, not shown]",
        "[resource file:///a.txt]",
        "inside",
        "[resource file:///b.bin: application/octet-stream, not shown]",
        "[resource link: c file:///c]",
    ]
    structured = types.CallToolResult(content=[], structured_content={"temp": 21, "sky": "sun"})
    assert result_text(structured) == '{"temp":21,"sky":"sun"}'
