"""Render a manifest KIND from the project config: build, apply ops files, generate and interpolate
variables, validate, and only then persist the vars store.

Variable precedence (highest first): `-v name=value`, vars files (in order, later wins), the vars store,
values derived from the config (CloudStack credentials, director UUID).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inception.config.credentials import api_settings
from inception.config.loader import ProjectConfig
from inception.config.stemcell import RUN_PIPEFS_OS, stemcell_os
from inception.config.yamlio import YamlError, dump_yaml, load_yaml
from inception.manifests.cf import cf_manifest
from inception.manifests.cloud_config import cloud_config
from inception.manifests.director import full_bosh_manifest, micro_manifest
from inception.manifests.gopatch import OpsError, apply_ops, parse_ops
from inception.manifests.interpolate import VariablesError, interpolate
from inception.manifests.validate import check
from inception.manifests.varstore import VarsStore

OPS_DIR = Path(__file__).parent / "ops"  # a symlink to the repository's manifests/ops (copied into wheels)
PRECISE_OPS = OPS_DIR / "ubuntu-precise.yml"

BUILDERS: dict[str, Callable[[ProjectConfig], dict[str, Any]]] = {
    "micro": micro_manifest,
    "bosh": full_bosh_manifest,
    "cf": cf_manifest,
    "cloud-config": cloud_config,
}
KINDS = tuple(BUILDERS)
NEEDS_CREDENTIALS = ("micro", "bosh")
VARIABLE_HINTS = {
    # bosh CLI v2: `bosh env` prints the director's Name/UUID/Version table (bosh-cli cmd/info_table.go)
    "director_uuid": "set director.uuid in the config or pass -v director_uuid=<the UUID `bosh -e <env> env` "
                     "prints; scripted: bosh -e <env> env --json | jq -r '.Tables[0].Rows[0].uuid'>",
    "director_address": "the director is on a dynamic network: pass -v director_address=<its IP or DNS name>",
    "full_bosh_address": "set full_bosh.ip or pass -v full_bosh_address=<IP> (on a manual network: a free IP of its "
                         "static range, which the full BOSH VM gets as its static IP)",
}


@dataclass
class Rendered:
    kind: str
    manifest: dict[str, Any]
    ops_applied: list[str] = field(default_factory=list)
    generated: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # manifests check warnings (properties no job declares)

    @property
    def text(self) -> str:
        return dump_yaml(self.manifest)


def load_ops_file(path: str | os.PathLike[str]) -> list:
    try:
        return parse_ops(load_yaml(path), str(path))
    except YamlError as exc:
        raise OpsError(str(exc)) from None


def load_vars_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    try:
        data = load_yaml(path)
    except YamlError as exc:
        raise VariablesError(str(exc)) from None
    if data is not None and not isinstance(data, dict):
        raise VariablesError(f"{path}: a vars file must be a YAML mapping of name: value")
    return data or {}


def parse_var_flags(items: Sequence[str]) -> dict[str, Any]:
    """`-v name=value` flags; values are strings, like the bosh CLI's -v."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise VariablesError(f"-v {item!r}: expected name=value")
        out[name] = value
    return out


def config_variables(kind: str, config: ProjectConfig) -> dict[str, Any]:
    """Variables the config itself provides (never written to the vars store)."""
    values: dict[str, Any] = {}
    if config.director.get("uuid"):
        values["director_uuid"] = config.director["uuid"]
    if kind in NEEDS_CREDENTIALS:
        settings = api_settings(config)
        values.update(cloudstack_endpoint=settings.endpoint, cloudstack_api_key=settings.api_key,
                      cloudstack_secret_access_key=settings.secret_key)
    return values


def render(kind: str, config: ProjectConfig, *, ops_files: Sequence[str | os.PathLike[str]] = (),
           vars_files: Sequence[str | os.PathLike[str]] = (), variables: Mapping[str, Any] | None = None,
           store: VarsStore | None = None) -> Rendered:
    """Render KIND; raises ConfigError, OpsError, VariablesError or ManifestError (nothing is written then)."""
    if kind not in BUILDERS:
        raise ValueError(f"unknown manifest kind {kind!r}; use one of {', '.join(KINDS)}")
    zone_type = config.require_zone_type()
    os_name = stemcell_os(config)
    store = store if store is not None else VarsStore(None)
    doc = BUILDERS[kind](config)
    applied: list[str] = []
    ops_paths = [PRECISE_OPS] if kind == "cf" and os_name in RUN_PIPEFS_OS else []
    ops_paths += [Path(p) for p in ops_files]
    for path in ops_paths:
        doc = apply_ops(doc, load_ops_file(path))
        applied.append(str(path))
    if not isinstance(doc, dict):
        raise OpsError(f"after the ops files the {kind} manifest is {type(doc).__name__} {doc!r}, not a hash")
    definitions = doc.pop("variables", None) or []
    given: dict[str, Any] = {}
    for path in vars_files:
        given.update(load_vars_file(path))
    given.update(variables or {})
    context = {**config_variables(kind, config), **given}
    try:
        store.ensure(definitions, context)
        manifest = interpolate(doc, {**context, **store.values, **given})
    except VariablesError as exc:
        hints = [VARIABLE_HINTS[name] for name in exc.missing if name in VARIABLE_HINTS]
        if hints:
            raise VariablesError(f"{exc}; " + "; ".join(hints), exc.missing) from None
        raise
    warnings = check(manifest, f"rendered {kind} manifest", zone_type=zone_type, stemcell_os=os_name)
    store.save()
    return Rendered(kind, manifest, applied, list(store.changed), [str(w) for w in warnings])
