"""The bootstrap steps against a real sshd with the bosh CLI test double: exact commands, uploaded files and
their checksums, live output, state and creds brought back 0600, idempotent re-runs, delete-env, deploy."""
from __future__ import annotations

import fcntl
import hashlib
import io
import json
import logging
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from inception.remote.bootstrap import (
    Artifact,
    DirectorAccess,
    DirectorFiles,
    RemoteLayout,
    bootstrap_director,
    create_env,
    delete_env,
    deploy,
    prepare_workspace,
)
from inception.remote.bosh_cli import BoshCliSource, install_bosh_cli
from inception.remote.errors import ChecksumMismatchError, RemoteCommandError, RemoteError
from inception.remote.ssh import RemoteHost
from testkit.fake_bosh import fake_bosh_bytes, recorded_calls
from testkit.fileserver import FileServer
from testkit.sshd import RunningSshd

CREATE_ENV_LINES = ["Started validating", "Finished validating (00:00:00)", "Started installing CPI",
                    "Started deploying", "Finished deploying (00:00:00)", "Succeeded"]


def sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def mode(path: Path | str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def tarball(path: Path, members: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.fixture(scope="module")
def bosh_source(fileserver: FileServer) -> BoshCliSource:
    data = fake_bosh_bytes()
    return BoshCliSource(url=fileserver.add("bosh-cli-linux-amd64", data), sha256=hashlib.sha256(data).hexdigest())


@dataclass
class Env:
    remote: RemoteHost
    layout: RemoteLayout
    bosh: str
    files: DirectorFiles
    release: Artifact
    stemcell: Artifact
    ops_file: Path


@pytest.fixture
def env(remote: RemoteHost, env_name: str, bosh_source: BoshCliSource, tmp_path: Path) -> Env:
    local = tmp_path / "local"
    secrets = local / "secrets"
    secrets.mkdir(parents=True)
    manifest = secrets / "micro-bosh.yml"
    manifest.write_text("name: bosh\nreleases:\n- name: cloudstack-cpi\n  url: file://releases/cpi.tgz\n")
    creds = secrets / "creds.yml"
    creds.write_text("admin_password: from-local-store\n")
    creds.chmod(0o600)
    ops = local / "director-ops.yml"
    ops.write_text("- type: replace\n  path: /name\n  value: micro\n")
    release = tarball(local / "cpi.tgz", {"release.MF": b"name: cloudstack-cpi\nversion: 0+dev.1\n",
                                          "jobs/cloudstack_cpi.tgz": os.urandom(2048)})
    stemcell = tarball(local / "stemcell.tgz", {"stemcell.MF": b"name: bosh-cloudstack-kvm\nversion: '1.0'\n",
                                                "image": os.urandom(50_000)})
    bosh = install_bosh_cli(remote, bosh_source, path=f"{remote.home}/{env_name}-bin/bosh")
    return Env(remote, prepare_workspace(remote, env_name), bosh,
               DirectorFiles(manifest=manifest, vars_store=creds, state=secrets / "bosh-state.json", ops_files=(ops,)),
               Artifact.from_file(release), Artifact.from_file(stemcell), ops)


def run_create_env(env: Env, lines: list[tuple[str, str]] | None = None, steps: list[str] | None = None):
    return create_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release],
                      stemcell=env.stemcell, on_output=lambda s, line: lines.append((s, line)) if lines is not None else None,
                      on_step=steps.append if steps is not None else lambda _m: None)


def test_create_env_runs_the_expected_command_with_the_uploaded_files(env: Env) -> None:
    local_creds = env.files.vars_store.read_text()
    lines: list[tuple[str, str]] = []
    result = run_create_env(env, lines)
    root = env.layout.root

    calls = [c for c in recorded_calls(env.bosh) if c["argv"] != ["--version"]]
    assert [c["argv"] for c in calls] == [["create-env", "manifest.yml", "--state", "state.json",
                                           "--vars-store", "creds.yml", "-o", "ops/director-ops.yml"]]
    call = calls[0]
    assert call["cwd"] == root
    assert call["files"]["manifest.yml"] == sha256(env.files.manifest)
    assert call["files"]["ops/director-ops.yml"] == sha256(env.ops_file)
    assert call["files"]["creds.yml"] == hashlib.sha256(local_creds.encode()).hexdigest()
    assert sha256(f"{root}/releases/cpi.tgz") == sha256(env.release.local_path)
    assert sha256(f"{root}/stemcells/stemcell.tgz") == sha256(env.stemcell.local_path)
    assert mode(root) == 0o700
    assert {mode(f"{root}/{p}") for p in ("manifest.yml", "creds.yml", "releases/cpi.tgz")} == {0o600}

    stdout = [line for stream, line in lines if stream == "stdout"]
    assert [line for line in stdout if line in CREATE_ENV_LINES] == CREATE_ENV_LINES
    assert stdout[0] == f"Deployment manifest: '{root}/manifest.yml'"

    assert mode(env.files.state) == 0o600 and mode(env.files.vars_store) == 0o600
    state = json.loads(env.files.state.read_text())
    assert state == result.state and state["current_vm_cid"] and state["disks"][0]["cid"]
    assert env.files.state.read_bytes() == Path(f"{root}/state.json").read_bytes()
    creds = env.files.vars_store.read_text()
    assert creds.startswith(local_creds) and "fake_generated_password:" in creds
    assert sorted(result.sync.uploaded) == sorted(f"{root}/{p}" for p in (
        "releases/cpi.tgz", "stemcells/stemcell.tgz", "manifest.yml", "creds.yml", "ops/director-ops.yml"))
    assert not any(".part-" in name for _, _, names in os.walk(root) for name in names)


