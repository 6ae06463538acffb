"""`inception status`: every recorded resource with its live state, and how to reach the environment."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import console, handle_errors, table
from inception.commands.up import CONFIG_OPTION, STATE_OPTION


@handle_errors
def status(config: Path = CONFIG_OPTION, state_dir: Optional[Path] = STATE_OPTION) -> None:
    """Show the environment's resources as recorded and as CloudStack sees them now.

    Exit status: 0 when every recorded resource is there (or nothing is recorded), 1 when one is gone, was not
    created or is still being created, 2 for a config or state problem."""
    from inception.cloud import kinds
    from inception.cloud.director_address import STATE_KEY as DIRECTOR_IP_KEY
    from inception.cloud.session import open_session

    with open_session(config, state_dir, lock=False) as session:
        rows = []
        missing = incomplete = 0
        for record in session.state.resources:
            kind = kinds.KINDS[record.kind]
            if record.status == "failed":
                live_text = f"[red]not created: {record.error}[/]; `up` tries again"
                incomplete += 1
            elif record.id is None:
                live_text = "[yellow]creation interrupted; `up` resumes it[/]"
                incomplete += 1
            else:
                live = kinds.lookup(session.ctx.client, kind, record.id, record.attrs)
                live_text = kind.describe(live) if live is not None else "[red]missing[/]"
                missing += live is None
            rows.append([kind.label, record.name, record.id, "created" if record.owned else "used, not ours",
                         live_text])
        if rows:
            console.print(table(f"{session.config.name}: {len(rows)} resources",
                                ["kind", "name", "id", "by this environment", "live"], rows))
        outputs = session.state.outputs
        chosen = (session.state.get_value(DIRECTOR_IP_KEY) or {}).get("ip")
        for name, value in (("inception VM", outputs.get("inception_address")),
                            ("host key", outputs.get("inception_host_key_fingerprint")),
                            ("director", outputs.get("director_address")
                             or (f"{chosen} (the address `up` chose for it)" if chosen else None))):
            if value:
                console.print(f"{name}: {value}")
        for step, info in session.state.get_value("steps", {}).items():
            console.print(f"{step}: {info.get('status', '?')} {info.get('detail', '')}".rstrip())
    if not rows:
        console.print("Nothing recorded: run `inception up`.")
    if missing:
        console.print(f"[yellow]{missing} recorded resource(s) are gone; `inception up` recreates them.[/]")
    if missing or incomplete:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("status")(status)
