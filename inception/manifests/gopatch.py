"""BOSH ops files (go-patch semantics, as `bosh interpolate -o` applies them).

Paths: `/` root; `/key` (must exist) and `/key?` (optional; optionality carries to the right);
`/0`, `/-1` indices; `/-` after the last item (replace appends); `/key=value` the one array item
whose `key` equals the string `value` (`?` appends it when missing); modifiers `:prev`, `:next`
(index selection) and `:before`, `:after` (insertion); escapes `~0` `~` `~1` `/` `~2` `?` `~3` `=`
`~7` `:`. Operations: `replace` (needs `value`) and `remove`, applied in order.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any


class OpsError(Exception):
    """An ops file is malformed or an operation cannot be applied; names the operation and path."""


@dataclass(frozen=True)
class Key:
    key: str
    optional: bool


@dataclass(frozen=True)
class Index:
    index: int
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    key: str
    value: str
    optional: bool
    modifiers: tuple[str, ...] = ()


@dataclass(frozen=True)
class AfterLast:
    pass


Token = Key | Index | Match | AfterLast
_MODIFIERS = ("prev", "next", "before", "after")


def _unescape(text: str) -> str:
    return text.replace("~1", "/").replace("~2", "?").replace("~3", "=").replace("~7", ":").replace("~0", "~")


def parse_path(path: str) -> list[Token]:
    """Parse a go-patch pointer; [] means the document root."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise OpsError(f"path {path!r} must start with '/'")
    if path == "/":
        return []
    tokens: list[Token] = []
    optional = False
    for raw in path.split("/")[1:]:
        head, *mods = raw.split(":")
        for mod in mods:
            if mod not in _MODIFIERS:
                raise OpsError(f"path {path!r}: unknown modifier ':{mod}' (use prev, next, before or after)")
        if head == "-" and not mods:
            tokens.append(AfterLast())
            continue
        try:
            tokens.append(Index(int(head), tuple(mods)))
            continue
        except ValueError:
            pass
        if head.endswith("?"):
            optional = True
            head = head[:-1]
        if "=" in head:
            key, value = head.split("=", 1)
            tokens.append(Match(_unescape(key), _unescape(value), optional, tuple(mods)))
        else:
            if mods:
                raise OpsError(f"path {path!r}: modifiers apply to array items only")
            tokens.append(Key(_unescape(head), optional))
    return tokens


def _concrete_index(index: int, mods: tuple[str, ...], array: list, where: str) -> int:
    result = index
    for mod in mods:
        if mod in ("before", "after"):
            raise OpsError(f"{where}: ':{mod}' is only allowed as the last modifier of the last path component")
        result += -1 if mod == "prev" else 1
    if result >= len(array) or -result - 1 >= len(array):
        raise OpsError(f"{where}: expected to find array index {result} but found array of length {len(array)}")
    return result + len(array) if result < 0 else result


def _insertion(index: int, mods: tuple[str, ...], array: list, where: str) -> tuple[int, bool]:
    """(position, insert?) for the last token: before/after insert, otherwise replace in place."""
    insert = mods[-1] if mods and mods[-1] in ("before", "after") else None
    num = _concrete_index(index, mods[:-1] if insert else mods, array, where)
    if insert == "after":
        num += 1
    return num, insert is not None


def _matches(array: list, token: Match) -> list[int]:
    return [i for i, item in enumerate(array)
            if isinstance(item, dict) and isinstance(item.get(token.key), str) and item[token.key] == token.value]


def _describe_path(tokens: list[Token], upto: int) -> str:
    parts = []
    for token in tokens[: upto + 1]:
        if isinstance(token, Key):
            parts.append(token.key)
        elif isinstance(token, Index):
            parts.append(":".join([str(token.index), *token.modifiers]))
        elif isinstance(token, Match):
            parts.append(":".join([f"{token.key}={token.value}", *token.modifiers]))
        else:
            parts.append("-")
    return "/" + "/".join(parts)


def _kind(obj: Any) -> str:
    return "a hash" if isinstance(obj, dict) else "an array" if isinstance(obj, list) else f"{type(obj).__name__} {obj!r}"


