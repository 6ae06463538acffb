"""The release vendors what the CPI imports: every third-party module imported anywhere under cpi/ (operator-side
tooling aside) must come from the runtime dependencies the package ships."""
from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

import cpi
from cpi.release.wheels import OPTIONAL, RUNTIME, TOOLING


def _imports(root: Path) -> dict[str, str]:
    """Top-level module -> first file importing it, for every absolute import (including function-level ones)."""
    found: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        if path.relative_to(root).parts[0] in TOOLING:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(root)))
    return found


def _closure(names: tuple[str, ...]) -> set[str]:
    todo, seen = list(names), set()
    while todo:
        dist = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if dist in seen:
            continue
        seen.add(dist)
        for requirement in importlib.metadata.requires(dist) or []:
            if "extra ==" not in requirement:
                todo.append(re.match(r"[A-Za-z0-9._-]+", requirement).group(0))  # type: ignore[union-attr]
    return seen


def test_cpi_imports_only_vendored_distributions() -> None:
    shipped = _closure(RUNTIME + OPTIONAL)
    providers = importlib.metadata.packages_distributions()
    third_party = {
        module: where for module, where in _imports(Path(cpi.__file__).parent).items()
        if module not in sys.stdlib_module_names and module not in ("cpi", "__future__")
    }
    assert third_party, "the CPI imports cs/requests/jsonschema somewhere"
    for module, where in third_party.items():
        dists = {re.sub(r"[-_.]+", "-", d).lower() for d in providers.get(module, [])}
        assert dists & shipped, f"{where} imports {module}, which no vendored wheel provides"
