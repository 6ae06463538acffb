"""Installing the bosh CLI on the VM: sha256 verified in both download modes, mismatches leave nothing."""
from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from inception.remote.bosh_cli import BoshCliSource, install_bosh_cli
from inception.remote.errors import ChecksumMismatchError, RemoteCommandError
from inception.remote.ssh import RemoteHost
from testkit.fake_bosh import fake_bosh_bytes, recorded_calls
from testkit.fileserver import FileServer


@pytest.fixture(scope="module")
def bosh_source(fileserver: FileServer) -> BoshCliSource:
    data = fake_bosh_bytes()
    return BoshCliSource(url=fileserver.add("bosh-cli-7.9.9-linux-amd64", data), sha256=hashlib.sha256(data).hexdigest())


@pytest.mark.parametrize("download", ["vm", "local"])
def test_install_verifies_and_is_idempotent(remote: RemoteHost, bosh_source: BoshCliSource, fileserver: FileServer,
                                            env_name: str, tmp_path: Path, download: str) -> None:
    dest = f"{remote.home}/{env_name}/bin/bosh"
    steps: list[str] = []
    before = fileserver.requests.get("bosh-cli-7.9.9-linux-amd64", 0)
    assert install_bosh_cli(remote, bosh_source, path=dest, download=download, cache_dir=tmp_path / "cache",
                            on_step=steps.append) == dest
    assert hashlib.sha256(Path(dest).read_bytes()).hexdigest() == bosh_source.sha256
    assert stat.S_IMODE(os.stat(dest).st_mode) == 0o755
    assert sorted(os.listdir(os.path.dirname(dest))) == ["bosh", "bosh.log.jsonl"]  # no temporary download left
    assert [call["argv"] for call in recorded_calls(dest)] == [["--version"]]
    assert steps[-1] == "installed bosh CLI version 7.9.9-fake-test-double"
    assert fileserver.requests["bosh-cli-7.9.9-linux-amd64"] == before + 1
    if download == "local":
        assert (tmp_path / "cache" / "bosh-cli-7.9.9-linux-amd64").read_bytes() == fake_bosh_bytes()

    install_bosh_cli(remote, bosh_source, path=dest, download=download, cache_dir=tmp_path / "cache",
                     on_step=steps.append)
    assert steps[-1] == f"bosh CLI already installed at {dest}"
    assert fileserver.requests["bosh-cli-7.9.9-linux-amd64"] == before + 1


@pytest.mark.parametrize("download", ["vm", "local"])
def test_checksum_mismatch_refuses_and_leaves_nothing(remote: RemoteHost, bosh_source: BoshCliSource,
                                                      env_name: str, tmp_path: Path, download: str) -> None:
    bad = BoshCliSource(url=bosh_source.url, sha256="0" * 64)
    dest = f"{remote.home}/{env_name}/bin/bosh"
    with pytest.raises(ChecksumMismatchError) as caught:
        install_bosh_cli(remote, bad, path=dest, download=download, cache_dir=tmp_path / "cache")
    assert caught.value.actual == bosh_source.sha256 and caught.value.expected == "0" * 64
    assert "bosh CLI" in str(caught.value) and "refused" in str(caught.value)
    assert not os.path.exists(dest)
    assert os.listdir(os.path.dirname(dest)) == []  # no temporary download left on the VM
    cache = tmp_path / "cache"
    assert not cache.exists() or list(cache.iterdir()) == []  # nor here


def test_replaces_a_different_binary(remote: RemoteHost, bosh_source: BoshCliSource, env_name: str) -> None:
    dest = f"{remote.home}/{env_name}/bin/bosh"
    remote.makedirs(os.path.dirname(dest))
    remote.put_bytes(b"#!/bin/sh\necho old\n", dest, mode=0o755)
    install_bosh_cli(remote, bosh_source, path=dest)
    assert Path(dest).read_bytes() == fake_bosh_bytes()


def test_download_failure_is_a_clear_error(remote: RemoteHost, fileserver: FileServer, env_name: str) -> None:
    missing = BoshCliSource(url=fileserver.url("no-such-file"), sha256="1" * 64)
    dest = f"{remote.home}/{env_name}/bin/bosh"
    with pytest.raises(RemoteCommandError, match="404"):
        install_bosh_cli(remote, missing, path=dest)
    assert os.listdir(os.path.dirname(dest)) == []


def test_bad_checksum_format_is_refused_up_front() -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        BoshCliSource(url="http://127.0.0.1/bosh", sha256="abc")
