"""The steps `inception up`, `deploy-bosh`, `deploy-cf` and `destroy` run on the inception VM over SSH.

Remote workspace of an environment (`RemoteLayout`, mode 0700, files 0600):

    ~/inception/<env>/manifest.yml      rendered Micro BOSH manifest
                      creds.yml         vars store (local copy is the source; brought back after each run)
                      state.json        create-env state (the VM's copy is the newer one; brought back)
                      ops/<name>        ops files
                      releases/<name>   release tarballs (manifests refer to them as releases/<name>)
                      stemcells/<name>  stemcell tarballs (stemcells/<name>)
                      deployments/<deployment>/{manifest.yml,creds.yml,ops/}   for `bosh deploy`

Every step converges when re-run: a file whose checksum already matches on the VM is not sent again, the
bosh CLI is not reinstalled, and create-env itself skips an unchanged deployment.
"""
from __future__ import annotations

import json
import logging
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inception.remote.bosh_cli import BoshCliSource, DownloadMode, install_bosh_cli
from inception.remote.errors import RemoteCommandError, RemoteError
from inception.remote.fetch import check_digest, fetch_on_vm, file_digest, url_basename
from inception.remote.redact import redact
from inception.remote.ssh import OutputCallback, RemoteHost, SshTarget

StepCallback = Callable[[str], None]

log = logging.getLogger(__name__)

LOCK_FILE = ".bosh.lock"
LOCKED_EXIT = 75
RELEASES_DIR = "releases"
STEMCELLS_DIR = "stemcells"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*\Z")   # '+': release versions (0.1.0+dev.1)


def _checked_name(name: str, what: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"{what} {name!r}: use letters, digits, '.', '_', '+' and '-' only")
    return name


@dataclass(frozen=True)
class Artifact:
    """A file the VM needs: a local file to upload, or a URL the VM downloads (checksum required)."""

    name: str
    local_path: Path | None = None
    url: str | None = None
    sha1: str | None = None
    sha256: str | None = None

    def __post_init__(self) -> None:
        _checked_name(self.name, "artifact name")
        if (self.local_path is None) == (self.url is None):
            raise ValueError(f"artifact {self.name}: give exactly one of local_path and url")
        if self.url is not None and not (self.sha1 or self.sha256):
            raise ValueError(f"artifact {self.name}: a URL download needs its sha1 or sha256")
        for algorithm in ("sha1", "sha256"):
            if getattr(self, algorithm):
                object.__setattr__(self, algorithm, check_digest(algorithm, getattr(self, algorithm)))

    @classmethod
    def from_file(cls, path: str | Path, name: str | None = None) -> "Artifact":
        path = Path(path)
        return cls(name=name or path.name, local_path=path)

    @classmethod
    def from_url(cls, url: str, *, sha1: str | None = None, sha256: str | None = None,
                 name: str | None = None) -> "Artifact":
        return cls(name=name or url_basename(url), url=url, sha1=sha1, sha256=sha256)

    def __repr__(self) -> str:
        source = self.local_path if self.local_path is not None else redact(self.url or "")
        return f"Artifact({self.name!r}, {source})"


@dataclass(frozen=True)
class RemoteLayout:
    """Absolute paths of one environment's workspace on the VM."""

    root: str

    @classmethod
    def for_env(cls, home: str, env_name: str) -> "RemoteLayout":
        return cls(posixpath.join(home, "inception", _checked_name(env_name, "environment name")))

    def path(self, *parts: str) -> str:
        return posixpath.join(self.root, *parts)

    @property
    def manifest(self) -> str:
        return self.path("manifest.yml")

    @property
    def vars_store(self) -> str:
        return self.path("creds.yml")

    @property
    def state(self) -> str:
        return self.path("state.json")

    def release(self, name: str) -> str:
        return self.path(RELEASES_DIR, name)

    def stemcell(self, name: str) -> str:
        return self.path(STEMCELLS_DIR, name)

    def deployment(self, name: str) -> str:
        return self.path("deployments", _checked_name(name, "deployment name"))


