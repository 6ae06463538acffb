"""Build `bosh-cloudstack-cpi-<version>.tgz`: job `cloudstack_cpi` and package `cloudstack_cpi` (see docs/release.md).

Layout, as bosh-cli reads it (release/manifest, release/job, release/pkg):
  release.MF                    name, version, commit_hash, uncommitted_changes, jobs[], packages[]
  jobs/cloudstack_cpi.tgz       job.MF (= the job spec), monit, templates/cpi.erb, templates/cpi.json.erb
  packages/cloudstack_cpi.tgz   packaging, wheels/*.whl
"""
from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

import cpi
from cpi.release.archive import Entry, fingerprint, release_digest, write_tgz
from cpi.release.properties import ALL_PROPERTIES, spec_properties
from cpi.release.version import ReleaseVersion, project_version, release_version
from cpi.release.wheels import build_cpi_wheel, collect_dependency_wheels, default_cache_dir

RELEASE_NAME = "bosh-cloudstack-cpi"
JOB = "cloudstack_cpi"
PACKAGE = "cloudstack_cpi"
TEMPLATES = {"cpi.erb": "bin/cpi", "cpi.json.erb": "config/cpi.json"}


@dataclass(frozen=True)
class BuiltRelease:
    path: Path
    version: ReleaseVersion
    manifest: dict


def build_release(
    output_dir: Path,
    *,
    version: str | None = None,
    wheel_cache: Path | None = None,
    offline: bool = False,
    sha2: bool = False,
    log: Callable[[str], None] = lambda _: None,
) -> BuiltRelease:
    """Write the release tarball into `output_dir` (created if missing) and return where it is and what it holds."""
    source_root = Path(cpi.__file__).resolve().parents[1]
    rv = release_version(source_root, version)
    wheels = collect_dependency_wheels(wheel_cache or default_cache_dir(), offline=offline, log=log)
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cpi-release-") as tmp:
        work = Path(tmp)
        (work / "jobs").mkdir()
        (work / "packages").mkdir()
        # The CPI wheel carries the project version, not the release's: its bytes (and so the package fingerprint
        # create-env caches compiled packages by) change only when the CPI's sources do.
        wheels.append(build_cpi_wheel(work, project_version()))

        package_entries = [Entry("packaging", data=_file("packaging"))]
        package_entries += [Entry(f"wheels/{wheel.name}", source=wheel) for wheel in wheels]
        package_tgz = work / "packages" / f"{PACKAGE}.tgz"
        write_tgz(package_tgz, package_entries)
        package_fp = fingerprint(package_entries, extra=[], modeless={"packaging"})

        job_entries = [
            Entry("job.MF", data=job_spec().encode()),
            Entry("monit", data=b""),
            Entry("templates/cpi.erb", data=_file("cpi.erb")),
            Entry("templates/cpi.json.erb", data=cpi_json_template().encode()),
        ]
        job_tgz = work / "jobs" / f"{JOB}.tgz"
        write_tgz(job_tgz, job_entries)
        job_fp = fingerprint(job_entries)

        manifest = {
            "name": RELEASE_NAME,
            "version": rv.version,
            "commit_hash": rv.commit_hash,
            "uncommitted_changes": rv.uncommitted_changes,
            "jobs": [{"name": JOB, "version": job_fp, "fingerprint": job_fp,
                      "sha1": release_digest(job_tgz, sha2), "packages": [PACKAGE]}],
            "packages": [{"name": PACKAGE, "version": package_fp, "fingerprint": package_fp,
                          "sha1": release_digest(package_tgz, sha2), "dependencies": []}],
        }
        release_mf = yaml.safe_dump(manifest, sort_keys=False).encode()
        dest = output_dir / f"{RELEASE_NAME}-{rv.version}.tgz"
        write_tgz(dest, [
            Entry("release.MF", data=release_mf),
            Entry(f"jobs/{JOB}.tgz", source=job_tgz),
            Entry(f"packages/{PACKAGE}.tgz", source=package_tgz),
        ])
    log(f"wrote {dest}")
    return BuiltRelease(dest, rv, manifest)


def job_spec() -> str:
    """The job spec (job.MF): templates, packages and every property with its description and default."""
    spec = {"name": JOB, "templates": dict(TEMPLATES), "packages": [PACKAGE], "properties": spec_properties()}
    return yaml.safe_dump(spec, sort_keys=False, width=120)


def cpi_json_template() -> str:
    """templates/cpi.json.erb with the property names of the job spec filled in."""
    required = [p.name for p in ALL_PROPERTIES if p.required]
    optional = [p.name for p in ALL_PROPERTIES if not p.required]
    text = _file("cpi.json.erb.in").decode()
    return text.replace("@REQUIRED@", json.dumps(required)).replace("@OPTIONAL@", json.dumps(optional))


def _file(name: str) -> bytes:
    return resources.files("cpi.release").joinpath("files", name).read_bytes()