def replace(doc: Any, path: str, value: Any) -> Any:
    """Apply one `replace`; returns the new document (the input is modified in place where possible)."""
    tokens = parse_path(path)
    value = copy.deepcopy(value)
    if not tokens:
        return value
    root = {"_": doc}
    parent: Any = root
    slot: Any = "_"
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        where = _describe_path(tokens, i)
        obj = parent[slot]
        if isinstance(token, Key):
            if not isinstance(obj, dict):
                raise OpsError(f"expected to find a hash at path {_describe_path(tokens, i - 1) if i else '/'} but found {_kind(obj)}")
            if token.key not in obj:
                if not token.optional:
                    raise OpsError(f"expected to find a map key {token.key!r} for path {where} "
                                   f"(found map keys: {', '.join(map(repr, obj)) or 'none'})")
                if not last:
                    following = tokens[i + 1]
                    if isinstance(following, Key):
                        obj[token.key] = {}
                    elif isinstance(following, (AfterLast, Match)):
                        obj[token.key] = []
                    else:
                        raise OpsError(f"expected to find key, matching index or after last index token at path "
                                       f"{_describe_path(tokens, i + 1)}")
            if last:
                obj[token.key] = value
            parent, slot = obj, token.key
            continue
        if not isinstance(obj, list):
            raise OpsError(f"expected to find an array at path {_describe_path(tokens, i - 1) if i else '/'} but found {_kind(obj)}")
        if isinstance(token, AfterLast):
            if not last:
                raise OpsError(f"expected after last index token to be last in path {path!r}")
            obj.append(value)
            return root["_"]
        if isinstance(token, Index):
            if last:
                pos, insert = _insertion(token.index, token.modifiers, obj, where)
                obj.insert(pos, value) if insert else obj.__setitem__(pos, value)
                return root["_"]
            parent, slot = obj, _concrete_index(token.index, token.modifiers, obj, where)
            continue
        found = _matches(obj, token)
        if not found and token.optional:
            if last:
                obj.append(value)
                return root["_"]
            obj.append({token.key: token.value})
            parent, slot = obj, len(obj) - 1
            continue
        if len(found) != 1:
            raise OpsError(f"expected to find exactly one matching array item for path {where} but found {len(found)}")
        if last:
            pos, insert = _insertion(found[0], token.modifiers, obj, where)
            obj.insert(pos, value) if insert else obj.__setitem__(pos, value)
            return root["_"]
        parent, slot = obj, _concrete_index(found[0], token.modifiers, obj, where)
    return root["_"]


def remove(doc: Any, path: str) -> Any:
    """Apply one `remove`; optional components that are absent make it a no-op."""
    tokens = parse_path(path)
    if not tokens:
        raise OpsError("cannot remove the entire document")
    obj = doc
    for i, token in enumerate(tokens):
        last = i == len(tokens) - 1
        where = _describe_path(tokens, i)
        if isinstance(token, Key):
            if not isinstance(obj, dict):
                raise OpsError(f"expected to find a hash at path {_describe_path(tokens, i - 1) if i else '/'} but found {_kind(obj)}")
            if token.key not in obj:
                if token.optional:
                    return doc
                raise OpsError(f"expected to find a map key {token.key!r} for path {where} "
                               f"(found map keys: {', '.join(map(repr, obj)) or 'none'})")
            if last:
                del obj[token.key]
                return doc
            obj = obj[token.key]
            continue
        if not isinstance(obj, list):
            raise OpsError(f"expected to find an array at path {_describe_path(tokens, i - 1) if i else '/'} but found {_kind(obj)}")
        if isinstance(token, AfterLast):
            raise OpsError(f"path {path!r}: '-' cannot be removed")
        if isinstance(token, Index):
            idx = _concrete_index(token.index, token.modifiers, obj, where)
        else:
            found = _matches(obj, token)
            if not found and token.optional:
                return doc
            if len(found) != 1:
                raise OpsError(f"expected to find exactly one matching array item for path {where} but found {len(found)}")
            idx = _concrete_index(found[0], token.modifiers, obj, where)
        if last:
            del obj[idx]
            return doc
        obj = obj[idx]
    return doc


@dataclass
class Operation:
    type: str
    path: str
    value: Any = None
    error: str | None = None  # the ops file's own message for a failure (go-patch `error:`)
    source: str = field(default="", compare=False)  # "file.yml operation 3", for error messages


def parse_ops(data: Any, source: str) -> list[Operation]:
    """Validate an ops file's content (a list of {type, path, value}) into Operations."""
    if data is None:
        return []
    if not isinstance(data, list):
        raise OpsError(f"{source}: an ops file must be a YAML list of operations")
    ops = []
    for n, item in enumerate(data, 1):
        where = f"{source} operation {n}"
        if not isinstance(item, dict):
            raise OpsError(f"{where}: expected a hash with type and path")
        unknown = set(item) - {"type", "path", "value", "error"}
        if unknown:
            raise OpsError(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))}")
        kind = item.get("type")
        if kind not in ("replace", "remove"):
            raise OpsError(f"{where}: type must be replace or remove, got {kind!r}")
        if "path" not in item:
            raise OpsError(f"{where}: missing path")
        if kind == "replace" and "value" not in item:
            raise OpsError(f"{where}: replace needs a value")
        if kind == "remove" and "value" in item:
            raise OpsError(f"{where}: remove takes no value")
        parse_path(item["path"])  # syntax errors surface before anything is applied
        ops.append(Operation(kind, item["path"], item.get("value"), item.get("error"), where))
    return ops


def apply_ops(doc: Any, ops: list[Operation]) -> Any:
    """Apply operations in order to a deep copy of `doc`."""
    result = copy.deepcopy(doc)
    for op in ops:
        try:
            result = replace(result, op.path, op.value) if op.type == "replace" else remove(result, op.path)
        except OpsError as exc:
            raise OpsError(f"{op.source} ({op.type} {op.path}): {op.error or exc}") from None
    return result
