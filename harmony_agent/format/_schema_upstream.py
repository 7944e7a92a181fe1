"""flavor="upstream": openai-harmony 0.0.8's JSON Schema -> TypeScript, quirks included."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harmony_agent.format._schema_json import (
    _display,
    _get,
    _get_list,
    _get_str,
    _has,
    _is_enum,
    _required,
)

__all__: list[str] = []  # helpers of the schema renderers, imported by name


def _upstream_default(schema: Any, default: Any, *, quote_enum_strings: bool) -> str:
    if isinstance(default, str):
        if not _is_enum(schema):
            return f'default: "{default}"'
        if not quote_enum_strings:
            return f"default: {default}"
    return f"default: {_display(default)}"


def _upstream_with_nullable(variant: Any, text: str) -> str:
    if _get(variant, "nullable") is True and "null" not in text:
        return f"{text} | null"
    return text


def _upstream(schema: Any, indent: str) -> str:
    one_of = _get_list(schema, "oneOf")
    if one_of is not None:
        out = []
        for variant in one_of:
            text = _upstream_with_nullable(variant, _upstream(variant, indent + "   "))
            out.append(f"\n{indent} | {text}")
            trailing = []
            description = _get_str(variant, "description")
            if description is not None:
                trailing.append(description)
            if _has(variant, "default"):
                trailing.append(
                    _upstream_default(variant, variant["default"], quote_enum_strings=True)
                )
            if trailing:
                out.append(" // " + " ".join(trailing))
        return "".join(out)

    types = _get_list(schema, "type")
    if types is not None:
        names = ["number" if t == "integer" else t for t in types if isinstance(t, str)]
        if names:
            return " | ".join(names)

    kind = _get_str(schema, "type")
    if kind is None:
        return "any"
    if kind == "object":
        return _upstream_object(schema, indent)
    if kind == "string":
        values = [f'"{v}"' for v in _get_list(schema, "enum") or [] if isinstance(v, str)]
        return " | ".join(values) if values else "string"
    if kind in ("number", "integer"):
        return "number"
    if kind == "boolean":
        return "boolean"
    if kind == "array":
        if not _has(schema, "items"):
            return "Array<any>"
        return _upstream(schema["items"], indent) + "[]"
    return "any"


def _upstream_object(schema: Mapping[str, Any], indent: str) -> str:
    out = []
    description = _get_str(schema, "description")
    if description is not None:
        out.append(f"{indent}// {description}\n")
    out.append("{\n")
    properties = schema.get("properties")
    if isinstance(properties, Mapping):
        required = _required(schema)
        for key, value in properties.items():
            mark = "" if key in required else "?"
            title = _get_str(value, "title")
            if title is not None:
                out.append(f"{indent}// {title}\n{indent}//\n")
            has_one_of = _has(value, "oneOf")
            property_description = _get_str(value, "description")
            if not has_one_of and property_description is not None:
                out.append(f"{indent}// {property_description}\n")
            examples = _get_list(value, "examples")
            if examples:
                out.append(f"{indent}// Examples:\n")
                out.extend(f'{indent}// - "{ex}"\n' for ex in examples if isinstance(ex, str))
            variants = _get_list(value, "oneOf")
            if variants is not None:
                out.append(_upstream_one_of_property(key, mark, value, variants, indent))
                continue
            text = _upstream_with_nullable(value, _upstream(value, indent + "    "))
            out.append(f"{indent}{key}{mark}: {text},")
            if not has_one_of and _has(value, "default"):
                default = _upstream_default(value, value["default"], quote_enum_strings=False)
                out.append(f" // {default}")
            out.append("\n")
    out.append(f"{indent}}}")
    return "".join(out)


def _upstream_one_of_property(
    key: str, mark: str, value: Mapping[str, Any], variants: list[Any], indent: str
) -> str:
    out = []
    description = _get_str(value, "description")
    first_description = _get_str(variants[0], "description") if variants else None
    described_above = description is not None and description != first_description
    if described_above:
        out.append(f"{indent}// {description}\n")
    if "default" in value:
        default = _upstream_default(value, value["default"], quote_enum_strings=False)
        out.append(f"{indent}// {default}\n")
    out.append(f"{indent}{key}{mark}:\n")
    for i, variant in enumerate(variants):
        text = _upstream_with_nullable(variant, _upstream(variant, indent + "   "))
        out.append(f"{indent} | {text}")
        trailing = []
        variant_description = _get_str(variant, "description")
        if (
            not (i == 0 and described_above)
            and variant_description is not None
            and variant_description != description
        ):
            trailing.append(variant_description)
        if _has(variant, "default"):
            trailing.append(
                _upstream_default(variant, variant["default"], quote_enum_strings=False)
            )
        if trailing:
            out.append(" // " + " ".join(trailing))
        out.append("\n")
    out.append(f"{indent},\n")
    return "".join(out)
