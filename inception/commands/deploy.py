"""`inception deploy-bosh` (the optional full BOSH) and `inception deploy-cf` (Cloud Foundry): render the
manifest and the cloud config, then run the bosh CLI on the inception VM against the Micro BOSH director
(upload releases and stemcell, update the cloud config, deploy). On a simulator the manifests are rendered
into the state dir and nothing is deployed."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from inception.cloud.report import console, handle_errors, line
from inception.commands.up import CONFIG_OPTION, STATE_OPTION

if TYPE_CHECKING:
    from inception.cloud.session import Session
    from inception.config.loader import ProjectConfig

DEPLOYMENTS = {"bosh": "full BOSH", "cf": "Cloud Foundry"}   # kind: title


def _vars_store(session: "Session", kind: str) -> Path:
    """The deployment's generated secrets (uploaded for `bosh deploy --vars-store`, brought back after)."""
    return session.state_dir.secrets / f"{kind}-creds.yml"


def _render(kind: str, session: "Session", config: "ProjectConfig",
            variables: dict[str, str]) -> tuple[Path, Path, str]:
    """Write the deployment's manifest and the cloud config into secrets/; (manifest, cloud config, name)."""
    from inception.manifests.render import render
    from inception.manifests.varstore import VarsStore

    title = DEPLOYMENTS[kind]
    rendered = render(kind, config, store=VarsStore(_vars_store(session, kind)), variables=variables)
    manifest = session.state_dir.write_secret(f"{kind}.yml", rendered.text)
    cloud_config = session.state_dir.write_secret("cloud-config.yml", render("cloud-config", config).text)
    name = rendered.manifest["name"]
    line("created", f"{title} manifest", f"{session.state_dir.relative(manifest)} (deployment {name})")
    return manifest, cloud_config, name


def _deploy(kind: str, config: Path, state_dir: Optional[Path]) -> None:
    from inception.cloud.bootstrap import artifact, artifacts, bosh_cli, echo, prepare_bundle, ssh_override, ssh_target
    from inception.cloud.session import open_session

    title = DEPLOYMENTS[kind]
    with open_session(config, state_dir, lock=True) as session:
        remote = not session.target.simulated or ssh_override(session.config) is not None
        if remote and session.state.step("bootstrap").get("status") != "done":
            console.print("[red]No Micro BOSH director yet:[/] run `inception up` first.")
            raise typer.Exit(1)
        bundle = prepare_bundle(session)
        if not remote:
            _render(kind, session, bundle.config, {})
            session.state.set_step(f"deploy_{kind}", status="not run", detail="simulated inception VM")
            console.print(f"[yellow]{title} was NOT deployed:[/] the simulated inception VM has no operating system "
                          "and there is no director. The rendered manifests are in "
                          f"{session.state_dir.path / 'secrets'}.")
            return
        from inception.remote.bootstrap import deploy, director_uuid, prepare_workspace
        from inception.remote.bosh_cli import install_bosh_cli
        from inception.remote.connection import director_access, load_connection
        from inception.remote.errors import RemoteError
        from inception.remote.ssh import RemoteHost

        access = director_access(load_connection(session.state_dir.path))
        director_releases, stemcell = artifacts(session, bundle)
        releases = director_releases if kind == "bosh" else \
            [artifact(session, (session.config.get("releases") or {}).get("cf") or {}, "releases.cf")]
        step, name = f"deploy_{kind}", None
        try:
            with RemoteHost(ssh_target(session)).connect(wait=60) as host:
                layout = prepare_workspace(host, session.config.name)
                bosh = install_bosh_cli(host, bosh_cli(session))
                # BOSH v1 manifests name their director; the one `up` made is asked unless the config says.
                uuid = session.config.director.get("uuid") or director_uuid(host, bosh=bosh, director=access)
                manifest, cloud_config, name = _render(kind, session, bundle.config, {"director_uuid": uuid})
                session.state.set_step(step, status="running", deployment=name)
                deploy(host, layout, bosh=bosh, director=access, deployment=name, manifest=manifest,
                       vars_store=_vars_store(session, kind), releases=releases,
                       stemcells=[stemcell], cloud_config=cloud_config,
                       on_output=echo, on_step=lambda message: line("step", message))
        except RemoteError as exc:   # its message carries no secret (inception.remote.errors)
            if name is not None:
                session.state.set_step(step, status="failed", detail=str(exc).splitlines()[0][:200], deployment=name)
            raise
        session.state.set_step(step, status="done", detail=f"deployment {name}", deployment=name)
        console.print(f"[green]✓[/] {title} deployed ({name}); see it with: eval \"$(inception print-env)\" && "
                      f"bosh -d {name} instances")


@handle_errors
def deploy_bosh(config: Path = CONFIG_OPTION, state_dir: Optional[Path] = STATE_OPTION) -> None:
    """Deploy the optional full BOSH with the Micro BOSH director (config section full_bosh)."""
    _deploy("bosh", config, state_dir)


@handle_errors
def deploy_cf(config: Path = CONFIG_OPTION, state_dir: Optional[Path] = STATE_OPTION) -> None:
    """Deploy Cloud Foundry (cf-release, config sections cf and releases.cf) with the Micro BOSH director."""
    _deploy("cf", config, state_dir)


def register(app: typer.Typer) -> None:
    app.command("deploy-bosh")(deploy_bosh)
    app.command("deploy-cf")(deploy_cf)
