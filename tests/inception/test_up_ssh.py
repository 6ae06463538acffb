"""`inception up` end to end over SSH: the simulator is CloudStack, a real OpenSSH sshd on loopback stands in for
the inception VM (`inception.ssh_address`), and only the internet-bound downloads (a loopback file server) and the
`bosh` binary (the test double) are fakes.

The sshd is started the way the VM comes up: `up` runs in the background, generates the VM's host key (for the
user-data) and the keypair; once both are in the state dir's secrets, the sshd starts presenting that host key
and authorizing that keypair, while `up` waits for SSH like it waits for a booting VM."""
from __future__ import annotations

import contextlib
import getpass
import fcntl
import hashlib
import io
import json
import os
import shlex
import stat
import subprocess
import tarfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from inception.cloud.bootstrap import MANIFEST_SECRET, STATE_SECRET, VARS_SECRET
from inception.cloud.steps import keypair_secret
from inception.cloud.userdata import HOST_KEY_SECRET
from inception.remote.hostkeys import HostKey, fingerprint, generate_host_key
from testkit.fake_bosh import fake_bosh_bytes, recorded_calls
from testkit.fileserver import FileServer
from testkit.sshd import RunningSshd, free_port, public_line
from tests.inception.conftest import Env, advanced_config, basic_config, bootstrappable

USER = os.environ.get("INCEPTION_TEST_SSH_USER") or getpass.getuser()
STEMCELL = "bosh-cloudstack-kvm-ubuntu-trusty-go_agent"  # the line bosh 262.3 and cf v175 run on
BOSH_RELEASE = b"the bosh release, as bosh.io would serve it"
CREATE_ENV_LINES = ["Started validating", "Finished validating (00:00:00)", "Started installing CPI",
                    "Finished installing CPI (00:00:00)", "Started deploying", "Finished deploying (00:00:00)",
                    "Succeeded"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def downloads() -> Iterator[FileServer]:
    """The internet: the bosh CLI (the test double) and the bosh release."""
    server = FileServer().start()
    server.add("bosh-cli-linux-amd64", fake_bosh_bytes())
    server.add("bosh-262.3.tgz", BOSH_RELEASE)
    yield server
    server.stop()


ZONES = {"basic": (basic_config, "192.0.2.10"), "advanced": (advanced_config, "10.7.0.10")}  # config, director IP


def ssh_config(name: str, port: int, downloads: FileServer, directory: Path, *,
               bosh_sha256: str | None = None, zone: str = "basic") -> dict[str, Any]:
    """A config (basic zone unless `zone` says otherwise) whose inception VM's SSH is the loopback sshd on `port`:
    stemcell a local file (uploaded), bosh release a URL with its sha1 (downloaded on the VM), the bosh CLI a URL
    with its sha256."""
    stemcell = directory / "stemcell.tgz"
    with tarfile.open(stemcell, "w:gz") as tar:
        data = f"name: {STEMCELL}\nversion: '1.0'\n".encode()
        info = tarfile.TarInfo("stemcell.MF")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    config = bootstrappable(ZONES[zone][0](name))
    config["stemcell"] = {"file": stemcell.name, "name": STEMCELL, "version": "1.0"}
    config["releases"] = {"bosh": {"version": "262.3", "url": downloads.url("bosh-262.3.tgz"),
                                   "sha1": hashlib.sha1(BOSH_RELEASE).hexdigest()}}
    config["inception"].update(ssh_address=f"127.0.0.1:{port}", ssh_user=USER, bosh_cli={
        "url": downloads.url("bosh-cli-linux-amd64"),
        "sha256": bosh_sha256 or hashlib.sha256(fake_bosh_bytes()).hexdigest()})
    return config


def make(sim_factory, make_env, downloads: FileServer, tmp_path: Path, name: str,
         zone: str = "basic") -> tuple[Env, int]:
    port = free_port()
    sim = sim_factory()
    directory = tmp_path / "env"
    directory.mkdir()
    return Env(sim, directory, ssh_config(name, port, downloads, directory, zone=zone)), port


def vm_keys(env: Env, up: subprocess.Popen | None, timeout: float = 30.0) -> tuple[HostKey, str]:
    """The host key `up` put into the VM's user-data and the public half of the keypair it registered (with
    `up` running: as soon as both are in the state dir's secrets)."""
    secrets = env.state_dir / "secrets"
    wanted = [secrets / HOST_KEY_SECRET, secrets / keypair_secret(f"{env.config['name']}-bosh")]
    deadline = time.monotonic() + timeout
    while up is not None and not all(path.exists() for path in wanted):
        if up.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"up made no host key and keypair (exit {up.poll()}):\n{up.communicate()[0]}")
        time.sleep(0.02)
    host_private, keypair_private = (path.read_text() for path in wanted)
    return HostKey(public_line(host_private), host_private), public_line(keypair_private)


