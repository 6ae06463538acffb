"""No import circles in the product packages.

The graph is read from the source with `ast`, so it sees every import Python could run: module level, inside
functions, and under `if TYPE_CHECKING:` (a type-only circle still ties two modules together). An edge goes to
the module named and, as Python runs them first, to each package `__init__` on the way that does not already
hold the importing module (importing `simulator.commands.tags` from `simulator.networking` runs
`simulator/commands/__init__.py`; importing a sibling inside `simulator.commands` does not). Modules loaded by name
through importlib are not in the graph (inception/cli.py registers its command modules that way, and
cpi/methods/__init__.py loads a method's module when it is called).
"""
from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("inception", "cpi", "simulator")


def _modules() -> dict[str, Path]:
    """Every module of the product packages by dotted name (a package by its own name, for its __init__)."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported(module: str, path: Path, node: ast.Import | ast.ImportFrom, known: dict[str, Path]) -> set[str]:
    """The product modules one import statement names (before adding the package __init__s on the way)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:
        base = module.split(".") if _is_package(path) else module.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        target = ".".join(base + ([node.module] if node.module else []))
    else:
        target = node.module or ""
    names = {f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in known}
    if len(names) < len(node.names):
        names.add(target)      # `from pkg.mod import name` needs pkg.mod itself, not only a submodule of it
    return names


def _graph() -> dict[str, set[str]]:
    known = _modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for module, path in known.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            for target in _imported(module, path, node, known):
                parts = target.split(".")
                for depth in range(1, len(parts) + 1):
                    step = ".".join(parts[:depth])
                    inside = module == step or module.startswith(step + ".")
                    if step in known and step != module and (depth == len(parts) or not inside):
                        graph[module].add(step)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[tuple[list[str], list[str]]]:
    """Every strongly connected component of more than one module (Tarjan): a readable cycle through it, and all
    the modules it ties together."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [(_path_through(graph, component), component) for component in components]


def _path_through(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    """A shortest cycle from the component's first module back to itself, staying inside the component."""
    members, start = set(component), component[0]
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt_frontier = []
        for node in frontier:
            for nxt in sorted(graph[node] & members):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if nxt not in previous:
                    previous[nxt] = node
                    nxt_frontier.append(nxt)
        frontier = nxt_frontier
    return component


def test_the_graph_sees_imports_inside_functions_and_type_checking_blocks() -> None:
    """The checker itself: a circle made only of a function-level import is still found and named."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [(["a", "b", "c", "a"], ["a", "b", "c"])]
    assert _cycles({"a": {"b"}, "b": set()}) == []
    source = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .app import X\ndef f():\n    from . import y\n"
    tree = ast.parse(source)
    known = {"pkg.app": Path("pkg/app.py"), "pkg.y": Path("pkg/y.py"), "pkg": Path("pkg/__init__.py")}
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            found |= _imported("pkg.mod", Path("pkg/mod.py"), node, known)
    assert found == {"pkg.app", "pkg.y"}


def test_no_import_circles_in_the_product_packages() -> None:
    graph = _graph()
    assert "simulator.app" in graph["simulator.cli"], "an import inside a function (cli's serve) is an edge"
    cycles = _cycles(graph)
    assert not cycles, "import circles (a path through each, then every module it ties together):\n" + "\n".join(
        f"  {' -> '.join(path)}   [{', '.join(members)}]" for path, members in cycles)


def test_layers_point_one_way() -> None:
    """cpi and simulator never import the inception tool, nor each other; inception reaches the simulator only
    through inception/embedded.py (the offline demo, cpi-check and tour)."""
    graph = _graph()
    wrong = []
    for module, targets in graph.items():
        layer = module.split(".")[0]
        for target in targets:
            to = target.split(".")[0]
            if layer in ("cpi", "simulator") and to in ("inception", "cpi", "simulator") and to != layer:
                wrong.append(f"{module} -> {target}")
            if layer == "inception" and to == "simulator" and module != "inception.embedded":
                wrong.append(f"{module} -> {target} (go through inception.embedded)")
    assert not wrong, "imports against the layering:\n  " + "\n  ".join(sorted(wrong))
