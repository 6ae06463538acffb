"""`inception up`: build the CloudStack side of an environment, then bootstrap Micro BOSH on it.

Re-running converges: every step finds what exists (recorded, tagged, or left by an interrupted run) before
creating anything. A config change is applied when it can be (new rules, removed rules) and refused with the
reason when it cannot (the inception VM's offering, template or keypair, a network's cidr).
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import console, handle_errors, line

# Every command shares these options; the modules behind them (HTTP stack, schema validation, crypto) are imported
# inside the command functions, as every `inception` start registers every command.
DEFAULT_CONFIG = Path("inception.yml")

CONFIG_OPTION = typer.Option(DEFAULT_CONFIG, "--config", "-c", help="Project config file (see docs/config.md).")
STATE_OPTION = typer.Option(None, "--state-dir", "-s", envvar="INCEPTION_STATE_DIR",
                            help="State dir of the environment (default: .inception/<name> next to the config).")


@handle_errors
def up(
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
    non_interactive: bool = typer.Option(False, "--non-interactive", help="Never prompt; fail on what a prompt "
                                         "would have asked."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Apply deletions and replacements without asking."),
    sequential: bool = typer.Option(False, "--sequential", help="Run the CloudStack steps one after the other "
                                    "(default: independent steps at once, inception.concurrency)."),
    cloud_only: bool = typer.Option(False, "--cloud-only", help="Build the CloudStack side only; no bootstrap."),
) -> None:
    """Create or converge the environment: keypair, security groups or network/IP/firewall, the inception VM,
    then Micro BOSH (on a simulator: the bootstrap bundle and the CPI lifecycle check)."""
    from inception.cloud.apply import apply_plan, check_run, prepare, refuse
    from inception.cloud.bootstrap import bootstrap_tasks, finish_bootstrap
    from inception.cloud.session import open_session

    interactive = not non_interactive and sys.stdin.isatty()
    prepare(config, interactive=interactive)
    with open_session(config, state_dir, lock=True) as session:
        console.print(f"Environment [bold]{session.config.name}[/] in zone {session.config.cloudstack['zone']} "
                      f"({session.config.zone_type}) on {describe_target(session)}; state in {session.state_dir.path}")
        workers = 1 if sequential else int((session.config.get("inception") or {}).get("concurrency", 8))
        verdict = check_run(session, bootstrap=not cloud_only)   # before anything changes
        refuse(verdict.problems)
        tasks = [] if cloud_only else bootstrap_tasks(session, concurrent=workers > 1)
        apply_plan(session, verdict, workers=workers, confirm=None if yes else (interactive and typer.confirm),
                   tasks=tasks)
        if cloud_only:
            line("skip", "bootstrap", "--cloud-only")
            return
        finish_bootstrap(session)


def describe_target(session) -> str:  # noqa: ANN001 - Session, imported lazily
    target = session.target
    if target.kind == "embedded":
        return "the embedded CloudStack simulator"
    return f"{'a CloudStack simulator at ' if target.kind == 'simulator' else ''}{target.endpoint}"


def register(app: typer.Typer) -> None:
    app.command("up")(up)
