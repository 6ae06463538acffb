"""YAML reading and writing shared by the config loader and the manifest tools.

Reading rejects duplicate mapping keys (PyYAML silently keeps the last one, which hides typos in
hand-edited files) and reports the file, line and column. Writing is atomic and, for files that
hold secrets, mode 0600 from the first byte.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml

from inception.atomic import write_atomic


class YamlError(Exception):
    """A YAML file could not be read; the message names the file and the line."""

    def __init__(self, source: str, detail: str, line: int | None = None, column: int | None = None):
        self.source, self.detail, self.line, self.column = source, detail, line, column
        where = f"{source}:{line}:{column}" if line else source
        super().__init__(f"{where}: {detail}")


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys in a mapping."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    loader.flatten_mapping(node)
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            mark = key_node.start_mark
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first defined on line {seen[key].start_mark.line + 1})", mark
            )
        seen[key] = key_node
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, source: str) -> Any:
    """Parse YAML text; errors name `source` and the position."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - _StrictLoader derives from SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise YamlError(source, f"invalid YAML: {problem}", mark and mark.line + 1, mark and mark.column + 1) from None


def load_yaml(path: str | os.PathLike[str]) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a YamlError too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise YamlError(str(path), "file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise YamlError(str(path), f"cannot read: {exc}") from None
    return parse_yaml(text, str(path))


class _Dumper(yaml.SafeDumper):
    """Block-style dumper that keeps multi-line strings (certificates, keys) readable."""


def _str_representer(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    if "\n" in data:
        return dumper.represent_scalar("tag:yaml.org,2002:str", data, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", data)


_Dumper.add_representer(str, _str_representer)


def dump_yaml(data: Any) -> str:
    """Serialise to block-style YAML, keys in insertion order."""
    return yaml.dump(data, Dumper=_Dumper, default_flow_style=False, sort_keys=False, width=120)


def write_file(path: str | os.PathLike[str], text: str, *, private: bool = False) -> None:
    """Write atomically (temp file + rename). `private` makes the file 0600 before any byte is written."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700 if private else 0o777)
    write_atomic(target, text.encode("utf-8"), 0o600 if private else 0o644)

