"""Which operating system a configured stemcell runs: explicit `stemcell.os`, else detected.

Detection order: `stemcell.os`; the `operating_system` of stemcell.MF inside a local `stemcell.file`;
Ubuntu code names or versions in the stemcell name, url or file name. 'ubuntu-precise' (12.04) and
'ubuntu-trusty' (14.04) trigger the Ubuntu 12.04 patch in the cf manifest.
"""
from __future__ import annotations

import re
import tarfile
from pathlib import Path

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


def _from_tarball(path: Path) -> str | None:
    try:
        with tarfile.open(path) as tar:
            member = next((m for m in tar.getmembers() if m.name.lstrip("./") == "stemcell.MF"), None)
            handle = tar.extractfile(member) if member else None
            manifest = yaml.safe_load(handle.read()) if handle else None
    except (OSError, tarfile.TarError, yaml.YAMLError):
        return None
    return manifest.get("operating_system") if isinstance(manifest, dict) else None


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
