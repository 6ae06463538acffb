"""`inception cleanup-leftovers`: find and delete what `up` tagged for an environment, even when its state dir
is lost (SSH keypairs, which CloudStack cannot tag, are found by the names the config gives them)."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import console, handle_errors, line, table
from inception.commands.up import CONFIG_OPTION, STATE_OPTION


@handle_errors
def cleanup_leftovers(
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be deleted."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete every CloudStack resource tagged inception-environment=<name>, and the environment's keypairs."""
    from inception.cloud.session import open_session
    from inception.cloud.teardown import delete_leftovers, find_leftovers

    with open_session(config, state_dir, lock=True) as session:
        settings = session.config.get("inception") or {}
        keypairs = list(dict.fromkeys([settings.get("keypair") or session.config.key_name, session.config.key_name]))
        found = find_leftovers(session.ctx.client, session.config.name, keypairs)
        if not found:
            console.print(f"No leftovers of environment {session.config.name}.")
            return
        console.print(table(f"Leftovers of {session.config.name}", ["kind", "name", "id"],
                            [[item.kind.label, item.name, item.id] for item in found]))
        if dry_run:
            return
        if not yes:
            if not sys.stdin.isatty():
                raise typer.BadParameter("pass --yes when not on a terminal", param_hint="--yes")
            typer.confirm(f"Delete these {len(found)} resources?", abort=True)
        errors = delete_leftovers(session.ctx.client, found, lambda label, action, detail: line(action, label, detail))
        for record in session.state.resources:   # what was just deleted is no longer the state's either
            if record.id in {item.id for item in found}:
                session.state.forget(record.key)
    if errors:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("cleanup-leftovers")(cleanup_leftovers)
