"""Layering runs one way (data_recipes -> apps -> core) and no import cycle exists.

An AST walk over every module, so lazy imports inside functions count too for the
direction rule. Cycles are looked for among module-level imports (the ones that run
at import time), within the core, within each app, and between packages.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ROOTS = {"gdl_science": REPO / "gdl_science", "data_recipes": REPO / "data_recipes"}
for app_dir in sorted((REPO / "apps").glob("gdl_*")):
    ROOTS[app_dir.name] = app_dir
APPS = tuple(name for name in ROOTS if name.startswith("gdl_") and name != "gdl_science")
# Which top-level packages each layer may import.
ALLOWED = {
    "gdl_science": {"gdl_science"},
    **{app: {app, "gdl_science"} for app in APPS},
    "data_recipes": {"data_recipes", "gdl_science", *APPS},
}


def module_name(root: str, path: Path) -> str:
    rel = path.relative_to(ROOTS[root]).with_suffix("")
    parts = [root, *rel.parts]
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> Iterator[tuple[str, Path]]:
    for root, folder in ROOTS.items():
        for path in sorted(folder.rglob("*.py")):
            yield module_name(root, path), path


def _is_type_checking(test: ast.expr) -> bool:
    """``TYPE_CHECKING`` or ``typing.TYPE_CHECKING``."""
    if isinstance(test, ast.Name):
        return test.id == "TYPE_CHECKING"
    return isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"


def imports(path: Path, name: str, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """(imported module, line) of every import in a file; relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    type_only = {
        id(inner)
        for block in ast.walk(tree)
        if isinstance(block, ast.If) and _is_type_checking(block.test)
        for stmt in block.body
        for inner in ast.walk(stmt)
    }
    nodes = tree.body if top_level_only else ast.walk(tree)
    for node in nodes:
        if id(node) in type_only:
            # Imports for annotations only (``if TYPE_CHECKING:``) never run.
            continue
        if isinstance(node, ast.If) and top_level_only:
            # ``if TYPE_CHECKING:`` blocks never run.
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, node.lineno
            for alias in node.names:  # ``from pkg import submodule``
                yield f"{target}.{alias.name}", node.lineno


def test_every_import_respects_the_layering():
    wrong = []
    for name, path in modules():
        layer = name.split(".")[0]
        for target, line in imports(path, name, top_level_only=False):
            top = target.split(".")[0]
            if top in ROOTS and top not in ALLOWED[layer]:
                wrong.append(f"{path.relative_to(REPO)}:{line} imports {target}")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the directed graph, as a list of nodes, or None."""
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def import_graph(top_level_only: bool) -> dict[str, set[str]]:
    known = dict(modules())
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for target, _ in imports(path, name, top_level_only):
            if target in known and target != name:
                graph[name].add(target)
    # A package's __init__ that re-exports its modules is not a cycle with them: an edge
    # from a submodule to its own package's __init__ is what Python resolves lazily.
    for name in graph:
        graph[name] = {t for t in graph[name] if not name.startswith(t + ".")}
    return graph


def test_no_module_level_import_cycle():
    cycle = find_cycle(import_graph(top_level_only=True))
    assert cycle is None, "module-level import cycle: " + " -> ".join(cycle or [])


def test_no_import_cycle_even_through_lazy_imports():
    """Lazy (in-function) imports only hide cycles; the graph with them is acyclic too."""
    cycle = find_cycle(import_graph(top_level_only=False))
    assert cycle is None, "import cycle (lazy imports included): " + " -> ".join(cycle or [])


def test_the_checks_would_catch_a_violation(tmp_path):
    """The walker sees a lazy import of data_recipes and a two-module cycle."""
    bad = tmp_path / "m.py"
    bad.write_text("def f():\n    from data_recipes.x import y\n")
    assert ("data_recipes.x", 2) in list(imports(bad, "gdl_dna.m", top_level_only=False))
    assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("app", APPS)
def test_every_app_has_the_same_shape(app):
    folder = ROOTS[app]
    shape = ["data", "layers", "model.py", "task.py", "datamodule.py", "predict.py", "cli.py"]
    missing = [part for part in shape if not (folder / part).exists()]
    assert not missing, f"{app} lacks {missing}"
