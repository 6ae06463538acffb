"""The release tarball as bosh-cli reads it: release.MF, digests, fingerprints, job.MF, templates, package files."""
from __future__ import annotations

import base64
import hashlib
import re
import tarfile
import zipfile
from pathlib import Path

import yaml
from typer.testing import CliRunner

from cpi.config import SCHEMA
from cpi.release import build_release
from cpi.release.archive import file_digest
from cpi.release.builder import job_spec
from cpi import config_names
from cpi.release.properties import ALL_PROPERTIES
from cpi.release.wheels import PYTHONS, default_cache_dir
from inception.cli import app
from tests.release.conftest import Extracted


def test_release_manifest(release: Extracted) -> None:
    mf = release.manifest
    assert mf["name"] == "bosh-cloudstack-cpi"
    assert re.fullmatch(r"0\.1\.0(\+dev\.[0-9a-f]{8})?", mf["version"])
    assert release.built.path.name == f"bosh-cloudstack-cpi-{mf['version']}.tgz"
    assert re.fullmatch(r"[0-9a-f]{8}", mf["commit_hash"])
    assert isinstance(mf["uncommitted_changes"], bool)
    assert [j["name"] for j in mf["jobs"]] == ["cloudstack_cpi"]
    assert mf["jobs"][0]["packages"] == ["cloudstack_cpi"]
    assert [p["name"] for p in mf["packages"]] == ["cloudstack_cpi"]
    assert mf["packages"][0]["dependencies"] == []
    for ref in mf["jobs"] + mf["packages"]:
        assert re.fullmatch(r"[0-9a-f]{64}", ref["fingerprint"]) and ref["version"] == ref["fingerprint"]
    with tarfile.open(release.built.path) as tar:
        names = sorted(m.name for m in tar.getmembers() if m.isfile())
    assert names == ["./jobs/cloudstack_cpi.tgz", "./packages/cloudstack_cpi.tgz", "./release.MF"]


def test_every_digest_matches(release: Extracted) -> None:
    job, package = release.manifest["jobs"][0], release.manifest["packages"][0]
    assert job["sha1"] == file_digest(release.root / "jobs" / "cloudstack_cpi.tgz", "sha1")
    assert package["sha1"] == file_digest(release.root / "packages" / "cloudstack_cpi.tgz", "sha1")


def test_job_archive(release: Extracted) -> None:
    files = sorted(str(p.relative_to(release.job)) for p in release.job.rglob("*") if p.is_file())
    assert files == ["job.MF", "monit", "templates/cpi.erb", "templates/cpi.json.erb"]
    spec = yaml.safe_load((release.job / "job.MF").read_text())
    assert (release.job / "job.MF").read_text() == job_spec()
    assert spec["name"] == "cloudstack_cpi"
    assert spec["templates"] == {"cpi.erb": "bin/cpi", "cpi.json.erb": "config/cpi.json"}
    assert spec["packages"] == ["cloudstack_cpi"]
    for name, definition in spec["properties"].items():
        assert definition["description"], name
    # a default for a key other CPIs' names also set would clash with them: the CPI applies it, the text says it
    assert "default" not in spec["properties"]["cloudstack.state_timeout"]
    assert "(default 600)" in spec["properties"]["cloudstack.state_timeout"]["description"]
    assert spec["properties"]["cloudstack.stemcell_upload"]["default"] == "auto"
    assert "default" not in spec["properties"]["cloudstack.endpoint"]
    assert (release.job / "monit").read_bytes() == b""


def test_spec_declares_exactly_the_cpi_config_keys_and_every_accepted_name() -> None:
    sections = SCHEMA["properties"]["cloud"]["properties"]["properties"]["properties"]
    expected = {f"{section}.{key}" for section in ("cloudstack", "agent") for key in sections[section]["properties"]}
    others = (set(config_names.SYNONYMS) | set(config_names.NO_EFFECT) | set(config_names.UNSUPPORTED)
              | {config_names.GLOBAL_TIMEOUT, config_names.METADATA_SERVER})
    expected |= {f"cloudstack.{name}" for name in others} | {config_names.TOP_LEVEL_NTP}
    assert {p.name for p in ALL_PROPERTIES} == expected
    # bosh-deployment's cloudstack/cpi.yml (cloudfoundry/bosh-deployment@0dbff9b2) and auto-anti-affinity.yml
    for name in ("stemcell.public_visibility", "stemcell.requires_hvm", "stemcell.os_type", "timeout.global",
                 "timeout.attach_volume", "timeout.delete_snapshot_volume", "timeout.poll_template", "proxy_host",
                 "clean_disk", "interval_clean_disk", "expunge_vm", "calculate.not_compute_tags",
                 "default_offer.custom_disk", "private_key", "enable_auto_anti_affinity"):
        assert f"cloudstack.{name}" in expected, name
    required = set(sections["cloudstack"]["required"])
    assert {p.key for p in ALL_PROPERTIES if p.required} == required


