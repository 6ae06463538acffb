"""One real release build per session (wheels from the shared cache; downloaded once on a new machine), extracted."""
from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cpi.release import BuiltRelease, build_release
from cpi.release.wheels import default_cache_dir


@dataclass(frozen=True)
class Extracted:
    built: BuiltRelease
    root: Path  # the release tarball, extracted
    job: Path  # jobs/cloudstack_cpi.tgz, extracted
    package: Path  # packages/cloudstack_cpi.tgz, extracted
    manifest: dict


def extract(archive: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(dest, filter="data")
    return dest


@pytest.fixture(scope="session")
def release(tmp_path_factory: pytest.TempPathFactory) -> Extracted:
    out = tmp_path_factory.mktemp("release")
    built = build_release(out / "dist", wheel_cache=default_cache_dir())
    root = extract(built.path, out / "release")
    return Extracted(
        built=built,
        root=root,
        job=extract(root / "jobs" / "cloudstack_cpi.tgz", out / "job"),
        package=extract(root / "packages" / "cloudstack_cpi.tgz", out / "package"),
        manifest=yaml.safe_load((root / "release.MF").read_text()),
    )