def test_rerun_skips_what_is_already_there(env: Env) -> None:
    first = run_create_env(env)
    steps: list[str] = []
    second = run_create_env(env, steps=steps)
    assert second.sync.uploaded == []
    assert len(second.sync.unchanged) == 5
    assert "uploading" not in " ".join(steps)
    assert second.state["current_vm_cid"] == first.state["current_vm_cid"]

    env.files.manifest.write_text(env.files.manifest.read_text() + "# changed\n")
    third = run_create_env(env)
    assert third.sync.uploaded == [f"{env.layout.root}/manifest.yml"]


def test_state_on_the_vm_wins_over_a_stale_local_copy(env: Env) -> None:
    first = run_create_env(env)
    env.files.state.write_text('{"current_vm_cid": "stale"}')  # e.g. an interrupted run never brought it back
    second = run_create_env(env)
    assert second.state["current_vm_cid"] == first.state["current_vm_cid"]
    create = [c for c in recorded_calls(env.bosh) if c["argv"][:1] == ["create-env"]]
    assert create[-1]["files"]["state.json"] == hashlib.sha256(
        json.dumps(first.state, indent=2).encode()).hexdigest()


def test_local_state_is_uploaded_to_a_fresh_vm_workspace(env: Env) -> None:
    run_create_env(env)
    state = env.files.state.read_bytes()
    os.remove(f"{env.layout.root}/state.json")  # e.g. the workspace was lost
    run_create_env(env)
    create = [c for c in recorded_calls(env.bosh) if c["argv"][:1] == ["create-env"]]
    assert create[-1]["files"]["state.json"] == hashlib.sha256(state).hexdigest()


def test_failed_create_env_raises_and_still_brings_back(env: Env) -> None:
    env.files.manifest.write_text(env.files.manifest.read_text() + "# fake-bosh: fail\n")
    lines: list[tuple[str, str]] = []
    with pytest.raises(RemoteCommandError) as caught:
        run_create_env(env, lines)
    assert caught.value.exit_status == 1 and "exactly one job with bin/cpi" in str(caught.value)
    assert ("stdout", "Finished validating (00:00:00)") in lines
    assert ("stderr", "    Expected to find exactly one job with bin/cpi") in lines
    assert mode(env.files.vars_store) == 0o600
    assert not env.files.state.exists()


def test_a_bosh_command_still_running_on_the_vm_blocks_another(env: Env) -> None:
    with open(f"{env.layout.root}/.bosh.lock", "w") as lock:  # the "VM" is this machine: hold its lock
        fcntl.flock(lock, fcntl.LOCK_EX)
        with pytest.raises(RemoteError, match="another bosh command is still running"):
            run_create_env(env)
    assert not [c for c in recorded_calls(env.bosh) if c["argv"][:1] == ["create-env"]]
    assert run_create_env(env).state["current_vm_cid"]


def test_stemcell_downloaded_on_the_vm_is_checked(env: Env, fileserver: FileServer) -> None:
    data = env.stemcell.local_path.read_bytes()
    url = fileserver.add(f"{env.layout.root.rsplit('/', 1)[1]}-stemcell.tgz", data)
    wrong = Artifact.from_url(url, sha1="0" * 40, name="stemcell.tgz")
    with pytest.raises(ChecksumMismatchError):
        create_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release], stemcell=wrong)
    assert os.listdir(f"{env.layout.root}/stemcells") == []
    assert not [c for c in recorded_calls(env.bosh) if c["argv"][:1] == ["create-env"]]

    right = Artifact.from_url(url, sha1=hashlib.sha1(data).hexdigest(), name="stemcell.tgz")
    result = create_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release],
                        stemcell=right)
    assert Path(f"{env.layout.root}/stemcells/stemcell.tgz").read_bytes() == data
    assert f"{env.layout.root}/stemcells/stemcell.tgz" in result.sync.uploaded
    again = create_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release],
                       stemcell=right)
    assert f"{env.layout.root}/stemcells/stemcell.tgz" in again.sync.unchanged


