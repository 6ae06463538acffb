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
    cloud_only: bool = typer.Option(False, "--cloud-only", help="Plan as for `up --cloud-only`: the CloudStack "
                                    "side only, without checking what the bootstrap needs."),
) -> None:
    """Show what `inception up` would do, after the same pre-flight checks; refuses (exit 1) as `up` would."""
    from inception.cloud.apply import check_run, refuse
    from inception.cloud.bootstrap import is_remote
    from inception.cloud.session import open_session

    with open_session(config, state_dir, lock=False) as session:
        verdict = check_run(session, bootstrap=not cloud_only)
        bootstrap = session.state.step("bootstrap")
        remote = is_remote(session)
    rows = verdict.plan.rows if verdict.plan else []
    director = verdict.director.describe() if verdict.director else None
    then = None if cloud_only else "create-env on the inception VM over SSH" if remote else \
        "the bootstrap bundle and the CPI lifecycle check (a simulated VM cannot run create-env)"
    if as_json:
        print(json.dumps({"environment": session.config.name, "zone": session.config.cloudstack["zone"],
                          "target": session.target.kind, "counts": verdict.plan.counts() if verdict.plan else {},
                          "resources": [r.as_dict() for r in rows],
                          "problems": [str(p) for p in verdict.problems], "director": director,
                          "bootstrap": bootstrap or None}, indent=2))
    elif verdict.plan is not None:
        console.print(table(f"Plan for {session.config.name} ({session.config.cloudstack['zone']})",
                            ["action", "resource", "id", "detail"],
                            [[r.action, r.label, r.id, r.detail] for r in rows]))
        console.print(", ".join(f"{n} to {a}" for a, n in verdict.plan.counts().items()) or "nothing to do")
        if director:
            console.print(director[0].upper() + director[1:])
        if then:
            console.print(f"Then: {then}.")
    refuse(verdict.problems)


def register(app: typer.Typer) -> None:
    app.command("plan")(plan)
