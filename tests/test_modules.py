"""Every module says what it exports: an explicit ``__all__`` of names it defines."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "harmony_agent"


def _bound(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def test_every_module_has_an_explicit_all_of_names_it_binds() -> None:
    missing, unknown = [], []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__main__.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        declared = None
        for node in tree.body:
            target = node.target if isinstance(node, ast.AnnAssign) else None
            if isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            if isinstance(target, ast.Name) and target.id == "__all__":
                declared = ast.literal_eval(node.value)  # type: ignore[arg-type]
        if declared is None:
            missing.append(str(path.relative_to(PACKAGE)))
            continue
        bound = _bound(tree)
        lazy = "_LAZY" in bound or "__getattr__" in bound  # names loaded on first use
        unknown += [f"{path.name}:{n}" for n in declared if n not in bound and not lazy]
    assert missing == [] and unknown == []