def test_package_archive(release: Extracted) -> None:
    packaging = release.package / "packaging"
    assert packaging.read_text().startswith("# cloudstack_cpi")
    wheels = sorted(p.name for p in (release.package / "wheels").iterdir())
    assert {p.name for p in release.package.iterdir()} == {"packaging", "wheels"}
    for dist in ("pip", "cs", "requests", "urllib3", "idna", "certifi", "jsonschema", "referencing", "attrs"):
        assert any(w.startswith(f"{dist}-") for w in wheels), dist
    for version in PYTHONS:
        tag = "cp" + version.replace(".", "")
        assert any(w.startswith("rpds_py-") and f"-{tag}-" in w for w in wheels), tag
        assert any(w.startswith("isal-") and f"-{tag}-" in w for w in wheels), tag
    for unwanted in ("typer", "rich", "paramiko", "cryptography", "PyYAML", "pyyaml"):
        assert not any(w.lower().startswith(unwanted.lower() + "-") for w in wheels), unwanted


def test_cpi_wheel_is_valid_and_leaves_the_builder_out(release: Extracted) -> None:
    [wheel] = (release.package / "wheels").glob("cloudstack_cpi-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/RECORD"))
        record = archive.read(f"{dist_info}/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if not digest:
                continue
            data = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(data), name
        assert len(record) == len(names)
        metadata = archive.read(f"{dist_info}/METADATA").decode()
    assert "cpi/main.py" in names and "cpi/stemcell/writer.py" in names
    assert not any(n.startswith(("cpi/release/", "cpi/lifecycle.py")) or "__pycache__" in n for n in names)
    requires = sorted(re.match(r"[A-Za-z0-9_.-]+", line.split(": ", 1)[1]).group(0)
                      for line in metadata.splitlines() if line.startswith("Requires-Dist"))
    assert requires == ["cs", "jsonschema", "requests"]


def _members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_builds_are_reproducible_and_sha2_is_optional(tmp_path: Path) -> None:
    # Two builds back to back (other work in this tree may commit or edit sources between distant builds).
    first = build_release(tmp_path / "first", version="1.0.0", wheel_cache=default_cache_dir(), offline=True)
    second = build_release(tmp_path / "second", version="1.0.0", wheel_cache=default_cache_dir(), offline=True,
                           sha2=True)
    one, two = _members(first.path), _members(second.path)
    for name in ("./jobs/cloudstack_cpi.tgz", "./packages/cloudstack_cpi.tgz"):
        assert one[name] == two[name], name  # byte-identical: fixed times, owners, order, gzip header
    mf1, mf2 = yaml.safe_load(one["./release.MF"]), yaml.safe_load(two["./release.MF"])
    assert mf1["packages"][0]["fingerprint"] == mf2["packages"][0]["fingerprint"]
    assert mf1["jobs"][0]["fingerprint"] == mf2["jobs"][0]["fingerprint"]
    assert mf2["packages"][0]["sha1"] == "sha256:" + hashlib.sha256(two["./packages/cloudstack_cpi.tgz"]).hexdigest()
    assert mf1["packages"][0]["sha1"] == hashlib.sha1(one["./packages/cloudstack_cpi.tgz"]).hexdigest()


def test_cli_build(release: Extracted, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "release", "build", "--output", str(tmp_path), "--wheel-cache", str(default_cache_dir()), "--offline",
        "--version", "9.9.9",
    ])
    assert result.exit_code == 0, result.output
    built = tmp_path / "bosh-cloudstack-cpi-9.9.9.tgz"
    assert built.is_file()
    assert file_digest(built, "sha1") in result.output.replace("\n", "")


def test_cli_offline_without_cache_fails_clearly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, [
        "release", "build", "--output", str(tmp_path / "out"), "--wheel-cache", str(tmp_path / "empty"), "--offline",
    ])
    assert result.exit_code == 1
    assert "release build failed" in result.output and "offline" in result.output
    assert "Traceback" not in result.output
