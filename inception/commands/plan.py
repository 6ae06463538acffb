"""`inception plan [--json]`: what `up` would create, reuse, change or refuse, calling no mutating API."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import console, handle_errors, table
from inception.commands.up import CONFIG_OPTION, STATE_OPTION


@handle_errors
def plan(
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON."),
) -> None:
    """Show what `inception up` would do to the CloudStack side of the environment."""
    from inception.cloud.layout import build_steps
    from inception.cloud.session import open_session
    from inception.plan import make_plan

    with open_session(config, state_dir, lock=False) as session:
        result = make_plan(session.ctx, build_steps(session.ctx))
        bootstrap = session.state.step("bootstrap")
    if as_json:
        print(json.dumps({"environment": session.config.name, "zone": session.config.cloudstack["zone"],
                          "target": session.target.kind, "counts": result.counts(),
                          "resources": [r.as_dict() for r in result.rows],
                          "bootstrap": bootstrap or None}, indent=2))
    else:
        console.print(table(f"Plan for {session.config.name} ({session.config.cloudstack['zone']})",
                            ["action", "resource", "id", "detail"],
                            [[r.action, r.label, r.id, r.detail] for r in result.rows]))
        console.print(", ".join(f"{n} to {a}" for a, n in result.counts().items()) or "nothing to do")
    if result.refusals:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