def boot_vm(env: Env, port: int, workdir: Path, *, up: subprocess.Popen | None = None,
            host_key: HostKey | None = None) -> RunningSshd:
    """Start the sshd standing in for the inception VM: up's host key (or `host_key`), up's keypair."""
    pinned, keypair = vm_keys(env, up)
    return RunningSshd(workdir, user=USER, port=port, host_key=host_key or pinned,
                       authorized_keys=[keypair]).start()


def finish(up: subprocess.Popen, timeout: float = 180) -> tuple[int, str]:
    out, _ = up.communicate(timeout=timeout)
    return up.returncode, out


@contextlib.contextmanager
def booted(env: Env, port: int, workdir: Path) -> Iterator[tuple[RunningSshd, str]]:
    """`up` run to its end, successfully, with the sshd standing in for its VM; the sshd stays up inside."""
    up = env.popen("up", "--non-interactive", "--yes")
    vm = boot_vm(env, port, workdir, up=up)
    try:
        code, out = finish(up)
        assert code == 0, out
        yield vm, out
    finally:
        if up.poll() is None:
            up.kill()
        vm.stop()


def counts(env: Env) -> Counter:
    return Counter({kind: len(items) for kind, items in env.leftovers().items()})


@pytest.mark.parametrize("zone", ZONES)
def test_up_bootstraps_over_ssh_then_destroy_deletes_env_and_cloud(sim_factory, make_env, downloads: FileServer,
                                                                    tmp_path: Path, zone: str) -> None:
    env, port = make(sim_factory, make_env, downloads, tmp_path, "sshup", zone)
    director = ZONES[zone][1]
    cli_requests = downloads.requests.get("bosh-cli-linux-amd64", 0)
    with booted(env, port, tmp_path / "vm") as (vm, out):
        workspace = vm.home / "inception" / "sshup"
        secrets = env.state_dir / "secrets"
        bosh = vm.home / "bin" / "bosh"

        # the bosh CLI: fetched once from the configured URL, sha256 checked, installed executable
        assert downloads.requests["bosh-cli-linux-amd64"] == cli_requests + 1
        assert sha256(bosh) == hashlib.sha256(fake_bosh_bytes()).hexdigest() and mode(bosh) == 0o755
        assert sorted(p.name for p in bosh.parent.iterdir()) == ["bosh", "bosh.log.jsonl"]

        # exactly these bosh commands ran, in the workspace, on the files uploaded
        calls = recorded_calls(bosh)
        assert [c["argv"] for c in calls] == [
            ["--version"],
            ["create-env", "manifest.yml", "--state", "state.json", "--vars-store", "creds.yml"]]
        create_env = calls[1]
        assert create_env["cwd"] == str(workspace) and create_env["env"] == {}
        assert create_env["files"]["manifest.yml"] == sha256(secrets / MANIFEST_SECRET)

        # uploads: the CPI release built from this checkout, the stemcell, the rendered manifest (all 0600);
        # the bosh release was downloaded on the VM (sha1 checked)
        cpi = next((env.state_dir / "bundle").glob("bosh-cloudstack-cpi-*.tgz"))
        uploaded = {workspace / "releases" / cpi.name: cpi, workspace / "stemcells" / "stemcell.tgz":
                    env.dir / "stemcell.tgz", workspace / "manifest.yml": secrets / MANIFEST_SECRET}
        for remote, local in uploaded.items():
            assert sha256(remote) == sha256(local) and mode(remote) == 0o600, remote
        assert (workspace / "releases" / "bosh-262.3.tgz").read_bytes() == BOSH_RELEASE
        manifest = yaml.safe_load((secrets / MANIFEST_SECRET).read_text())
        urls = {r["name"]: r["url"] for r in manifest["releases"]}
        assert urls == {"bosh-cloudstack-cpi": f"file://releases/{cpi.name}", "bosh": "file://releases/bosh-262.3.tgz"}
        assert manifest["resource_pools"][0]["stemcell"]["url"] == "file://stemcells/stemcell.tgz"

        # create-env's output streamed into up's, in order, between its start and the final message
        streamed = [line.strip() for line in out[out.index("running bosh create-env"):].splitlines()]
        positions = [streamed.index(line) for line in CREATE_ENV_LINES]
        assert positions == sorted(positions)
        assert out.index("Succeeded") < out.index(f"Micro BOSH is up at https://{director}:25555")
        assert 'eval "$(inception print-env)"' in out

        # state and credentials brought back, 0600, identical to the VM's
        for local, remote in ((secrets / STATE_SECRET, workspace / "state.json"),
                              (secrets / VARS_SECRET, workspace / "creds.yml")):
            assert local.read_bytes() == remote.read_bytes() and mode(local) == 0o600
        assert json.loads((secrets / STATE_SECRET).read_text())["current_vm_cid"]
        creds = yaml.safe_load((secrets / VARS_SECRET).read_text())
        assert "fake_generated_password" in creds
        for secret in (env.sim.secret_key, creds["admin_password"], creds["fake_generated_password"]):
            assert secret not in out and secret not in (env.state_dir / "state.json").read_text()

        built, cloud = counts(env), env.sim.resources()
        assert built["virtualmachine"] == 1 and built["sshkeypair"] == 1
        if zone == "advanced":   # an isolated network; the VM behind static NAT with SSH open; egress rules
            assert built["network"] == 1 and built["securitygroup"] == 0
            assert sorted(ip["isstaticnat"] for ip in cloud["publicipaddress"]) == [False, True]
            rules = sorted((r["traffictype"], r["protocol"], r.get("startport")) for r in cloud["firewallrule"])
            assert rules == [("Egress", "icmp", None), ("Egress", "tcp", None), ("Egress", "udp", None),
                             ("Ingress", "tcp", 22)]
        else:
            assert built["securitygroup"] == 1 and built["network"] == 0 and "firewallrule" not in cloud

        status = env.run("status").stdout
        assert "inception VM: 127.0.0.1" in status and f"director: {director}" in status
        assert f"bootstrap: done director at {director}" in status
        exports = env.run("print-env").stdout
        assert f"export BOSH_ENVIRONMENT=https://{director}:25555" in exports
        assert f"export BOSH_CLIENT_SECRET={shlex.quote(str(creds['admin_password']))}" in exports
        assert f"ssh+socks5://{USER}@127.0.0.1:{port}?private-key={env.state_dir}/secrets/" in exports
        hi = env.run("ssh", "--", "echo", "hi")
        assert hi.stdout == "hi\n"

        gone = env.run("destroy", "--yes").stdout
        calls = recorded_calls(bosh)
        assert [c["argv"] for c in calls[2:]] == [   # the CLI in place already: no reinstall
            ["delete-env", "manifest.yml", "--state", "state.json", "--vars-store", "creds.yml"]]
        assert calls[-1]["cwd"] == str(workspace)
        assert "Deleting VM" in gone and gone.index("deleted  Micro BOSH director") < gone.index("VM sshup-inception")
        assert not (secrets / STATE_SECRET).exists() and not (workspace / "state.json").exists()
        assert env.leftovers() == {}


