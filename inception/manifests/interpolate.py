"""`((variable))` interpolation with `bosh interpolate` semantics.

A value that is exactly `((name))` is replaced by the variable's value with its type; `((name))` inside a
longer string is replaced textually (strings and integers only). `((name.key.sub))` reads into a
structured value (certificates: `((director_ssl.certificate))`). A leading `!` (`((!name))`) is ignored,
as in BOSH, where it keeps YAML from reading the value as a tag. Map keys are interpolated too.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

VAR = re.compile(r"\(\((!?[-/.\w]+)\)\)")


class VariablesError(Exception):
    """Variables are missing or unusable; `.missing` lists the names not found."""

    def __init__(self, message: str, missing: list[str] | None = None):
        super().__init__(message)
        self.missing = missing or []


def find_variables(doc: Any) -> list[str]:
    """Top-level names of every ((variable)) referenced in `doc`, sorted, without duplicates."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(key)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, str):
            found.update(m.group(1).lstrip("!").split(".")[0] for m in VAR.finditer(node))

    walk(doc)
    return sorted(found)


def _lookup(expr: str, variables: Mapping[str, Any], missing: set[str]) -> tuple[bool, Any]:
    name, *path = expr.lstrip("!").split(".")
    if name not in variables:
        missing.add(name)
        return False, None
    value = variables[name]
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise VariablesError(f"variable {name!r} has no key {'.'.join(path)!r} (used as (({expr})))")
        value = value[key]
    return True, value


def interpolate(doc: Any, variables: Mapping[str, Any], *, allow_missing: bool = False) -> Any:
    """Return a copy of `doc` with variables replaced. Missing ones raise VariablesError listing all of
    them, unless `allow_missing` (then they stay as `((name))`, like `bosh int` without --var-errs)."""
    missing: set[str] = set()

    def text(value: str) -> Any:
        whole = VAR.fullmatch(value)
        if whole:
            ok, found = _lookup(whole.group(1), variables, missing)
            return found if ok else value

        def sub(match: re.Match[str]) -> str:
            ok, found = _lookup(match.group(1), variables, missing)
            if not ok:
                return match.group(0)
            if isinstance(found, bool) or not isinstance(found, (str, int)):
                raise VariablesError(f"variable (({match.group(1)})) is a {type(found).__name__}; only strings and "
                                     f"integers can be interpolated inside a string ({value!r})")
            return str(found)

        return VAR.sub(sub, value)

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {walk(k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        if isinstance(node, str):
            return text(node)
        return node

    result = walk(doc)
    if missing and not allow_missing:
        names = sorted(missing)
        raise VariablesError("missing variables: " + ", ".join(names), names)
    return result
