"""Compare the shape of JSON answers: which keys, which value types, recursively.

Real fixtures come from clouds of 2011-2014 where ids were numbers; 4.18 uses uuid strings, so an id-like key
(`id` or ending in `id`) accepts either.
"""
from __future__ import annotations

from typing import Any

Shape = Any  # str for scalars, dict for objects, ("list", Shape) for lists


def type_name(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, str)) and (key == "id" or key.endswith("id")) and key not in ("isolatedpvlan",):
        return "id"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "str"
    if value is None:
        return "null"
    return type(value).__name__


def shape(value: Any, key: str = "") -> Shape:
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in value.items()}
    if isinstance(value, list):
        merged: Shape = None
        for item in value:
            merged = merge(merged, shape(item, key))
        return ("list", merged)
    return type_name(key, value)


def merge(a: Shape, b: Shape) -> Shape:
    """The union of two shapes (keys seen in either; for scalars the first seen type wins)."""
    if a is None:
        return b
    if b is None:
        return a
    if isinstance(a, dict) and isinstance(b, dict):
        out = dict(a)
        for k, v in b.items():
            out[k] = merge(out.get(k), v)
        return out
    if isinstance(a, tuple) and isinstance(b, tuple):
        return ("list", merge(a[1], b[1]))
    if a == "number" and b == "int" or a == "int" and b == "number":
        return "number"
    return a


# How the 4.18 spec names the JSON types of our shapes.
SPEC_TYPES = {"integer": {"int"}, "long": {"int"}, "short": {"int"}, "string": {"str", "id"}, "uuid": {"id"},
              "boolean": {"bool"}, "date": {"str"}, "double": {"number", "int"}, "float": {"number", "int"}}


def compare(fixture: Shape, ours: Shape, fields: dict[str, Any] | None, path: str,
            allowed_absent: set[str], spec_type: str | None = None) -> list[str]:
    """Differences between a fixture's shape and ours. `fields` is the spec's response_fields for this level:
    a fixture key that 4.18 still documents must be in our answer (unless allowed_absent names it), and keys
    present in both must hold values of the same type — or, where the old fixture and 4.18 disagree (a port
    that was a string in 2012), of the type the 4.18 spec declares."""
    problems: list[str] = []
    if isinstance(fixture, tuple):
        if not isinstance(ours, tuple):
            return [f"{path}: fixture has a list, ours {ours!r}"]
        return compare(fixture[1], ours[1], fields, path + "[]", allowed_absent)
    if isinstance(fixture, dict):
        if not isinstance(ours, dict):
            return [f"{path}: fixture has an object, ours {ours!r}"]
        for key, sub in fixture.items():
            where = f"{path}.{key}" if path else key
            spec_field = (fields or {}).get(key)
            if key not in ours:
                documented = fields is None or spec_field is not None
                if documented and sub != "null" and where not in allowed_absent and key not in allowed_absent:
                    problems.append(f"{where}: missing from the simulator's answer")
                continue
            nested = spec_field.get("fields") if isinstance(spec_field, dict) else None
            declared = spec_field.get("type") if isinstance(spec_field, dict) else None
            problems += compare(sub, ours[key], nested, where, allowed_absent, declared)
        return problems
    if fixture in ("null", None) or ours in ("null", None):
        return problems
    if fixture != ours and not {fixture, ours} <= {"int", "number"}:
        if ours not in SPEC_TYPES.get(spec_type or "", set()):
            problems.append(f"{path}: fixture type {fixture}, ours {ours} (4.18 declares {spec_type})")
    return problems
