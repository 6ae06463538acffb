"""`inception destroy`: delete-env when a director exists, then every recorded resource, newest first.

Works from any state `up` can leave behind, including an interrupted one: resources whose create was in flight
are looked up the way `up` would find them."""
from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import console, handle_errors, line
from inception.commands.up import CONFIG_OPTION, STATE_OPTION


@handle_errors
def destroy(
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    keep_deployments: bool = typer.Option(
        False, "--keep-deployments",
        help="Do not delete the deployments made with deploy-cf/deploy-bosh (nor the director's stemcells) before "
             "deleting the director: only when the director cannot, as their VMs and disks then stay in CloudStack."),
) -> None:
    """Delete the deployments made through the director, the director (bosh delete-env), then every CloudStack
    resource the environment created, newest first."""
    from cpi.cloudstack.errors import CloudStackError
    from inception.cloud.bootstrap import BUNDLE, delete_director
    from inception.cloud.director_address import STATE_KEY as DIRECTOR_IP_KEY
    from inception.cloud.layout import build_steps
    from inception.cloud.session import open_session
    from inception.cloud.teardown import destroy_recorded
    from inception.config.loader import ConfigError

    with open_session(config, state_dir, lock=True) as session:
        records = session.state.resources
        if not records and not session.state.get_value("steps"):
            console.print(f"Nothing recorded for {session.config.name}: nothing to destroy.")
            return
        if not yes:
            if not sys.stdin.isatty():
                raise typer.BadParameter("destroy deletes resources; pass --yes when not on a terminal", param_hint="--yes")
            typer.confirm(f"Destroy environment {session.config.name} ({len(records)} resources)?", abort=True)
        delete_director(session, keep_deployments=keep_deployments)
        try:
            steps = {s.key: s for s in build_steps(session.ctx)}
        except (ConfigError, CloudStackError, LookupError):
            steps = {}   # a config that no longer builds must not block a teardown: ids are recorded
        destroy_recorded(session.ctx, steps, lambda label, action, detail: line(action, label, detail))
        for step in list(session.state.get_value("steps", {})):
            session.state.clear_step(step)
        session.state.clear_outputs()
        for chosen in (DIRECTOR_IP_KEY, "zone"):     # nothing left to keep them for
            session.state.set_value(chosen, None)
        shutil.rmtree(session.state_dir.path / BUNDLE, ignore_errors=True)
        forgotten = session.state_dir.forget_secrets()
        if forgotten:
            line("deleted", "local secrets of the environment", ", ".join(forgotten))
        console.print(f"[green]✓[/] environment {session.config.name} destroyed")


def register(app: typer.Typer) -> None:
    app.command("destroy")(destroy)