@dataclass(frozen=True)
class DirectorFiles:
    """The local files of the Micro BOSH director, in the environment's secrets dir.

    `manifest` and `ops_files` are inputs; `vars_store` is uploaded when it exists and brought back (0600)
    after create-env; `state` is brought back (0600) and uploaded only when the VM has no copy.
    """

    manifest: Path
    vars_store: Path
    state: Path
    ops_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class DirectorAccess:
    """How the bosh CLI on the VM reaches a director (it is in the same zone, so its internal IP works)."""

    address: str
    client_secret: str = field(repr=False)
    ca_cert: str = field(repr=False)
    client: str = "admin"

    @property
    def environment(self) -> str:
        return self.address if "://" in self.address else f"https://{self.address}:25555"

    def env(self) -> dict[str, str]:
        return {"BOSH_ENVIRONMENT": self.environment, "BOSH_CLIENT": self.client,
                "BOSH_CLIENT_SECRET": self.client_secret, "BOSH_CA_CERT": self.ca_cert}


@dataclass
class SyncReport:
    """What a step sent to the VM and what it found already there (remote paths)."""

    uploaded: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    def merge(self, other: "SyncReport") -> None:
        self.uploaded += other.uploaded
        self.unchanged += other.unchanged


@dataclass
class CreateEnvResult:
    sync: SyncReport
    state: dict[str, Any]  # the create-env state file, as brought back


def _quiet(_message: str) -> None:
    pass


# -- workspace and files --------------------------------------------------------------------------------

def prepare_workspace(host: RemoteHost, env_name: str) -> RemoteLayout:
    """Create ~/inception/<env> and its subdirectories (mode 0700); returns the layout."""
    layout = RemoteLayout.for_env(host.home, env_name)
    host.run(["mkdir", "-p", "-m", "700", "--", layout.root, layout.path("ops"), layout.path(RELEASES_DIR),
              layout.path(STEMCELLS_DIR), layout.path("deployments")])
    host.run(["chmod", "700", "--", layout.root])
    return layout


def wait_for_cloud_init(host: RemoteHost, *, timeout: float = 1800.0, on_output: OutputCallback | None = None) -> None:
    """Wait until cloud-init has finished installing what the VM needs (no-op on hosts without cloud-init).
    `cloud-init status` exits 0 when done, 2 when done with recoverable errors, 1 on a failure."""
    result = host.run("command -v cloud-init >/dev/null 2>&1 || exit 0; cloud-init status --wait --long",
                      on_output=on_output, timeout=timeout, check=False)
    if result.exit_status not in (0, 2):
        raise RemoteError(f"cloud-init failed on the inception VM (exit status {result.exit_status}): the packages "
                          "create-env needs may be missing; see /var/log/cloud-init-output.log there "
                          "(`inception ssh -- sudo tail -50 /var/log/cloud-init-output.log`)")


def upload_if_changed(host: RemoteHost, local: Path, remote: str, *, mode: int = 0o600,
                      report: SyncReport | None = None, on_step: StepCallback = _quiet) -> bool:
    """Upload `local` unless the VM's file already has its sha256; True when it was sent."""
    if not local.is_file():
        raise RemoteError(f"{local}: file not found (needed on the inception VM as {remote})")
    if host.digest(remote) == file_digest(local):
        if report is not None:
            report.unchanged.append(remote)
        on_step(f"{posixpath.basename(remote)}: already on the VM")
        return False
    on_step(f"uploading {local.name} ({local.stat().st_size:,} bytes)")
    host.put(local, remote, mode=mode)
    if report is not None:
        report.uploaded.append(remote)
    return True


def sync_artifacts(host: RemoteHost, directory: str, artifacts: Sequence[Artifact], *,
                   on_step: StepCallback = _quiet) -> SyncReport:
    """Put every artifact into `directory` on the VM: upload local files, download URLs there (checked)."""
    names = [artifact.name for artifact in artifacts]
    if len(set(names)) != len(names):
        raise ValueError(f"artifacts for {directory} must have distinct names (give them one): {names}")
    report = SyncReport()
    for artifact in artifacts:
        remote = posixpath.join(directory, artifact.name)
        if artifact.local_path is not None:
            upload_if_changed(host, artifact.local_path, remote, mode=0o600, report=report, on_step=on_step)
            continue
        algorithm = "sha256" if artifact.sha256 else "sha1"
        expected = artifact.sha256 or artifact.sha1 or ""
        if host.digest(remote, algorithm) == expected:
            report.unchanged.append(remote)
            on_step(f"{artifact.name}: already on the VM")
            continue
        on_step(f"downloading {artifact.name} on the VM")
        fetch_on_vm(host, artifact.url or "", remote, algorithm=algorithm, expected=expected, mode=0o600,
                    what=artifact.name)
        report.uploaded.append(remote)
    return report


