"""``$ref`` and ``allOf`` for the improved schema rendering: pointers resolved, chains
merged, cycles and exponential expansions cut off."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from harmony_agent.format._schema_json import _get_list, _get_str

__all__: list[str] = []  # helpers of _schema_improved, imported by name

_MAX_DEPTH = 48
_MAX_EXPANSIONS = 2000


def _is_identifier(name: str) -> bool:
    return name.replace("$", "_").isidentifier()


@dataclass
class _Flat:
    """A schema with its ``$ref`` chain and ``allOf`` members merged in."""

    schema: Any
    pushed: int = 0
    extra: list[str] = field(default_factory=list)  # descriptions shadowed by the merge
    cycle: str | None = None  # set when a $ref points back into its own expansion


class _Resolver:
    """Resolves ``$ref`` pointers within ``root``, keeping the chain being expanded."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.stack: list[str] = []
        self.expansions = 0  # $ref expansions so far, bounded against exponential DAGs

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
