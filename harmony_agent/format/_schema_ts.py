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

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import unquote

from harmony_agent.format._schema_json import (
    _LINE_BREAK,
    _comment_lines,
    _display,
    _get,
    _get_list,
    _get_str,
    _has,
    _is_enum,
    _json_string,
    _required,
    _rust_lines,
)
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
