"""`inception init`: the wizard that writes the project config, one saved answer at a time."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import err, handle_errors
from inception.commands.up import CONFIG_OPTION

NO_TERMINAL = ("inception init asks questions and needs a terminal (its input is not one); without one, write "
               "the config by hand (docs/config.md, manifests/examples/config-*.yml) or run `inception up` "
               "with no config for the demo on the embedded simulator")


@handle_errors
def init(
    config: Path = CONFIG_OPTION,
    endpoint: Optional[str] = typer.Option(None, help="CloudStack API URL (else CLOUDSTACK_ENDPOINT / cloudstack.ini)."),
    api_key: Optional[str] = typer.Option(None, help="API key (else CLOUDSTACK_KEY / cloudstack.ini)."),
    secret_key: Optional[str] = typer.Option(None, help="Secret key (else CLOUDSTACK_SECRET / cloudstack.ini); "
                                             "given here it is stored in the config file (mode 0600)."),
    region: Optional[str] = typer.Option(None, help="cloudstack.ini section to read the credentials from."),
    reconfigure: bool = typer.Option(False, "--reconfigure", help="Ask every question again."),
) -> None:
    """Write the config step by step: credentials, zone, networking, inception VM, keypair, director, stemcell,
    releases, CF. Menus take a number or a name; a wrong answer is explained and asked again. Every answer is
    saved at once: re-running asks only what is still unanswered. The config is called complete only when the
    pre-flight checks of `plan` and `up` pass (exit 1 otherwise, with each problem and its fix)."""
    from inception.wizard.flow import Flags, run_wizard

    if not sys.stdin.isatty():
        err.print(f"[red]error:[/] {NO_TERMINAL}", highlight=False, soft_wrap=True)
        raise typer.Exit(2)
    try:
        complete = run_wizard(config, reconfigure=reconfigure, flags=Flags(endpoint, api_key, secret_key, region))
    except (KeyboardInterrupt, EOFError):
        err.print(f"\n[yellow]stopped.[/] The answers given so far are saved in {config}; `inception init` "
                  "continues with the next question.", highlight=False)
        raise typer.Exit(130) from None
    if not complete:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("init")(init)