def test_delete_env_uses_the_vm_state_and_forgets_it(env: Env) -> None:
    assert delete_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release]) is False
    run_create_env(env)
    env.files.state.unlink()  # the local copy was lost: the VM's copy still names the director
    lines: list[tuple[str, str]] = []
    assert delete_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release],
                      on_output=lambda s, line: lines.append((s, line))) is True
    call = recorded_calls(env.bosh)[-1]
    assert call["argv"] == ["delete-env", "manifest.yml", "--state", "state.json", "--vars-store", "creds.yml",
                            "-o", "ops/director-ops.yml"]
    assert "state.json" in call["files"]
    assert ("stdout", "Finished deleting deployment (00:00:00)") in lines
    assert not env.files.state.exists() and not os.path.exists(env.layout.state)
    assert delete_env(env.remote, env.layout, bosh=env.bosh, files=env.files, releases=[env.release]) is False


def test_deploy_uploads_and_deploys_with_director_credentials(env: Env, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="inception.remote")
    cf = tmp_path / "cf"
    cf.mkdir()
    manifest = cf / "cf.yml"
    manifest.write_text("name: cf\n")
    cloud_config = cf / "cloud-config.yml"
    cloud_config.write_text("vm_types: []\n")
    ops = cf / "scale.yml"
    ops.write_text("[]\n")
    store = cf / "secrets" / "cf-creds.yml"
    director = DirectorAccess("10.0.0.6", client_secret="director-Secret-123", ca_cert="-----BEGIN CERTIFICATE-----\nX\n")
    lines: list[str] = []
    deploy(env.remote, env.layout, bosh=env.bosh, director=director, deployment="cf", manifest=manifest,
           vars_store=store, ops_files=[ops], releases=[env.release], stemcells=[env.stemcell],
           cloud_config=cloud_config, on_output=lambda _s, line: lines.append(line))
    calls = [c for c in recorded_calls(env.bosh) if c["argv"] != ["--version"]]
    assert [c["argv"] for c in calls] == [
        ["-n", "upload-stemcell", "stemcells/stemcell.tgz"],
        ["-n", "upload-release", "releases/cpi.tgz"],
        ["-n", "update-cloud-config", "deployments/cf/cloud-config.yml"],
        ["-n", "-d", "cf", "deploy", "deployments/cf/manifest.yml", "--vars-store", "deployments/cf/creds.yml",
         "-o", "deployments/cf/ops/scale.yml"],
    ]
    for call in calls:
        assert call["env"] == {"BOSH_ENVIRONMENT": "https://10.0.0.6:25555", "BOSH_CLIENT": "admin",
                               "BOSH_CLIENT_SECRET": "director-Secret-123", "BOSH_CA_CERT": director.ca_cert}
    assert calls[0]["files"]["stemcells/stemcell.tgz"] == sha256(env.stemcell.local_path)
    assert calls[3]["files"]["deployments/cf/manifest.yml"] == sha256(manifest)
    assert "Succeeded" in lines
    assert store.read_text().startswith("cf_admin_password: ") and mode(store) == 0o600
    assert "director-Secret-123" not in caplog.text and "director-Secret-123" not in repr(director)


def test_bootstrap_director_end_to_end(sshd: RunningSshd, bosh_source: BoshCliSource, env_name: str,
                                       tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yml"
    manifest.write_text("name: bosh\n")
    release = tarball(tmp_path / "cpi.tgz", {"release.MF": b"name: cloudstack-cpi\n"})
    stemcell = tarball(tmp_path / "stemcell.tgz", {"stemcell.MF": b"name: s\n"})
    files = DirectorFiles(manifest=manifest, vars_store=tmp_path / "s" / "creds.yml", state=tmp_path / "s" / "state.json")
    steps: list[str] = []
    lines: list[str] = []
    bosh_path = f"{sshd.home}/{env_name}-bin/bosh"
    result = bootstrap_director(sshd.target, env_name, bosh_cli=bosh_source, files=files,
                                releases=[Artifact.from_file(release)], stemcell=Artifact.from_file(stemcell),
                                bosh_path=bosh_path, connect_wait=5, on_step=steps.append,
                                on_output=lambda _s, line: lines.append(line))
    assert steps[0] == f"connecting to the inception VM at {sshd.target.address}"
    assert "running bosh create-env" in steps and "Succeeded" in lines
    assert result.state["current_vm_cid"] and mode(files.state) == 0o600 and mode(files.vars_store) == 0o600
    assert "fake_generated_password:" in files.vars_store.read_text()  # created on the VM, brought back
    assert [c["argv"][0] for c in recorded_calls(bosh_path)] == ["--version", "create-env"]