def test_up_refuses_another_host_key_and_a_wrong_cli_checksum_then_converges(
        sim_factory, make_env, downloads: FileServer, tmp_path: Path) -> None:
    env, port = make(sim_factory, make_env, downloads, tmp_path, "sshkey")
    state = env.state_dir / "state.json"

    # 1. something else answers on the VM's address, with another host key: nothing is sent to it
    impostor = generate_host_key("impostor")
    up = env.popen("up", "--non-interactive", "--yes")
    vm = boot_vm(env, port, tmp_path / "impostor", up=up, host_key=impostor)
    try:
        code, out = finish(up)
    finally:
        if up.poll() is None:
            up.kill()
        vm.stop()
    pinned = json.loads(state.read_text())["outputs"]["inception_host_key"]
    assert code == 1
    flat = " ".join(out.split())
    assert "host key mismatch" in flat and impostor.fingerprint in flat and fingerprint(pinned) in flat
    assert "Accepted publickey" not in vm.log_path.read_text()
    assert list(vm.home.iterdir()) == []            # no workspace, no bosh CLI: nothing ran there
    assert "bootstrap: failed host key mismatch" in env.run("status").stdout
    after_refusal = counts(env)
    assert after_refusal["virtualmachine"] == 1

    # 2. the real VM, but the configured sha256 is not the binary's: refused, nothing installed
    vm = boot_vm(env, port, tmp_path / "vm")
    try:
        wrong = hashlib.sha256(b"another binary").hexdigest()
        env.write({**env.config, "inception": {**env.config["inception"],
                                               "bosh_cli": {**env.config["inception"]["bosh_cli"], "sha256": wrong}}})
        refused = env.run("up", "--non-interactive", "--yes", check=False)
        flat = " ".join((refused.stdout + refused.stderr).split())
        actual = hashlib.sha256(fake_bosh_bytes()).hexdigest()
        assert refused.returncode == 1
        assert f"bosh CLI: sha256 is {actual}, expected {wrong}; refused and removed the download" in flat
        assert list((vm.home / "bin").iterdir()) == []   # no binary, no partial download
        assert not (env.state_dir / "secrets" / STATE_SECRET).exists()

        # 3. the right checksum: converges without a duplicate, create-env runs once
        env.write(ssh_config("sshkey", port, downloads, env.dir))
        done = env.run("up", "--non-interactive", "--yes")
        assert "created" not in done.stdout and "Micro BOSH is up" in done.stdout
        assert counts(env) == after_refusal
        assert [c["argv"][0] for c in recorded_calls(vm.home / "bin" / "bosh")] == ["--version", "create-env"]

        env.run("destroy", "--yes")
        assert env.leftovers() == {}
    finally:
        vm.stop()


