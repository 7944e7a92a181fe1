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

import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

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


# ---------------------------------------------------------------------------
# JSON helpers shared by both flavors


def _rust_lines(text: str) -> list[str]:
    """Rust's ``str::lines``: split on ``\\n``, drop a ``\\r`` before it, no final empty line."""
    pieces = text.split("\n")
    last = pieces.pop()
    out = [p[:-1] if p.endswith("\r") else p for p in pieces]
    if last:
        out.append(last)
    return out


_LINE_BREAK = re.compile("\r\n|[\n\r\u2028\u2029]")


def _comment_lines(text: str) -> list[str]:
    """Split at every JavaScript line terminator, so each piece fits in one ``//`` comment."""
    pieces = _LINE_BREAK.split(text)
    if len(pieces) > 1 and pieces[-1] == "":
        pieces.pop()
    return [] if pieces == [""] else pieces


def _format_f64(x: float) -> str:
    """Format a float the way serde_json prints an ``f64`` (shortest digits, ryu layout)."""
    if not math.isfinite(x):
        return "null"
    sign = "-" if math.copysign(1.0, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    mantissa, _, exp = repr(abs(x)).partition("e")
    whole, _, frac = mantissa.partition(".")
    raw = (whole + frac).lstrip("0")
    digits = raw.rstrip("0")
    k = (int(exp) if exp else 0) - len(frac) + len(raw) - len(digits)
    n = len(digits)
    kk = n + k  # 10**(kk-1) <= |x| < 10**kk
    if k >= 0 and kk <= 16:
        body = digits + "0" * k + ".0"
    elif 0 < kk <= 16:
        body = digits[:kk] + "." + digits[kk:]
    elif -5 < kk <= 0:
        body = "0." + "0" * -kk + digits
    elif n == 1:
        body = f"{digits}e{kk - 1}"
    else:
        body = f"{digits[0]}.{digits[1:]}e{kk - 1}"
    return sign + body


_U64_MAX = 2**64 - 1


def _serde_f64(text: str) -> float:
    """The ``f64`` that serde_json 1.0.140 (no ``float_roundtrip``) reads from a JSON number.

    Its reader keeps at most a u64 of significant digits and scales by one power of ten, so
    17-digit decimals and big exponents can land one ulp away from Python's value.
    """
    positive = not text.startswith("-")
    digits = text.lstrip("-")
    significand = exponent = 0
    i, n = 0, len(digits)
    while i < n and digits[i].isdigit():
        digit = int(digits[i])
        i += 1
        if significand * 10 + digit > _U64_MAX:
            exponent += 1  # serde drops integer digits beyond a u64, keeping their scale
            while i < n and digits[i].isdigit():
                exponent += 1
                i += 1
            break
        significand = significand * 10 + digit
    if i < n and digits[i] == ".":
        i += 1
        while i < n and digits[i].isdigit():
            digit = int(digits[i])
            i += 1
            if significand * 10 + digit > _U64_MAX:
                while i < n and digits[i].isdigit():
                    i += 1
                break
            significand = significand * 10 + digit
            exponent -= 1
    if i < n and digits[i] in "eE":
        exponent += int(digits[i + 1 :])
    value = float(significand)
    while True:
        if abs(exponent) <= 308:
            scale = float(f"1e{abs(exponent)}")
            value = value * scale if exponent >= 0 else value / scale
            break
        if value == 0.0 or exponent > 0:
            break
        value /= 1e308
        exponent += 308
    return value if positive else -value


def _json_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _display(value: Any, *, serde: bool = True) -> str:
    """Compact JSON as serde_json's ``Display`` writes it (key order kept, non-ASCII raw).

    With ``serde`` true, numbers go through the same lossy reading as in openai-harmony
    (Python writes the JSON, serde_json reads it back); otherwise floats keep their value.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if -(2**63) <= value <= _U64_MAX:
            return str(value)
        if serde:
            return _format_f64(_serde_f64(str(value)))
        return _format_f64(float(value)) if abs(value) < 2**1024 else "null"
    if isinstance(value, float):
        if serde and math.isfinite(value):
            return _format_f64(_serde_f64(repr(value)))
        return _format_f64(value)
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, Mapping):
        inner = ",".join(
            f"{_json_string(str(k))}:{_display(v, serde=serde)}" for k, v in value.items()
        )
        return "{" + inner + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_display(v, serde=serde) for v in value) + "]"
    return "null"


def _get(value: Any, key: str) -> Any:
    """``serde_json::Value::get``: None unless ``value`` is an object holding ``key``."""
    return value.get(key) if isinstance(value, Mapping) else None


def _has(value: Any, key: str) -> bool:
    """``value.get(key).is_some()`` in serde terms: the key is there, even if JSON null."""
    return isinstance(value, Mapping) and key in value


def _get_str(value: Any, key: str) -> str | None:
    found = _get(value, key)
    return found if isinstance(found, str) else None


def _get_list(value: Any, key: str) -> list[Any] | None:
    found = _get(value, key)
    return list(found) if isinstance(found, (list, tuple)) else None


def _is_enum(schema: Any) -> bool:
    return bool(_get_list(schema, "enum"))


def _required(schema: Any) -> set[str]:
    return {r for r in _get_list(schema, "required") or [] if isinstance(r, str)}


# ---------------------------------------------------------------------------
# flavor="upstream": a faithful port of openai-harmony 0.0.8's behaviour


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


# ---------------------------------------------------------------------------
# flavor="improved"

#: BFCL and other non-standard type names, mapped to JSON Schema's
_TYPE_ALIASES = {
    "dict": "object",
    "HashMap": "object",
    "Map": "object",
    "float": "number",
    "double": "number",
    "long": "integer",
    "int": "integer",
    "Integer": "integer",
    "tuple": "array",
    "list": "array",
    "Array": "array",
    "ArrayList": "array",
    "String": "string",
    "str": "string",
    "char": "string",
    "bool": "boolean",
    "Boolean": "boolean",
    "Any": "any",
}
_PRIMITIVES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
    "null": "null",
    "any": "any",
}
#: keywords that say what a value is (a union member without any is only a constraint)
_TYPE_KEYWORDS = frozenset(
    {"type", "properties", "items", "prefixItems", "enum", "const", "$ref", "anyOf", "oneOf",
     "allOf", "additionalProperties"}
)  # fmt: skip
_MAX_DEPTH = 48
_MAX_EXPANSIONS = 2000


def _safe_comment(text: str) -> str:
    """One comment line: line terminators escaped (JSON style)."""
    if _LINE_BREAK.search(text) is None:
        return text
    return _json_string(text)[1:-1].replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _literal(value: Any) -> str:
    """A TypeScript literal type for a JSON value."""
    return _display(value, serde=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def _default_comment(schema: Any, default: Any) -> str:
    if isinstance(default, str):
        text = _safe_comment(default)
        return f"default: {text}" if _is_enum(schema) else f'default: "{text}"'
    return f"default: {_literal(default)}"


def _is_identifier(name: str) -> bool:
    return name.replace("$", "_").isidentifier()


def _key(name: str) -> str:
    return name if _is_identifier(name) else _literal(name)


def _is_null(schema: Any) -> bool:
    if not isinstance(schema, Mapping):
        return False
    return (
        schema.get("type") == "null"
        or ("const" in schema and schema["const"] is None)
        or schema.get("enum") == [None]
    )


@dataclass
class _Flat:
    """A schema with its ``$ref`` chain and ``allOf`` members merged in."""

    schema: Any
    pushed: int = 0
    extra: list[str] = field(default_factory=list)  # descriptions shadowed by the merge
    cycle: str | None = None  # set when a $ref points back into its own expansion


@dataclass
class _Union:
    keyword: str
    members: list[Any]


class _Improved:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.stack: list[str] = []
        self.expansions = 0  # $ref expansions so far, bounded against exponential DAGs

    # -- entry point ---------------------------------------------------------

    def render_root(self) -> str:
        self.stack.append("#")
        flat = self.flatten(self.root)
        try:
            if flat.cycle is not None:
                return flat.cycle
            schema = flat.schema
            description = _get_str(schema, "description")
            notes = list(flat.extra)
            text, _ = self.expr_flat(schema, "", notes, skip=description, root=True)
            head = [] if description is None else _comment_lines(description) or [""]
            lines = head + [n for note in notes for n in _comment_lines(note)]
            return "".join(f"// {line}\n" for line in lines) + text
        finally:
            self.pop(flat)

    # -- $ref and allOf --------------------------------------------------------

    def lookup(self, ref: str) -> Any:
        if not ref.startswith("#"):
            return None
        node: Any = self.root
        pointer = unquote(ref[1:])
        if not pointer:
            return node
        if not pointer.startswith("/"):
            return None
        for raw in pointer[1:].split("/"):
            part = raw.replace("~1", "/").replace("~0", "~")
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, (list, tuple)) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                return None
        return node

    def cycle_name(self, ref: str) -> str:
        name = ref.rsplit("/", 1)[-1] if ref != "#" else _get_str(self.root, "title") or ""
        return name if _is_identifier(name) else "any"

    def flatten(self, schema: Any) -> _Flat:
        flat = _Flat(schema)
        seen = 0
        while isinstance(flat.schema, Mapping) and isinstance(flat.schema.get("$ref"), str):
            ref: str = flat.schema["$ref"]
            if ref in self.stack or seen > _MAX_DEPTH or self.expansions > _MAX_EXPANSIONS:
                flat.cycle = self.cycle_name(ref)
                return flat
            seen += 1
            self.expansions += 1
            self.stack.append(ref)
            flat.pushed += 1
            target = self.lookup(ref)
            merged = dict(target) if isinstance(target, Mapping) else {}
            if target is False:
                merged = {"not": {}}
            for key, value in flat.schema.items():
                if key == "$ref":
                    continue
                shadowed = merged.get(key)
                if key == "description" and isinstance(shadowed, str) and shadowed != value:
                    flat.extra.append(shadowed)
                merged[key] = value
            flat.schema = merged
        members = _get_list(flat.schema, "allOf")
        if members is not None:
            merged = {k: v for k, v in flat.schema.items() if k != "allOf"}
            for member in members:
                sub = self.flatten(member)
                flat.pushed += sub.pushed
                if sub.cycle is not None or not isinstance(sub.schema, Mapping):
                    continue
                flat.extra.extend(sub.extra)
                self.merge_into(merged, sub.schema, flat.extra)
            flat.schema = merged
        return flat

    @staticmethod
    def merge_into(merged: dict[str, Any], other: Mapping[str, Any], extra: list[str]) -> None:
        for key, value in other.items():
            if key == "properties" and isinstance(value, Mapping):
                own = merged.get("properties")
                combined = dict(own) if isinstance(own, Mapping) else {}
                for name, sub in value.items():
                    combined.setdefault(name, sub)
                merged["properties"] = combined
            elif key == "required" and isinstance(value, (list, tuple)):
                own_required = _get_list(merged, "required") or []
                merged["required"] = own_required + [r for r in value if r not in own_required]
            elif key == "description" and isinstance(merged.get("description"), str):
                if value != merged["description"] and isinstance(value, str):
                    extra.append(value)
            else:
                merged.setdefault(key, value)

    def pop(self, flat: _Flat) -> None:
        if flat.pushed:
            del self.stack[-flat.pushed :]

    # -- types -----------------------------------------------------------------

    def expr(
        self,
        schema: Any,
        indent: str,
        notes: list[str],
        *,
        skip: str | None = None,
        inside: bool = False,
    ) -> tuple[str, bool]:
        """Render a type; returns (text, whether it needs parentheses before ``[]``).

        Descriptions of the type go to ``notes`` (comments above the property), except
        that with ``inside`` an object literal carries its own as its first lines: union
        members and tuple elements, where a comment above the key could not say which.
        """
        if len(self.stack) > _MAX_DEPTH or len(indent) > 4 * _MAX_DEPTH:
            return "any", False
        flat = self.flatten(schema)
        try:
            if flat.cycle is not None:
                return flat.cycle, False
            notes.extend(flat.extra)
            return self.expr_flat(flat.schema, indent, notes, skip=skip, inside=inside)
        finally:
            self.pop(flat)

    def union_of(self, schema: Mapping[str, Any]) -> _Union | None:
        for keyword in ("oneOf", "anyOf"):
            members = _get_list(schema, keyword)
            if members and any(
                not isinstance(m, Mapping) or _TYPE_KEYWORDS.intersection(m) for m in members
            ):
                if isinstance(schema.get("properties"), Mapping):
                    # shared properties go into every member
                    core = {
                        k: v
                        for k, v in schema.items()
                        if k in ("type", "properties", "required", "additionalProperties")
                    }
                    members = [{"allOf": [core, m]} for m in members]
                return _Union(keyword, members)
        return None

    def expr_flat(
        self,
        schema: Any,
        indent: str,
        notes: list[str],
        *,
        skip: str | None = None,
        root: bool = False,
        inside: bool = False,
    ) -> tuple[str, bool]:
        if schema is True or schema is None:
            return "any", False
        if schema is False:
            return "never", False
        if not isinstance(schema, Mapping):
            return "any", False
        description = _get_str(schema, "description")
        own_description = description if description != skip else None
        parts: list[str] = []
        compound = False
        union = self.union_of(schema)
        types = _get_list(schema, "type")
        kind = schema.get("type")
        kind = _TYPE_ALIASES.get(kind, kind) if isinstance(kind, str) else None
        if kind is None and types is None:
            if any(k in schema for k in ("properties", "additionalProperties")):
                kind = "object"
            elif any(k in schema for k in ("items", "prefixItems")):
                kind = "array"

        if "const" in schema:
            parts.append(_literal(schema["const"]))
        elif _is_enum(schema):
            for value in schema["enum"]:
                if _literal(value) not in parts:
                    parts.append(_literal(value))
        elif union is not None:
            for member in union.members:
                if _is_null(member):
                    text, inner = "null", False
                else:
                    text, inner = self.expr(member, indent, notes, inside=True)
                if text not in parts:
                    parts.append(text)
                    compound = compound or inner
        elif types is not None:
            names = [t for t in types if isinstance(t, str)]
            single = {k: v for k, v in schema.items() if k not in ("description", "nullable")}
            for name in names:
                text, inner = self.expr_flat({**single, "type": name}, indent, notes)
                if text not in parts:
                    parts.append(text)
                    compound = compound or inner
            if not parts:
                parts.append("any")
        elif kind == "object":
            inner_description = own_description if inside or root else None
            text = self.object(schema, indent, notes, inner_description, root=root)
            if text.startswith("{\n") and inner_description is not None:
                own_description = None  # printed inside the braces
            parts.append(text)
        elif kind == "array":
            parts.append(self.array(schema, indent, notes))
        else:
            parts.append(_PRIMITIVES.get(kind or "any", "any"))

        if schema.get("nullable") is True and "null" not in parts:
            parts.append("null")
        if own_description is not None:
            notes.append(own_description)
        return " | ".join(parts), compound or len(parts) > 1

    def object(
        self,
        schema: Mapping[str, Any],
        indent: str,
        notes: list[str],
        description: str | None,
        *,
        root: bool,
    ) -> str:
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        value_schema = extra if extra is True or isinstance(extra, Mapping) else None
        if not isinstance(properties, Mapping):
            if value_schema is not None:
                value, _ = self.expr(value_schema, indent + "    ", notes)
                return f"{{ [key: string]: {value} }}"
            if extra is not False and not root:
                return "{ [key: string]: any }"
            properties = {}
        out = ["{\n"]
        if description is not None:
            out.extend(f"{indent}// {line}\n" for line in _comment_lines(description) or [""])
        required = _required(schema)
        for key, value in properties.items():
            out.append(self.property(str(key), value, key in required, indent))
        if value_schema is not None:
            value, _ = self.expr(value_schema, indent + "    ", notes)
            out.append(f"{indent}[key: string]: {value},\n")
        out.append(f"{indent}}}")
        return "".join(out)

    def array(self, schema: Mapping[str, Any], indent: str, notes: list[str]) -> str:
        items = schema.get("items")
        prefix = _get_list(schema, "prefixItems")
        rest: Any = items
        if prefix is None and isinstance(items, (list, tuple)):
            prefix, rest = list(items), schema.get("additionalItems")
        if prefix is not None:
            elements = [self.expr(p, indent, notes, inside=True)[0] for p in prefix]
            if rest is True or isinstance(rest, Mapping):
                text, inner = self.expr(rest, indent, notes)
                elements.append(f"...({text})[]" if inner else f"...{text}[]")
            return "[" + ", ".join(elements) + "]"
        if items is None:
            return "Array<any>"
        text, inner = self.expr(items, indent, notes)
        return f"({text})[]" if inner else f"{text}[]"

    # -- properties --------------------------------------------------------------

    def property(self, key: str, value: Any, required: bool, indent: str) -> str:
        flat = self.flatten(value)
        try:
            schema = flat.schema if isinstance(flat.schema, Mapping) else {}
            description = _get_str(schema, "description")
            notes = list(flat.extra)
            union = self.union_of(schema) if flat.cycle is None else None
            variants: list[str] | None = None
            text = flat.cycle or ""
            if union is not None and self.wants_layout(schema, union, indent):
                variants = self.variant_lines(schema, union, description, indent)
            elif flat.cycle is None:
                text, _ = self.expr_flat(schema, indent + "    ", notes, skip=description)
        finally:
            self.pop(flat)

        out: list[str] = []
        title = _get_str(value, "title")
        if title is not None:
            out.extend(f"{indent}// {line}\n" for line in _comment_lines(title) or [""])
            out.append(f"{indent}//\n")
        described = []
        if description is not None:
            described = [f"{indent}// {line}\n" for line in _comment_lines(description) or [""]]
        described.extend(f"{indent}// {line}\n" for line in _unique_lines(notes, description))
        examples = []
        for example in _get_list(schema, "examples") or []:
            shown = f'"{_safe_comment(example)}"' if isinstance(example, str) else None
            examples.append(f"{indent}// - {shown or _literal(example)}\n")
        if examples:
            examples.insert(0, f"{indent}// Examples:\n")
        # upstream's order: examples come after the description, except for a oneOf
        out.extend([*examples, *described] if variants is not None else [*described, *examples])
        mark = "" if required else "?"
        has_default = "default" in schema
        if variants is not None:
            if has_default:
                out.append(f"{indent}// {_default_comment(schema, schema['default'])}\n")
            out.append(f"{indent}{_key(key)}{mark}:\n")
            out.extend(variants)
            out.append(f"{indent},\n")
            return "".join(out)
        out.append(f"{indent}{_key(key)}{mark}: {text},")
        if has_default:
            out.append(f" // {_default_comment(schema, schema['default'])}")
        out.append("\n")
        return "".join(out)

    def wants_layout(self, schema: Mapping[str, Any], union: _Union, indent: str) -> bool:
        """Whether a union property gets upstream's one-variant-per-line layout."""
        real = [m for m in union.members if not _is_null(m)]
        if len(real) < 2 or "const" in schema or _is_enum(schema):
            return False
        if union.keyword == "oneOf":
            return True
        for member in real:
            flat = self.flatten(member)
            try:
                if flat.cycle is not None:
                    continue
                if _get(flat.schema, "description") is not None:
                    return True
                if _has(flat.schema, "default"):
                    return True
                if "\n" in self.expr_flat(flat.schema, indent + "   ", [])[0]:
                    return True
            finally:
                self.pop(flat)
        return False

    def variant_lines(
        self, schema: Mapping[str, Any], union: _Union, description: str | None, indent: str
    ) -> list[str]:
        out = []
        has_null = False
        for member in union.members:
            if _is_null(member):
                if has_null:
                    continue
                has_null = True
            flat = self.flatten(member)
            try:
                variant = flat.schema
                own = _get_str(variant, "description")
                notes = list(flat.extra)
                if flat.cycle is not None:
                    text = flat.cycle
                else:
                    text, _ = self.expr_flat(variant, indent + "   ", notes, skip=own)
                comments = [] if own is None or own == description else _comment_lines(own)
                comments += _unique_lines(notes, own)
                if _has(variant, "default"):
                    default = _default_comment(variant, variant["default"])
                    comments = (
                        [*comments[:-1], f"{comments[-1]} {default}"] if comments else [default]
                    )
            finally:
                self.pop(flat)
            line = f"{indent} | {text}"
            if comments:
                line += f" // {comments[0]}"
            out.append(line + "\n")
            out.extend(f"{indent}// {c}\n" for c in comments[1:])
        if schema.get("nullable") is True and not has_null:
            out.append(f"{indent} | null\n")
        return out


def _unique_lines(notes: list[str], *exclude: str | None) -> Iterator[str]:
    seen = {e for e in exclude if e is not None}
    for note in notes:
        if note not in seen:
            seen.add(note)
            yield from _comment_lines(note) or [""]
