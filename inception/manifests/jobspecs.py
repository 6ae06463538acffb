"""Job specs of the release versions the project supports, kept as data with where each came from.

One file per release version: `inception/manifests/releases/<release>/<version>.yml`:

    source: {repo: cloudfoundry/bosh, tag: v262.3, commit: <sha or null>}
    jobs:
      nats:
        spec: release/jobs/nats/spec                       # path in the upstream repo
        commit: <sha>                                      # optional: the stored version the data was read at
        templates: [release/jobs/nats/templates/nats.yml.erb]
        properties:                                        # every property the spec declares
          nats.user: {}                                    # no default
          nats.port: {default: 4222}
        required: [nats.user, nats.password]               # p("x") without default, no spec default
        conditions:                                        # optional: p("x") inside `if p("y") == v` (or unless)
          - {if: {blobstore.provider: s3}, required: [blobstore.bucket_name]}
        read_at: {<template>: <sha>}                       # optional: the stored version each template was read at
        fingerprint: <sha1>                                # optional: the job's fingerprint in the release record
        complete: false                                    # optional: properties lists only part of the spec
        unbound: <what the templates read>                 # optional: spec declares no properties, templates read some

This project's own CPI release (`bosh-cloudstack-cpi`) is not kept as a file: its job spec is built from
cpi/release/properties.py, whatever version the manifest names.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cpi.release.builder import JOB as CPI_JOB_NAME
from cpi.release.builder import RELEASE_NAME as CPI_RELEASE_NAME
from cpi.release.properties import ALL_PROPERTIES as CPI_PROPERTIES

RELEASES_DIR = Path(__file__).parent / "releases"
NO_DEFAULT = object()


class JobSpecError(Exception):
    """A spec data file is malformed (a bug in the project's data, reported with its file)."""


@dataclass(frozen=True)
class Condition:
    """Properties a template reads with p() only when `prop` is (or, `negate`, is not) `value`."""
    prop: str
    value: Any
    negate: bool
    required: frozenset[str]

    def applies(self, value: Any) -> bool:
        return (value == self.value) != self.negate

    def __str__(self) -> str:
        return f"{self.prop} is {'not ' if self.negate else ''}{self.value!r}"


@dataclass(frozen=True)
class JobSpec:
    name: str
    properties: dict[str, Any]  # property name -> its default, NO_DEFAULT when it has none
    required: frozenset[str]
    spec_path: str = ""
    templates: tuple[str, ...] = ()
    complete: bool = True  # False: `properties` lists only part of what the spec declares (data file says why)
    unbound: str = ""  # the spec declares no properties, yet its templates read some (what they read)
    commit: str = ""  # the stored version of `spec_path` the properties were read at ("" when not recorded)
    conditions: tuple[Condition, ...] = ()

    def default(self, prop: str) -> Any:
        return self.properties.get(prop, NO_DEFAULT)


@dataclass(frozen=True)
class ReleaseSpec:
    name: str
    version: str
    source: dict[str, Any]
    jobs: dict[str, JobSpec] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        """`repo@tag` the data was read from."""
        return f"{self.source.get('repo', '?')}@{self.source.get('tag', '?')}"


def _job(path: Path, name: str, raw: Any) -> JobSpec:
    if not isinstance(raw, dict) or not isinstance(raw.get("properties", {}), dict):
        raise JobSpecError(f"{path}: jobs.{name} must be a mapping with a properties mapping")
    props: dict[str, Any] = {}
    for prop, meta in (raw.get("properties") or {}).items():
        meta = meta or {}
        if not isinstance(meta, dict):
            raise JobSpecError(f"{path}: jobs.{name}.properties.{prop} must be a mapping ({{}} or {{default: ...}})")
        props[str(prop)] = meta["default"] if "default" in meta else NO_DEFAULT
    required = _required(path, f"jobs.{name}.required", raw.get("required"), props)
    conditions = tuple(_condition(path, f"jobs.{name}.conditions[{n}]", item, props)
                       for n, item in enumerate(raw.get("conditions") or []))
    return JobSpec(name, props, required, str(raw.get("spec", "")), tuple(raw.get("templates") or ()),
                   raw.get("complete", True) is not False, str(raw.get("unbound") or ""), str(raw.get("commit") or ""),
                   conditions)


def _required(path: Path, where: str, names: Any, props: dict[str, Any]) -> frozenset[str]:
    required = frozenset(names or [])
    undeclared = sorted(required - set(props))
    if undeclared:
        raise JobSpecError(f"{path}: {where} names undeclared properties {undeclared}")
    defaulted = sorted(p for p in required if props[p] is not NO_DEFAULT)
    if defaulted:
        raise JobSpecError(f"{path}: {where} names properties with a spec default {defaulted}")
    return required


def _condition(path: Path, where: str, raw: Any, props: dict[str, Any]) -> Condition:
    test = raw.get("if", raw.get("unless")) if isinstance(raw, dict) else None
    if not isinstance(test, dict) or len(test) != 1 or ("if" in raw) == ("unless" in raw):
        raise JobSpecError(f"{path}: {where} must be {{if: {{prop: value}}, required: [...]}} (or unless:)")
    (prop, value), = test.items()
    if prop not in props:
        raise JobSpecError(f"{path}: {where} tests undeclared property {prop!r}")
    return Condition(str(prop), value, "unless" in raw, _required(path, f"{where}.required", raw.get("required"), props))


def _load_file(path: Path, release: str, version: str) -> ReleaseSpec:
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not isinstance(data.get("source"), dict) or not isinstance(data.get("jobs"), dict):
        raise JobSpecError(f"{path}: expected a mapping with source: and jobs:")
    jobs = {str(name): _job(path, str(name), raw) for name, raw in data["jobs"].items()}
    return ReleaseSpec(release, version, data["source"], jobs)


def _cpi_release(version: str) -> ReleaseSpec:
    props = {p.name: (p.default if p.has_default else NO_DEFAULT) for p in CPI_PROPERTIES}
    required = frozenset(p.name for p in CPI_PROPERTIES if p.required)
    job = JobSpec(CPI_JOB_NAME, props, required, "cpi/release/properties.py")
    return ReleaseSpec(CPI_RELEASE_NAME, version, {"repo": "this project", "tag": version}, {CPI_JOB_NAME: job})


def known_versions(release: str) -> list[str]:
    """Versions of `release` whose job specs the project keeps (empty: none)."""
    folder = RELEASES_DIR / release
    return sorted(p.stem for p in folder.glob("*.yml")) if folder.is_dir() else []


def has_specs(release: str) -> bool:
    """Whether the project knows any version of `release` (its own CPI release counts)."""
    return release == CPI_RELEASE_NAME or bool(known_versions(release))


@functools.lru_cache(maxsize=None)
def load_release(release: str, version: str) -> ReleaseSpec | None:
    """The job specs of `release` at `version`; None when the project does not keep them."""
    if release == CPI_RELEASE_NAME:
        return _cpi_release(version)
    path = RELEASES_DIR / release / f"{version}.yml"
    if not path.is_file() or "/" in version or version.startswith("."):
        return None
    return _load_file(path, release, version)
