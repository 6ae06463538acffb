"""Release version and commit: the project version, with a `+dev.<commit>` suffix unless HEAD is tagged v<version>."""
from __future__ import annotations

import importlib.metadata
import subprocess
from dataclasses import dataclass
from pathlib import Path

PROJECT = "cloudstack-inception"
#: What goes into the release: a change here makes `uncommitted_changes` true.
RELEASE_SOURCES = ("cpi", "pyproject.toml")


@dataclass(frozen=True)
class ReleaseVersion:
    version: str
    commit_hash: str
    uncommitted_changes: bool


def project_version() -> str:
    return importlib.metadata.version(PROJECT)


def release_version(source_root: Path, explicit: str | None = None) -> ReleaseVersion:
    """The version to build: `explicit` when given; else from the project version and git (when `source_root` is a
    git work tree; outside one the project version as is, commit "unknown")."""
    base = project_version()
    commit = _git(source_root, "rev-parse", "--short=8", "HEAD")
    if commit is None:
        return ReleaseVersion(explicit or base, "unknown", False)
    dirty = bool(_git(source_root, "status", "--porcelain", "--", *RELEASE_SOURCES))
    if explicit:
        return ReleaseVersion(explicit, commit, dirty)
    tags = (_git(source_root, "tag", "--points-at", "HEAD") or "").split()
    final = f"v{base}" in tags and not dirty
    return ReleaseVersion(base if final else f"{base}+dev.{commit}", commit, dirty)


def _git(root: Path, *args: str) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() if result.returncode == 0 else None
