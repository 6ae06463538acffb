"""What a configured stemcell is: its name and version (as a director lists it) and its operating system.

Name and version: `stemcell.name`/`version`; else the stemcell.MF inside a local `stemcell.file`; else the file
name bosh-linux-stemcell-builder gives its tarball (`bosh-stemcell-<version>-<stemcell name>.tgz`, where the
stemcell.MF name is `bosh-<stemcell name>`: bosh-stemcell/lib/bosh/stemcell/archive_filename.rb, definition.rb
and stemcell_packager.rb) or a bosh.io download URL (`/d/stemcells/<name>?v=<version>`).

Operating system: `stemcell.os`; the `operating_system` of stemcell.MF inside a local `stemcell.file`; Ubuntu
code names or versions in the stemcell name, url or file name. 'ubuntu-precise' (12.04) and 'ubuntu-trusty'
(14.04) trigger the Ubuntu 12.04 patch in the cf manifest.
"""
from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import yaml

from inception.config.loader import ProjectConfig

_UBUNTU = {"10.04": "lucid", "12.04": "precise", "14.04": "trusty", "16.04": "xenial", "18.04": "bionic",
           "20.04": "focal", "22.04": "jammy", "24.04": "noble"}
_CODENAME = re.compile(r"\b(?:ubuntu[-_]?)?(" + "|".join(_UBUNTU.values()) + r")\b")
_VERSION = re.compile(r"ubuntu[-_ ]?(" + "|".join(re.escape(v) for v in _UBUNTU) + r")")


def _from_text(text: str) -> str | None:
    lowered = text.lower().replace("_", "-")
    match = _CODENAME.search(lowered.replace("-", " "))
    if match:
        return f"ubuntu-{match.group(1)}"
    match = _VERSION.search(lowered)
    return f"ubuntu-{_UBUNTU[match.group(1)]}" if match else None


_BUILDER_FILE = re.compile(r"^(?:light-)?bosh-stemcell-(\d+(?:\.\d+)*)-(.+)\.tgz$")
_BOSH_IO = re.compile(r"^/d/stemcells/(bosh-[^/]+)$")


def _stemcell_mf(path: Path) -> dict[str, Any]:
    """The stemcell.MF of a local tarball ({} when it is not one)."""
    try:
        with tarfile.open(path) as tar:
            # members in archive order, stopping at stemcell.MF, which the builder archives first
            # (stemcell_packager.rb: `tar zcf <tarball> stemcell.MF packages.txt ... image ...`): getmembers()
            # would decompress the whole tarball, hundreds of MB, to list it
            member = next((m for m in tar if m.name.lstrip("./") == "stemcell.MF"), None)
            handle = tar.extractfile(member) if member else None
            manifest = yaml.safe_load(handle.read()) if handle else None
    except (OSError, tarfile.TarError, yaml.YAMLError):
        return {}
    return manifest if isinstance(manifest, dict) else {}


def _from_tarball(path: Path) -> str | None:
    return _stemcell_mf(path).get("operating_system")


def _named(spec: dict[str, Any]) -> tuple[str, str] | None:
    """(name, version) from the builder's tarball name in `file` or `url`, or a bosh.io stemcell URL."""
    for text in (spec.get("file", ""), spec.get("url", "")):
        match = _BUILDER_FILE.match(Path(urlparse(text).path).name) if text else None
        if match:
            return f"bosh-{match.group(2)}", match.group(1)
    url = urlparse(spec.get("url", ""))
    match = _BOSH_IO.match(url.path) if url.hostname == "bosh.io" else None
    if match:
        return match.group(1), (parse_qs(url.query).get("v") or ["latest"])[0]
    return None


def stemcell_identity(config: ProjectConfig) -> tuple[str, str] | None:
    """(name, version) of the configured stemcell as the director will list it, or None when nothing tells."""
    spec = config.get("stemcell") or {}
    if spec.get("name"):
        return spec["name"], str(spec.get("version", "latest"))
    if spec.get("file") and Path(spec["file"]).is_file():
        manifest = _stemcell_mf(Path(spec["file"]))
        if manifest.get("name") and manifest.get("version") is not None:
            return str(manifest["name"]), str(manifest["version"])
    found = _named(spec)
    if found and spec.get("version") is not None:
        return found[0], str(spec["version"])
    return found


def stemcell_os(config: ProjectConfig) -> str | None:
    """'ubuntu-precise', 'ubuntu-trusty', ... or None when nothing tells."""
    spec = config.get("stemcell") or {}
    if spec.get("os"):
        return spec["os"]
    if spec.get("file") and Path(spec["file"]).is_file():
        found = _from_tarball(Path(spec["file"]))
        if found:
            return found
    for text in (spec.get("name", ""), spec.get("url", ""), Path(spec.get("file", "")).name):
        found = _from_text(text) if text else None
        if found:
            return found
    return None


# Ubuntu releases that keep the NFS rpc_pipefs at /run/rpc_pipefs (12.04 and 14.04, cf-release commit c51b60ac7):
# the Ubuntu 12.04 patch (manifests/ops/ubuntu-precise.yml) is needed on their stemcells.
RUN_PIPEFS_OS = ("ubuntu-precise", "ubuntu-trusty")
