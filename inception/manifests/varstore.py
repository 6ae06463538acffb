"""The vars store: a YAML file (mode 0600) of generated variable values, reused on every render.

`VarsStore.ensure(definitions, context)` generates what a manifest's `variables:` section defines and
the store lacks (CAs before the certificates they sign). A stored certificate is regenerated only when
its definition no longer fits it (common name, alternative names or issuing CA changed, e.g. a new
director IP); everything else is kept, so secrets are stable across renders.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from inception.config.yamlio import YamlError, dump_yaml, load_yaml, write_file
from inception.manifests.interpolate import VariablesError, interpolate
from inception.manifests.secrets import EXTENDED_KEY_USAGES, SecretGenerator, certificate_names

TYPES = ("password", "certificate", "rsa", "ssh")


def _check_options(name: str, options: Any) -> None:
    """Refuse options the generators cannot use, naming the variable (instead of failing inside them)."""
    if not isinstance(options, dict):
        raise VariablesError(f"variable {name!r}: options must be a hash, got {options!r}")
    for key in ("length", "duration"):
        value = options.get(key)
        if key in options and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise VariablesError(f"variable {name!r}: options.{key} must be a positive integer, got {value!r}")
    usages = options.get("extended_key_usage") or []
    unknown = [u for u in usages if u not in EXTENDED_KEY_USAGES] if isinstance(usages, list) else [usages]
    if unknown:
        raise VariablesError(f"variable {name!r}: options.extended_key_usage {unknown!r} is not supported; "
                             f"use {', '.join(EXTENDED_KEY_USAGES)}")


class VarsStore:
    def __init__(self, path: str | os.PathLike[str] | None, generator: SecretGenerator | None = None):
        """`path=None` keeps values in memory only (used by `check` and tests)."""
        self.path = Path(path) if path else None
        self.generator = generator or SecretGenerator()
        self.values: dict[str, Any] = {}
        self.changed: list[str] = []
        if self.path and self.path.exists():
            try:
                data = load_yaml(self.path)
            except YamlError as exc:
                raise VariablesError(f"vars store {exc}") from None
            if data is not None and not isinstance(data, dict):
                raise VariablesError(f"vars store {self.path}: expected a YAML mapping of name: value")
            self.values = dict(data or {})

    def __repr__(self) -> str:  # values are secrets
        return f"VarsStore(path={str(self.path)!r}, names={sorted(self.values)})"

    def ensure(self, definitions: list[dict[str, Any]], context: Mapping[str, Any]) -> None:
        """Generate missing or stale values for `definitions` (BOSH `variables:` entries). `context`
        holds the other known variables, used to interpolate definition options."""
        if not isinstance(definitions, list):
            raise VariablesError(f"variables: expected a list of {{name, type, options}}, got {type(definitions).__name__}")
        by_name: dict[str, dict[str, Any]] = {}
        for n, item in enumerate(definitions):
            if not isinstance(item, dict) or "name" not in item or item.get("type") not in TYPES:
                raise VariablesError(f"variables[{n}]: needs name and type ({', '.join(TYPES)}), got {item!r}")
            by_name[item["name"]] = item
        done: set[str] = set()

        def make(name: str, chain: tuple[str, ...] = ()) -> None:
            if name in done:
                return
            if name in chain:
                raise VariablesError(f"variables: certificate authority loop {' -> '.join((*chain, name))}")
            definition = by_name[name]
            options = interpolate(definition.get("options") or {}, {**context, **self.values})
            _check_options(name, options)
            ca = None
            if definition["type"] == "certificate" and options.get("ca"):
                ca_name = options["ca"]
                if ca_name in by_name:
                    make(ca_name, (*chain, name))
                if ca_name not in self.values:
                    raise VariablesError(f"variable {name!r}: its ca {ca_name!r} is neither defined nor stored")
                ca = self.values[ca_name]
            if name not in self.values or self._stale(definition["type"], options, self.values[name], ca):
                self.values[name] = self._generate(definition["type"], options, ca)
                self.changed.append(name)
            done.add(name)

        for name in by_name:
            make(name)

    def _stale(self, kind: str, options: dict[str, Any], value: Any, ca: dict[str, str] | None) -> bool:
        if kind != "certificate":
            return False
        if not isinstance(value, dict) or "certificate" not in value:
            return True
        cn, sans, issuer = certificate_names(value["certificate"])
        wanted = {str(n) for n in options.get("alternative_names") or []}
        expected_issuer = certificate_names(ca["certificate"])[0] if ca else cn
        same_ca = ca is None or value.get("ca") == ca["certificate"]
        return cn != str(options.get("common_name", "bosh")) or sans != wanted or issuer != expected_issuer or not same_ca

    def _generate(self, kind: str, options: dict[str, Any], ca: dict[str, str] | None) -> Any:
        if kind == "password":
            return self.generator.password(int(options.get("length", 32)))
        if kind == "rsa":
            return self.generator.rsa()
        if kind == "ssh":
            return self.generator.ssh()
        return self.generator.certificate(options, ca)

    def save(self) -> None:
        """Write the store atomically with mode 0600 (no-op for an in-memory store)."""
        if self.path is None:
            return
        write_file(self.path, dump_yaml(self.values), private=True)

