"""After the CloudStack side: the Micro BOSH bootstrap, and its undoing.

- On a real CloudStack (or any target with `inception.ssh_address`): over SSH with the host key pinned
  (inception.remote): install the bosh CLI, upload the CPI release built from this checkout and the stemcell,
  `bosh create-env` with live output, bring its state and credentials back into secrets/.
- On a simulator the inception VM has no operating system: the same bundle is prepared in the state dir
  (rendered manifest, CPI release, scripts), the CPI lifecycle check runs through the simulator, and we say
  plainly that create-env was not run.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer

from inception.cloud.director_address import STATE_KEY as DIRECTOR_IP_KEY
from inception.cloud.director_address import apply_placement, needs_placement
from inception.cloud.report import console, line
from inception.cloud.runner import LocalTask
from inception.cloud.session import Session
from inception.cloud.steps import keypair_secret
from inception.config.loader import ConfigError, Problem, ProjectConfig, validate_config
from inception.state import StateDir

BUNDLE = "bundle"
MANIFEST_SECRET = "micro-bosh.yml"        # rendered: holds the API secret and generated passwords
VARS_SECRET = "director-creds.yml"
STATE_SECRET = "director-state.json"
REMOTE_RELEASES, REMOTE_STEMCELLS = "releases", "stemcells"   # inception.remote's workspace layout
DIRECTOR_RELEASES = ("bosh", "bpm")      # besides the CPI: the releases the Micro BOSH manifest names


@dataclass
class Bundle:
    manifest: Path
    vars_store: Path
    state: Path
    cpi_release: Path
    config: ProjectConfig        # the config the manifest was rendered from (artifacts as the VM sees them)


def ssh_override(config: ProjectConfig) -> tuple[str, int] | None:
    text = (config.get("inception") or {}).get("ssh_address")
    if not text:
        return None
    host, _, port = text.rpartition(":") if text.count(":") == 1 else (text, "", "22")
    return host, int(port or 22)


def _bundle_dir(state_dir: StateDir) -> Path:
    path = state_dir.path / BUNDLE
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def cpi_release(session: Session, bundle: Path) -> Path:
    """releases.cpi when configured as a file; else the release built from this checkout (kept between runs
    while its inputs are unchanged: the builder is reproducible)."""
    spec = (session.config.get("releases") or {}).get("cpi") or {}
    if spec.get("file"):
        return (Path(session.config.source).resolve().parent / spec["file"]).resolve()
    from cpi.release import ReleaseBuildError, build_release

    try:
        built = build_release(bundle)
    except ReleaseBuildError as exc:
        raise ConfigError(session.config.source, [Problem("releases.cpi", f"the CPI release could not be built: {exc}",
                                                          "set releases.cpi.file to a built release")]) from None
    for old in bundle.glob("bosh-cloudstack-cpi-*.tgz"):
        if old != built.path:
            old.unlink()
    return built.path


def render_config(session: Session, release: Path) -> ProjectConfig:
    """A copy of the config for rendering: the target's API credentials, and artifacts by the relative paths
    inception.remote uploads them to on the VM (uploaded, or downloaded there with the checksum checked).
    Never saved."""
    from inception.remote.fetch import url_basename

    data: dict[str, Any] = copy.deepcopy(session.config.data)
    target = session.target
    data["cloudstack"].update(endpoint=target.endpoint, api_key=target.api_key, secret_key=target.secret_key)
    placed = session.state.get_value(DIRECTOR_IP_KEY)
    if placed and needs_placement(session.config):   # a Basic zone's director address `up` chose
        apply_placement(data, session.config, placed["ip"], placed["cidr"], placed["gateway"])
    releases = data.setdefault("releases", {})
    releases["cpi"] = {"version": release.name.removeprefix("bosh-cloudstack-cpi-").removesuffix(".tgz"),
                       "file": f"{REMOTE_RELEASES}/{release.name}"}
    for name, spec in releases.items():
        if name != "cpi" and spec.get("file"):
            spec["file"] = f"{REMOTE_RELEASES}/{Path(spec['file']).name}"
        elif name in DIRECTOR_RELEASES and spec.get("url"):
            spec["file"] = f"{REMOTE_RELEASES}/{url_basename(spec.pop('url'))}"
    stemcell = data.get("stemcell") or {}
    if stemcell.get("file"):
        stemcell["file"] = f"{REMOTE_STEMCELLS}/{Path(stemcell['file']).name}"
    elif stemcell.get("url"):
        stemcell["file"] = f"{REMOTE_STEMCELLS}/{url_basename(stemcell.pop('url'))}"
    return validate_config(data, session.config.source)


def prepare_bundle(session: Session) -> Bundle:
    """Render the Micro BOSH manifest (vars store in secrets/), build the CPI release, write the scripts."""
    from inception.manifests.render import render
    from inception.manifests.varstore import VarsStore

    state_dir = session.state_dir
    bundle = _bundle_dir(state_dir)
    release = cpi_release(session, bundle)
    # The manifest is for the inception VM even when nothing is uploaded (simulator): artifacts by the paths of the
    # VM's workspace (releases/<name>, stemcells/<name>), which bosh-cli resolves against the manifest's directory
    # (release/set/manifest/parser.go: AbsolutifyPath), never a path of this machine.
    config = render_config(session, release)
    vars_store = state_dir.secrets / VARS_SECRET
    rendered = render("micro", config, store=VarsStore(vars_store))
    manifest = state_dir.write_secret(MANIFEST_SECRET, rendered.text)
    for verb in ("create-env", "delete-env"):   # what `up`/`destroy` run in ~/inception/<env> on the VM
        path = bundle / f"{verb}.sh"
        path.write_text(f"#!/bin/sh\n# Run on the inception VM in ~/inception/{session.config.name}/, which holds "
                        f"{MANIFEST_SECRET} as manifest.yml,\n# the releases in releases/ and the stemcell in "
                        f"stemcells/ (as `inception up` uploads them).\nset -e\n"
                        f'cd "$HOME/inception/{session.config.name}"\n'
                        f'bosh {verb} manifest.yml --state state.json --vars-store creds.yml "$@"\n')
        os.chmod(path, 0o700)
    session.state.set_step("bundle", status="ready", manifest=state_dir.relative(manifest),
                           cpi_release=state_dir.relative(release) if release.is_relative_to(state_dir.path.resolve())
                           else release.name)
    return Bundle(manifest, vars_store, state_dir.secrets / STATE_SECRET, release, config)


def is_remote(session: Session) -> bool:
    """Can create-env run? Not on a simulator's VMs (no OS), unless SSH is pointed elsewhere."""
    return not session.target.simulated or ssh_override(session.config) is not None


