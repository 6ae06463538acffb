"""`inception`: from an empty CloudStack account to a BOSH director and Cloud Foundry.

Options mean one thing on every verb: `-c/--config` (default inception.yml), `-s/--state-dir` (the environment's
state dir), `-o/--ops-file` (a go-patch ops file, as in the bosh CLI), `--output` (a path written), `-y/--yes`."""
from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Optional

import typer
from typer.core import TyperGroup, TyperOption
from typer.models import Context

from inception import commands

DISTRIBUTION = "cloudstack-inception"


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:   # run from a checkout that was never installed
        return "unknown (not installed)"


def _hide_flag_types(command: Any, parent: Context | None = None) -> None:
    """On/off flags take no value: show no `<bool>` type beside them in --help (typer's rich help shows the
    type of every option, flags included). Applies to the whole command tree and each command's -h/--help
    (made here in a context like the one it runs in, so it has the names the root gives it)."""
    context = Context(command, parent=parent, **(command.context_settings or {}))
    for param in [*command.params, command.get_help_option(context)]:
        if isinstance(param, TyperOption) and param.is_flag:
            param.metavar = ""
    for sub in getattr(command, "commands", {}).values():
        _hide_flag_types(sub, context)


class InceptionGroup(TyperGroup):
    """The root command: fixes the flags' help of every command before anything runs or shows help."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        _hide_flag_types(self)
        return super().main(*args, **kwargs)


app = typer.Typer(
    cls=InceptionGroup,
    help="Bootstrap BOSH and Cloud Foundry on Apache CloudStack: build the CloudStack side, bootstrap Micro BOSH "
         "with the bundled CPI, render manifests, and tear it all down again. Without a configured CloudStack, "
         "commands run against the embedded simulator.",
    no_args_is_help=True, add_completion=False, rich_markup_mode="rich",
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"inception {package_version()}")
        raise typer.Exit()


@app.callback()
def _options(
    show_version: Optional[bool] = typer.Option(None, "--version", callback=_print_version, is_eager=True,
                                                help="Print the version and exit."),
) -> None:
    """Bootstrap BOSH and Cloud Foundry on Apache CloudStack."""


def _register_commands() -> None:
    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main() -> None:
    app()
