"""The ``"improved"`` flavor of JSON Schema → TypeScript (see :mod:`._schema_ts`)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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
)
from harmony_agent.format._schema_refs import _MAX_DEPTH, _is_identifier, _Resolver

__all__: list[str] = []  # helpers of _schema_ts, imported by name

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
class _Union:
    keyword: str
    members: list[Any]


class _Improved(_Resolver):
    """Renders one schema, its ``$ref`` targets inlined."""

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