def bootstrap_tasks(session: Session, *, concurrent: bool = True) -> list[LocalTask]:
    """What `up` does locally while the CloudStack steps run: the bundle, and on a simulator the CPI check
    (its independent calls at once unless `concurrent` is off, as with `up --sequential`)."""
    remote = is_remote(session)

    def bundle() -> str:
        made = session.bundle = prepare_bundle(session)
        return f"{made.cpi_release.name}, {session.state_dir.relative(made.manifest)}, {BUNDLE}/create-env.sh"

    tasks = [LocalTask("local:bundle", "bootstrap bundle", bundle)]
    if remote:   # what the SSH bootstrap will need, checked before anything is created
        bosh_cli(session)
        vm_artifacts(session)
    elif session.state.step("cpi_check").get("status") == "passed":
        line("reused", "CPI lifecycle check", "passed on an earlier run")
    else:
        tasks.append(LocalTask("local:cpi-check", "CPI lifecycle check through the simulator",
                               lambda: _cpi_check(session, concurrent)))
    return tasks


def finish_bootstrap(session: Session) -> None:
    """After the graph: create-env over SSH, or say plainly why it was not run."""
    if is_remote(session):
        _remote(session)
        return
    session.state.set_step("bootstrap", status="not run", detail="simulated inception VM: no operating system")
    check = session.state.step("cpi_check")
    console.print("[yellow]create-env was NOT run:[/] the simulated inception VM has no operating system to run "
                  f"it on. In place: the CloudStack resources and the bundle in {session.state_dir.path / BUNDLE}.")
    if check.get("status") != "passed":
        console.print(f"[red]The CPI failed its lifecycle check ({check.get('detail')}):[/] the bundle's CPI would "
                      "not work here; `inception up` runs the check again.")
        raise typer.Exit(1)
    console.print("The CPI passed its lifecycle check against this cloud. Next: `inception status`, then "
                  "`inception destroy` to remove everything.")


