"""`inception`: from an empty CloudStack account to a BOSH director and Cloud Foundry."""
from __future__ import annotations

import importlib
import pkgutil

import typer

from inception import commands

app = typer.Typer(
    help="Bootstrap BOSH and Cloud Foundry on Apache CloudStack: build the CloudStack side, bootstrap Micro BOSH "
         "with the bundled CPI, render manifests, and tear it all down again. Without a configured CloudStack, "
         "commands run against the embedded simulator.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
)


def _register_commands() -> None:
    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    app()
