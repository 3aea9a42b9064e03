"""The package's structure holds: no module uses another module's private names, and the
import graph has no cycle, counting imports inside functions too."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "shapelint"
# Private attributes of other libraries' objects that shapelint relies on knowingly: LibCST's
# code generator and metadata table (positions without a MetadataWrapper), ast's node fields.
FOREIGN_PRIVATE = {"_codegen", "_computed", "_fields"}


def modules() -> dict:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return found


def is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def foreign_modules(tree: ast.Module) -> set:
    """Names the module binds to imports of other libraries (``os``, ``sys``)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if not alias.name.startswith("shapelint"):
                    names.add((alias.asname or alias.name).split(".")[0])
    return names


def test_no_module_uses_another_modules_private_names():
    offences = []
    for name, tree in modules().items():
        foreign = foreign_modules(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("shapelint"):
                offences += [f"{name}:{node.lineno} imports {node.module}.{a.name}"
                             for a in node.names if is_private(a.name)]
            elif isinstance(node, ast.Attribute) and is_private(node.attr) and node.attr not in FOREIGN_PRIVATE:
                base = node.value
                if isinstance(base, ast.Name) and base.id in {"self", "cls"} | foreign:
                    continue
                if isinstance(base, ast.Call) and isinstance(base.func, ast.Name) and base.func.id == "super":
                    continue
                offences.append(f"{name}:{node.lineno} reads {ast.unparse(node)}")
    assert offences == []


def import_graph() -> dict:
    found = modules()
    graph = {}
    for name, tree in found.items():
        package = name if (PACKAGE.parent / Path(*name.split(".")) / "__init__.py").exists() else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets |= {a.name for a in node.names if a.name in found}
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                if not base.startswith("shapelint"):
                    continue
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    targets.add(full if full in found else base)
        targets.discard(name)
        graph[name] = targets
    return graph


def test_no_import_cycles():
    graph = import_graph()
    cycles, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                cycles.append(path[path.index(target):] + [target])
            elif target not in state:
                visit(target, path + [target])
        state[node] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_what_they_look_for():
    """The scans are not vacuous: the graph has the pipeline's edges."""
    graph = import_graph()
    assert "shapelint.frontends.interp" in graph["shapelint.frontends.base"]
    assert "shapelint.shapes.common" in graph["shapelint.shapes.keras_ops"]
    assert "shapelint.rules.base" in graph["shapelint.rules.sl101"]