def test_up_killed_during_create_env_waits_for_it_then_converges(sim_factory, make_env, downloads: FileServer,
                                                                 tmp_path: Path) -> None:
    """kill -9 of `up` while create-env runs on the VM: the remote create-env goes on (closing SSH does not stop
    it), so a re-run is refused while it holds the workspace lock; once it has ended, a re-run resumes from the
    state it left on the VM and converges, with no second resource anywhere."""
    env, port = make(sim_factory, make_env, downloads, tmp_path, "sshkill")
    hold = tmp_path / "vm" / "home" / "bin" / "bosh.hold"   # the fake create-env waits mid-deploy while it exists
    hold.parent.mkdir(parents=True)
    hold.touch()
    workspace = tmp_path / "vm" / "home" / "inception" / "sshkill"
    up = env.popen("up", "--non-interactive", "--yes")
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(up.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    vm = boot_vm(env, port, tmp_path / "vm", up=up)
    try:
        deadline = time.monotonic() + 120
        while not (workspace / "state.json").exists():   # create-env is deploying and has written its state
            assert up.poll() is None and time.monotonic() < deadline, "".join(output)
            time.sleep(0.05)
        up.kill()
        up.wait(timeout=10)
        reader.join(timeout=10)
        assert "running bosh create-env" in "".join(output) and "Micro BOSH is up" not in "".join(output)
        built = counts(env)

        refused = env.run("up", "--non-interactive", "--yes", check=False)
        flat = " ".join((refused.stdout + refused.stderr).split())
        assert refused.returncode == 1, flat
        assert "another bosh command is still running" in flat and "inception ssh -- pgrep -af bosh" in flat

        hold.unlink()   # the interrupted create-env ends (its SSH session is gone: it dies on its next write)
        with open(workspace / ".bosh.lock", "a") as lock:   # wait until it has let go of the workspace lock
            fcntl.flock(lock, fcntl.LOCK_EX)
        left = json.loads((workspace / "state.json").read_text())

        done = env.run("up", "--non-interactive", "--yes")
        assert "Micro BOSH is up" in done.stdout and "created" not in done.stdout
        creates = [c for c in recorded_calls(vm.home / "bin" / "bosh") if c["argv"][:1] == ["create-env"]]
        assert len(creates) == 2   # the interrupted one and the resumed one
        assert creates[1]["files"]["state.json"] == hashlib.sha256(json.dumps(left, indent=2).encode()).hexdigest()
        state = json.loads((env.state_dir / "secrets" / STATE_SECRET).read_text())
        assert state["current_vm_cid"] == left["current_vm_cid"]   # the same director, not a second one
        assert counts(env) == built

        env.run("destroy", "--yes")
        assert env.leftovers() == {}
    finally:
        if up.poll() is None:
            up.kill()
        hold.unlink(missing_ok=True)
        vm.stop()


def test_deploy_bosh_and_cf_then_destroy_deletes_the_deployments_before_the_director(
        sim_factory, make_env, downloads: FileServer, tmp_path: Path) -> None:
    """deploy-bosh and deploy-cf run the bosh CLI on the VM against the director `up` made (its UUID asked from
    it); destroy deletes those deployments and the director's stemcells before delete-env, which would otherwise
    leave their VMs, disks and templates in CloudStack."""
    env, port = make(sim_factory, make_env, downloads, tmp_path, "sshcf")
    cf_release = b"cf-release 175, as bosh.io would serve it"
    downloads.add("cf-175.tgz", cf_release)
    config = env.config
    config["releases"]["cf"] = {"version": "175", "url": downloads.url("cf-175.tgz"),
                                "sha1": hashlib.sha1(cf_release).hexdigest()}
    config.update(cf={"system_domain": "sshcf.example.com"}, full_bosh={"ip": "192.0.2.11"})
    env.write(config)
    with booted(env, port, tmp_path / "vm") as (vm, out):
        bosh = vm.home / "bin" / "bosh"
        workspace = vm.home / "inception" / "sshcf"
        secrets = env.state_dir / "secrets"
        creds = yaml.safe_load((secrets / VARS_SECRET).read_text())

        full = env.run("deploy-bosh").stdout
        cf = env.run("deploy-cf").stdout
        assert "full BOSH deployed (sshcf-full-bosh)" in " ".join(full.split())
        assert "Cloud Foundry deployed (cf)" in " ".join(cf.split()), cf
        assert "Updating instance router" in cf   # the bosh CLI's output, streamed
        for kind in ("bosh", "cf"):
            manifest = yaml.safe_load((secrets / f"{kind}.yml").read_text())
            assert manifest["director_uuid"] == "5d1a5b9e-7c3f-4a57-9a8e-2f0c6b4d8e11"   # the fake director's
            assert mode(secrets / f"{kind}-creds.yml") == 0o600
        deploys = [c for c in recorded_calls(bosh) if c["argv"][0] != "--version"][1:]   # after create-env
        director_env = {"BOSH_ENVIRONMENT": "https://192.0.2.10:25555", "BOSH_CLIENT": "admin",
                        "BOSH_CLIENT_SECRET": str(creds["admin_password"]), "BOSH_CA_CERT": creds["director_ssl"]["ca"]}
        assert all(call["env"] == director_env for call in deploys)
        argv = [call["argv"] for call in deploys]
        cf_release_call = ["-n", "upload-release", "releases/cf-175.tgz"]
        assert argv[0] == ["env", "--json"] and argv.count(["env", "--json"]) == 2
        assert ["-n", "-d", "sshcf-full-bosh", "deploy", "deployments/sshcf-full-bosh/manifest.yml", "--vars-store",
                "deployments/sshcf-full-bosh/creds.yml"] in argv
        assert cf_release_call in argv and argv[-1] == ["-n", "-d", "cf", "deploy", "deployments/cf/manifest.yml",
                                                         "--vars-store", "deployments/cf/creds.yml"]
        assert (workspace / "releases" / "cf-175.tgz").read_bytes() == cf_release
        status = env.run("status").stdout
        assert "deploy_cf: done deployment cf" in status and "deploy_bosh: done deployment sshcf-full-bosh" in status

        # a director that cannot delete its deployments stops the destroy before anything is deleted
        built = counts(env)
        failing = vm.home / "bin" / "bosh.fail-delete-deployment"
        failing.touch()
        refused = env.run("destroy", "--yes", check=False)
        flat = " ".join((refused.stdout + refused.stderr).split())
        assert refused.returncode == 1 and "Unauthorized" in flat and "--keep-deployments" in flat, flat
        assert counts(env) == built and (secrets / STATE_SECRET).exists()
        assert "deploy_cf: done deployment cf" in env.run("status").stdout
        failing.unlink()

        gone = env.run("destroy", "--yes").stdout
        teardown = [c for c in recorded_calls(bosh)][len(deploys) + 3:]   # after --version, create-env, deploys,
        assert [c["argv"] for c in teardown] == [                         # the refused delete-deployment
            ["-n", "-d", "cf", "delete-deployment", "--force"],
            ["-n", "-d", "sshcf-full-bosh", "delete-deployment", "--force"],
            ["-n", "clean-up", "--all"],
            ["delete-env", "manifest.yml", "--state", "state.json", "--vars-store", "creds.yml"]]
        assert all(call["env"] == director_env for call in teardown[:3])
        flat = " ".join(gone.split())
        assert flat.index("deleted deployment cf") < flat.index("deleted Micro BOSH director")
        assert str(creds["admin_password"]) not in gone
        assert env.leftovers() == {}