def _ops_args(host: RemoteHost, layout: RemoteLayout, ops_dir: str, ops_files: Sequence[Path],
              report: SyncReport, on_step: StepCallback) -> list[str]:
    """Upload ops files into `ops_dir`; returns their `-o` arguments relative to the workspace root."""
    names = [path.name for path in ops_files]
    if len(set(names)) != len(names):
        raise ValueError(f"ops files must have distinct file names: {names}")
    args: list[str] = []
    for path in ops_files:
        remote = posixpath.join(ops_dir, path.name)
        upload_if_changed(host, path, remote, report=report, on_step=on_step)
        args += ["-o", posixpath.relpath(remote, layout.root)]
    return args


def _bring_back(host: RemoteHost, remote: str, local: Path) -> bool:
    if not host.exists(remote):
        return False
    host.get(remote, local, mode=0o600)
    return True


def _sync_director_files(host: RemoteHost, layout: RemoteLayout, files: DirectorFiles,
                         on_step: StepCallback) -> tuple[SyncReport, list[str]]:
    report = SyncReport()
    upload_if_changed(host, files.manifest, layout.manifest, report=report, on_step=on_step)
    if files.vars_store.is_file():
        upload_if_changed(host, files.vars_store, layout.vars_store, report=report, on_step=on_step)
    if host.exists(layout.state):
        # The VM's state is the newer one: create-env writes it there (an interrupted run may not have
        # brought it back yet). Take it before anything else so the local copy is never stale.
        host.get(layout.state, files.state, mode=0o600)
    elif files.state.is_file():
        upload_if_changed(host, files.state, layout.state, report=report, on_step=on_step)
    ops = _ops_args(host, layout, layout.path("ops"), files.ops_files, report, on_step)
    return report, ops


def _director_command(bosh: str, verb: str, ops: list[str]) -> list[str]:
    return [bosh, verb, "manifest.yml", "--state", "state.json", "--vars-store", "creds.yml", *ops]


def run_bosh(host: RemoteHost, layout: RemoteLayout, command: list[str], *, env: dict[str, str] | None = None,
             secrets: Sequence[str] = (), on_output: OutputCallback | None = None) -> None:
    """Run a bosh command in the workspace under the workspace's lock.

    Closing the SSH channel (Ctrl-C, a dropped connection) does not stop a remote process, so a re-run could
    meet a create-env still running on the same state file; the lock makes it fail fast instead.
    """
    try:
        host.run(["flock", "--nonblock", "--conflict-exit-code", str(LOCKED_EXIT), LOCK_FILE, *command],
                 cwd=layout.root, env=env, secrets=secrets, on_output=on_output)
    except RemoteCommandError as exc:
        if exc.exit_status == LOCKED_EXIT:
            raise RemoteError(f"another bosh command is still running in {layout.root} on the inception VM (an "
                              "interrupted run goes on there); wait for it to finish, or see it with "
                              "`inception ssh -- pgrep -af bosh`") from None
        raise


def _bring_back_all(host: RemoteHost, layout: RemoteLayout, files: DirectorFiles) -> None:
    _bring_back(host, layout.vars_store, files.vars_store)
    if not _bring_back(host, layout.state, files.state):
        files.state.unlink(missing_ok=True)


def _run_bringing_back(host: RemoteHost, layout: RemoteLayout, files: DirectorFiles, command: list[str],
                       on_output: OutputCallback | None) -> None:
    """Run a create-env/delete-env, then copy state and vars store back, also when it failed."""
    try:
        run_bosh(host, layout, command, on_output=on_output)
    except BaseException:
        try:
            _bring_back_all(host, layout, files)
        except (RemoteError, OSError) as exc:  # e.g. the connection is gone: keep the original error
            log.warning("could not bring back the create-env state after the failure: %s", exc)
        raise
    _bring_back_all(host, layout, files)