def _cpi_check(session: Session, concurrent: bool) -> str:
    import tempfile

    from cpi.lifecycle import CpiProcess, StepResult, run_lifecycle, simulator_check

    def report(result: StepResult) -> None:
        line("passed" if result.ok else "failed", f"CPI {result.name}", result.detail, result.seconds)

    with tempfile.TemporaryDirectory(prefix="cpi-check-", dir=session.state_dir.path) as tmp:
        target = session.target
        config_path, plan = simulator_check(target.endpoint, target.api_key, target.secret_key,
                                            session.config.cloudstack["zone"], Path(tmp))
        results = run_lifecycle(CpiProcess(config_path), plan, report, concurrent=concurrent,
                                stop=session.ctx.stopping)
    failed = [r.name for r in results if not r.ok]
    session.state.set_step("cpi_check", status="failed" if failed else "passed",
                           detail=", ".join(failed) if failed else f"{len(results)} steps")
    return f"failed: {', '.join(failed)}" if failed else f"{len(results)} CPI calls passed"


# -- on a real inception VM ---------------------------------------------------------------------------------

def ssh_target(session: Session) -> Any:
    from inception.remote.connection import load_connection, record_inception_vm

    settings = session.config.get("inception") or {}
    override = ssh_override(session.config)
    outputs = session.state.outputs
    address, port = override or (outputs.get("inception_address"), 22)
    if not address:
        raise ConfigError(session.config.source, [Problem("inception.ssh_address", "the inception VM has no "
                                                          "address yet", "run `inception up` (or set it)")])
    if settings.get("public_key_file"):
        private = (Path(session.config.source).resolve().parent / settings["public_key_file"]).with_suffix("")
    else:
        private = session.state_dir.secrets / keypair_secret(settings.get("keypair") or session.config.key_name)
    record_inception_vm(session.state, address=address, private_key=private, port=port,
                        user=settings.get("ssh_user", "ubuntu"))
    return load_connection(session.state_dir.path).target


def artifact(session: Session, spec: dict[str, Any], key: str) -> Any:
    """A release or stemcell for the VM: a local file (uploaded) or a URL the VM downloads (checksum needed)."""
    from inception.remote.bootstrap import Artifact

    if spec.get("file"):
        return Artifact.from_file(Path(session.config.source).resolve().parent / spec["file"])
    sha1 = spec.get("sha1")
    if not spec.get("url") or not sha1:
        raise ConfigError(session.config.source, [Problem(f"{key}.sha1", "a URL download needs its checksum",
                                                          f"set {key}.url and {key}.sha1 (or {key}.file)", True)])
    digest = {"sha256": sha1[7:]} if sha1.startswith("sha256:") else {"sha1": sha1}
    return Artifact.from_url(spec["url"], **digest)


def vm_artifacts(session: Session) -> tuple[list[Any], Any]:
    """The director's releases from the config (bosh, bpm) and the stemcell; a ConfigError when one cannot be
    put on the VM (a URL without its checksum)."""
    releases = [artifact(session, spec, f"releases.{name}")
                for name, spec in (session.config.get("releases") or {}).items() if name in DIRECTOR_RELEASES]
    return releases, artifact(session, session.config.get("stemcell") or {}, "stemcell")


def artifacts(session: Session, bundle: Bundle) -> tuple[list[Any], Any]:
    """The director's releases (the CPI built here, bosh, bpm) and the stemcell."""
    from inception.remote.bootstrap import Artifact

    releases, stemcell = vm_artifacts(session)
    return [Artifact.from_file(bundle.cpi_release), *releases], stemcell


def bosh_cli(session: Session) -> Any:
    from inception.remote.bosh_cli import BoshCliSource

    spec = (session.config.get("inception") or {}).get("bosh_cli") or {}
    if not spec.get("url") or not spec.get("sha256"):
        raise ConfigError(session.config.source, [Problem("inception.bosh_cli", "where to get the bosh CLI is not "
                                                          "set", "set inception.bosh_cli: {url: ..., sha256: ...}",
                                                          True)])
    return BoshCliSource(spec["url"], spec["sha256"])


