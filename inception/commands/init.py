"""`inception init`: the wizard that writes the project config, one saved answer at a time."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from inception.cloud.report import handle_errors
from inception.commands.up import CONFIG_OPTION


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
    """Write the config step by step: credentials, zone, networking, inception VM, keypair, director, stemcell, CF.
    Re-running asks only what is still unanswered."""
    from inception.wizard.flow import Flags, run_wizard

    run_wizard(config, reconfigure=reconfigure, flags=Flags(endpoint, api_key, secret_key, region))


def register(app: typer.Typer) -> None:
    app.command("init")(init)