# -- director lifecycle ---------------------------------------------------------------------------------

def create_env(host: RemoteHost, layout: RemoteLayout, *, bosh: str, files: DirectorFiles,
               releases: Sequence[Artifact], stemcell: Artifact, on_output: OutputCallback | None = None,
               on_step: StepCallback = _quiet) -> CreateEnvResult:
    """Upload releases, stemcell, manifest, vars store and ops files; run `bosh create-env` with live output;
    bring state.json and creds.yml back into `files` (mode 0600). Raises RemoteCommandError on failure
    (after bringing back whatever state create-env wrote)."""
    report = sync_artifacts(host, layout.path(RELEASES_DIR), releases, on_step=on_step)
    report.merge(sync_artifacts(host, layout.path(STEMCELLS_DIR), [stemcell], on_step=on_step))
    director, ops = _sync_director_files(host, layout, files, on_step)
    report.merge(director)
    on_step("running bosh create-env")
    _run_bringing_back(host, layout, files, _director_command(bosh, "create-env", ops), on_output)
    try:
        state = json.loads(files.state.read_text())
    except (OSError, ValueError) as exc:
        raise RemoteError(f"bosh create-env succeeded but left no readable state file: {exc}") from None
    return CreateEnvResult(sync=report, state=state)


def delete_env(host: RemoteHost, layout: RemoteLayout, *, bosh: str, files: DirectorFiles,
               releases: Sequence[Artifact], on_output: OutputCallback | None = None,
               on_step: StepCallback = _quiet) -> bool:
    """`bosh delete-env` when a director is recorded (local or remote state file); False when there is none.
    delete-env installs the CPI, so the releases are synced first; the stemcell is not needed."""
    if not files.state.is_file() and not host.exists(layout.state):
        on_step("no Micro BOSH state recorded: nothing to delete")
        return False
    sync_artifacts(host, layout.path(RELEASES_DIR), releases, on_step=on_step)
    _report, ops = _sync_director_files(host, layout, files, on_step)
    on_step("running bosh delete-env")
    _run_bringing_back(host, layout, files, _director_command(bosh, "delete-env", ops), on_output)
    return True


def _director_bosh(host: RemoteHost, layout: RemoteLayout, bosh: str, director: DirectorAccess,
                   on_output: OutputCallback | None) -> Callable[..., None]:
    """`bosh -n ARGS` against the director, under the workspace lock, its credentials in the environment."""
    env, secrets = director.env(), [director.client_secret]

    def bosh_run(*args: str) -> None:
        run_bosh(host, layout, [bosh, "-n", *args], env=env, secrets=secrets, on_output=on_output)
    return bosh_run


def deploy(host: RemoteHost, layout: RemoteLayout, *, bosh: str, director: DirectorAccess, deployment: str,
           manifest: Path, vars_store: Path | None = None, ops_files: Sequence[Path] = (),
           releases: Sequence[Artifact] = (), stemcells: Sequence[Artifact] = (),
           cloud_config: Path | None = None, on_output: OutputCallback | None = None,
           on_step: StepCallback = _quiet) -> SyncReport:
    """`deploy-bosh` / `deploy-cf`: sync releases and stemcells to the VM, upload them to the director,
    update the cloud config, then `bosh -d <deployment> deploy`. The vars store (when given) is uploaded
    if it exists and brought back afterwards (0600)."""
    workdir = layout.deployment(deployment)
    host.run(["mkdir", "-p", "-m", "700", "--", posixpath.join(workdir, "ops")])
    report = sync_artifacts(host, layout.path(RELEASES_DIR), releases, on_step=on_step)
    report.merge(sync_artifacts(host, layout.path(STEMCELLS_DIR), stemcells, on_step=on_step))
    bosh_run = _director_bosh(host, layout, bosh, director, on_output)
    for stemcell in stemcells:
        on_step(f"uploading stemcell {stemcell.name} to the director")
        bosh_run("upload-stemcell", posixpath.join(STEMCELLS_DIR, stemcell.name))
    for release in releases:
        on_step(f"uploading release {release.name} to the director")
        bosh_run("upload-release", posixpath.join(RELEASES_DIR, release.name))
    relative = posixpath.relpath(workdir, layout.root)
    if cloud_config is not None:
        remote = posixpath.join(workdir, "cloud-config.yml")
        upload_if_changed(host, cloud_config, remote, report=report, on_step=on_step)
        on_step("updating the cloud config")
        bosh_run("update-cloud-config", posixpath.relpath(remote, layout.root))
    upload_if_changed(host, manifest, posixpath.join(workdir, "manifest.yml"), report=report, on_step=on_step)
    args = ["-d", deployment, "deploy", posixpath.join(relative, "manifest.yml")]
    remote_store = posixpath.join(workdir, "creds.yml")
    if vars_store is not None:
        if vars_store.is_file():
            upload_if_changed(host, vars_store, remote_store, report=report, on_step=on_step)
        args += ["--vars-store", posixpath.join(relative, "creds.yml")]
    args += _ops_args(host, layout, posixpath.join(workdir, "ops"), ops_files, report, on_step)
    on_step(f"deploying {deployment}")
    try:
        bosh_run(*args)
    finally:
        if vars_store is not None:
            _bring_back(host, remote_store, vars_store)
    return report