def _remote(session: Session) -> None:
    from inception.remote.bootstrap import DirectorFiles, bootstrap_director
    from inception.remote.connection import record_director
    from inception.remote.errors import RemoteError

    bundle = session.bundle or prepare_bundle(session)
    releases, stemcell = artifacts(session, bundle)
    source = bosh_cli(session)
    target = ssh_target(session)
    files = DirectorFiles(manifest=bundle.manifest, vars_store=bundle.vars_store, state=bundle.state)
    session.state.set_step("bootstrap", status="running")
    try:
        bootstrap_director(target, session.config.name, bosh_cli=source, files=files, releases=releases,
                           stemcell=stemcell, on_output=echo, on_step=lambda message: line("step", message))
    except RemoteError as exc:   # its message carries no secret (inception.remote.errors)
        session.state.set_step("bootstrap", status="failed", detail=str(exc).splitlines()[0][:200])
        raise
    address = bundle.config.director.get("ip") or bundle.config.director.get("public_ip") or "unknown"
    record_director(session.state, address=address, vars_store=bundle.vars_store)
    session.state.set_step("bootstrap", status="done", detail=f"director at {address}")
    console.print(f"[green]✓[/] Micro BOSH is up at https://{address}:25555")
    console.print('Target it: eval "$(inception print-env)" && bosh env')


def echo(stream: str, text: str) -> None:
    """Live output of the bosh CLI on the VM, as it comes."""
    console.out(f"  {text}", highlight=False)


DEPLOY_STEPS = ("deploy_cf", "deploy_bosh")   # deleted in this order: Cloud Foundry, then the full BOSH


def recorded_deployments(session: Session) -> list[str]:
    """Deployments `deploy-cf`/`deploy-bosh` started on the director (done, failed or interrupted)."""
    names = [session.state.step(step).get("deployment") for step in DEPLOY_STEPS]
    return [name for name in names if name]


def delete_director(session: Session, *, keep_deployments: bool = False) -> None:
    """`bosh delete-env` on the inception VM when create-env has run (its state file was brought back); first the
    deployments made through the director and its stemcells, which delete-env would leave in CloudStack."""
    state_file = session.state_dir.path / "secrets" / STATE_SECRET
    if not state_file.exists():
        return
    from inception.remote.bootstrap import DirectorFiles, delete_deployments, delete_env, prepare_workspace
    from inception.remote.bosh_cli import install_bosh_cli
    from inception.remote.connection import director_access, load_connection
    from inception.remote.errors import RemoteError
    from inception.remote.ssh import RemoteHost

    bundle = prepare_bundle(session)
    releases, _stemcell = artifacts(session, bundle)
    files = DirectorFiles(manifest=bundle.manifest, vars_store=bundle.vars_store, state=bundle.state)
    deployments = [] if keep_deployments else recorded_deployments(session)
    with RemoteHost(ssh_target(session)).connect(wait=60) as host:
        layout = prepare_workspace(host, session.config.name)
        bosh = install_bosh_cli(host, bosh_cli(session))
        if deployments:
            try:
                delete_deployments(host, layout, bosh=bosh, director=director_access(load_connection(
                    session.state_dir.path)), deployments=deployments, on_output=echo,
                    on_step=lambda message: line("step", message))
            except RemoteError as exc:
                raise RemoteError(f"{exc}\nThe director could not delete what it made; bosh delete-env would leave "
                                  "those VMs, disks and templates in CloudStack. Fix the director and re-run "
                                  "`inception destroy`, or pass --keep-deployments to delete the director anyway.") from None
            for step in DEPLOY_STEPS:
                session.state.clear_step(step)
            for deployment in deployments:
                line("deleted", f"deployment {deployment}")
        delete_env(host, layout, bosh=bosh, files=files, releases=releases,
                   on_output=echo,
                   on_step=lambda message: line("step", message))
    state_file.unlink(missing_ok=True)
    line("deleted", "Micro BOSH director")
