"""`inception print-env`: shell exports for the bosh CLI to reach the director through the inception VM.

`eval "$(inception print-env)"`. It prints the director's admin secret: that is its job.
"""
from __future__ import annotations

import shlex
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from inception.commands.up import CONFIG_OPTION, STATE_OPTION

err = Console(stderr=True)


def environment_exports(state_dir: Path) -> dict[str, str]:
    from inception.remote.connection import all_proxy, director_access, load_connection

    info = load_connection(state_dir)
    director = director_access(info)
    return {**director.env(), "BOSH_ALL_PROXY": all_proxy(info.target)}


def print_env(
    config: Path = CONFIG_OPTION,
    state_dir: Optional[Path] = STATE_OPTION,
) -> None:
    """Print BOSH_ENVIRONMENT, BOSH_CLIENT, BOSH_CLIENT_SECRET, BOSH_CA_CERT and BOSH_ALL_PROXY, ready for eval."""
    from inception.remote.connection import resolve_state_dir
    from inception.remote.errors import RemoteError

    try:
        exports = environment_exports(resolve_state_dir(config, state_dir))
    except RemoteError as exc:
        err.print(f"[red]error:[/] {exc}", highlight=False)
        raise typer.Exit(1) from None
    for name, value in exports.items():
        typer.echo(f"export {name}={shlex.quote(value)}")


def register(app: typer.Typer) -> None:
    app.command(name="print-env")(print_env)