def director_uuid(host: RemoteHost, *, bosh: str, director: DirectorAccess) -> str:
    """The director's UUID from `bosh env --json` (BOSH v1 manifests carry it as `director_uuid`)."""
    result = host.run([bosh, "env", "--json"], env=director.env(), secrets=[director.client_secret])
    try:
        uuid = json.loads(result.stdout)["Tables"][0]["Rows"][0]["uuid"]
    except (ValueError, LookupError, TypeError):
        uuid = None
    if not isinstance(uuid, str) or not uuid:
        raise RemoteError(f"`bosh env --json` on the inception VM gave no director UUID: {result.stdout[:200]!r}")
    return uuid


def delete_deployments(host: RemoteHost, layout: RemoteLayout, *, bosh: str, director: DirectorAccess,
                       deployments: Sequence[str], on_output: OutputCallback | None = None,
                       on_step: StepCallback = _quiet) -> None:
    """Before `delete-env`: delete what the director made, which no state of ours records (the deployments' VMs
    and disks, the templates of the stemcells uploaded to it). `delete-deployment --force` goes on past a VM the
    CPI cannot reach and succeeds when the deployment is already gone; `clean-up --all` then deletes the
    director's stemcells (their CloudStack templates) and releases."""
    bosh_run = _director_bosh(host, layout, bosh, director, on_output)
    for deployment in deployments:
        on_step(f"deleting deployment {deployment}")
        bosh_run("-d", deployment, "delete-deployment", "--force")
    on_step("deleting the director's stemcells and releases")
    bosh_run("clean-up", "--all")


# -- the whole bootstrap, for `inception up` -------------------------------------------------------------

def bootstrap_director(target: SshTarget, env_name: str, *, bosh_cli: BoshCliSource, files: DirectorFiles,
                       releases: Sequence[Artifact], stemcell: Artifact, download: DownloadMode = "vm",
                       cache_dir: Path | None = None, bosh_path: str | None = None, connect_wait: float = 600.0,
                       on_output: OutputCallback | None = None, on_step: StepCallback = _quiet) -> CreateEnvResult:
    """Everything `inception up` does over SSH once the VM exists: connect (waiting for it to boot), wait
    for cloud-init, prepare the workspace, install the bosh CLI, create-env, bring back state and creds."""
    on_step(f"connecting to the inception VM at {target.address}")
    with RemoteHost(target).connect(wait=connect_wait) as host:
        on_step("waiting for cloud-init to finish")
        wait_for_cloud_init(host, on_output=on_output)
        layout = prepare_workspace(host, env_name)
        bosh = install_bosh_cli(host, bosh_cli, path=bosh_path, download=download, cache_dir=cache_dir,
                                on_step=on_step)
        return create_env(host, layout, bosh=bosh, files=files, releases=releases, stemcell=stemcell,
                          on_output=on_output, on_step=on_step)
