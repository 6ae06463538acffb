"""`inception manifests render KIND` and `inception manifests check FILE`."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.console import Console
from rich.markup import escape

from inception.commands.up import CONFIG_OPTION

if TYPE_CHECKING:
    from inception.config.loader import ProjectConfig

# The renderer (schema validation, crypto, YAML) is imported when a command runs, not at every `inception` start;
# tests/inception/test_cli_startup.py keeps this list equal to inception.manifests.render.KINDS.
KIND_NAMES = ("micro", "bosh", "cf", "cloud-config")
err = Console(stderr=True)
manifests_app = typer.Typer(help="Render and check BOSH manifests (Micro BOSH, full BOSH, cf-release, cloud-config).",
                            no_args_is_help=True)


def default_vars_store(config: ProjectConfig, kind: str) -> Path:
    """`.inception/<env>/<kind>-vars.yml` next to the config file: one store per manifest kind, so the
    director's and Cloud Foundry's passwords never coincide."""
    return Path(config.source).resolve().parent / ".inception" / config.name / f"{kind}-vars.yml"


def _fail(message: str) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(1)


def _fill_zone_type(config: ProjectConfig) -> None:
    """Read the zone type from the API when the file does not say it."""
    if config.zone_type is not None:
        return
    from cpi.cloudstack.client import CloudStackClient  # the HTTP stack only when needed
    from cpi.cloudstack.errors import CloudStackError
    from inception.config.credentials import api_settings
    from inception.config.zone import apply_zone_info

    settings = api_settings(config)
    client = CloudStackClient(settings.endpoint, settings.api_key, settings.secret_key, verify=settings.verify, timeout=20)
    try:
        apply_zone_info(config, client)
    except (CloudStackError, OSError) as exc:
        raise _fail(f"cloudstack.zone_type is not set and the zone could not be read from {settings.endpoint}: "
                    f"{exc}; set cloudstack.zone_type: basic or advanced") from None


@manifests_app.command("render")
def render_command(
    kind: str = typer.Argument(..., help=f"one of: {', '.join(KIND_NAMES)}"),
    config_file: Path = CONFIG_OPTION,
    ops_files: list[Path] = typer.Option([], "--ops-file", "-o", metavar="<path>",
                                         help="go-patch ops file, applied in order (repeatable, as in the bosh CLI)"),
    vars_files: list[Path] = typer.Option([], "--vars-file", "-l", metavar="<path>",
                                          help="YAML file of variable values (repeatable)"),
    var: list[str] = typer.Option([], "--var", "-v", metavar="<name=value>", help="a variable (repeatable)"),
    output: Optional[Path] = typer.Option(None, "--output", help="write here (mode 0600) instead of stdout"),
    vars_store: Optional[Path] = typer.Option(None, "--vars-store",
                                              help="generated secrets file (default .inception/<env>/<kind>-vars.yml)"),
) -> None:
    """Render a manifest from the project config, validate it, and print or write it."""
    from inception.config.loader import ConfigError, load_config
    from inception.config.yamlio import write_file
    from inception.manifests.gopatch import OpsError
    from inception.manifests.interpolate import VariablesError
    from inception.manifests.render import KINDS, parse_var_flags, render
    from inception.manifests.validate import ManifestError
    from inception.manifests.varstore import VarsStore

    if kind not in KINDS:
        raise _fail(f"unknown manifest kind {kind!r}; use one of {', '.join(KINDS)}")
    try:
        config = load_config(config_file)
        _fill_zone_type(config)
        store_path = vars_store or default_vars_store(config, kind)
        rendered = render(kind, config, ops_files=ops_files, vars_files=vars_files,
                          variables=parse_var_flags(var), store=VarsStore(store_path))
    except (ConfigError, OpsError, VariablesError, ManifestError) as exc:
        raise _fail(str(exc)) from None
    except OSError as exc:
        raise _fail(f"{exc.filename or ''}: {exc.strerror or exc}") from None
    for path in rendered.ops_applied:
        err.print(f"applied ops file {path}", highlight=False, markup=False)
    for warning in rendered.warnings:
        err.print(warning, highlight=False, markup=False, soft_wrap=True)
    if rendered.generated:
        err.print(f"generated {len(rendered.generated)} secrets into {store_path}", highlight=False, markup=False)
    if output:
        try:
            write_file(output, rendered.text, private=True)
        except OSError as exc:
            raise _fail(f"--output {output}: cannot write: {exc.strerror or exc}") from None
        err.print(f"wrote {output} ({kind})", highlight=False, markup=False)
    else:
        typer.echo(rendered.text, nl=False)


@manifests_app.command("check")
def check_command(
    manifest: Path = typer.Argument(..., help="manifest or cloud-config YAML file"),
    zone_type: Optional[str] = typer.Option(None, "--zone-type", help="basic or advanced: adds the zone rules"),
    stemcell_os: Optional[str] = typer.Option(None, "--stemcell-os", help="e.g. ubuntu-precise: adds its rules"),
) -> None:
    """Check a manifest against the BOSH director's and bosh CLI's rules, the job specs of the release versions it
    names (unknown jobs, missing required properties, addresses) and the completeness checklist; properties no
    job declares are warnings."""
    from inception.config.yamlio import YamlError, load_yaml
    from inception.manifests.validate import ManifestError, check, manifest_kind

    if zone_type not in (None, "basic", "advanced"):
        raise _fail(f"--zone-type {zone_type!r}: use basic or advanced")
    try:
        doc = load_yaml(manifest)
        warnings = check(doc, str(manifest), zone_type=zone_type, stemcell_os=stemcell_os)
    except YamlError as exc:
        raise _fail(str(exc)) from None
    except ManifestError as exc:
        raise _fail(str(exc)) from None
    for warning in warnings:
        err.print(f"[yellow]warning:[/yellow] {escape(str(warning).removeprefix('warning: '))}", highlight=False,
                  soft_wrap=True)
    note = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    typer.echo(f"{manifest}: OK ({manifest_kind(doc)}{note})")


def register(app: typer.Typer) -> None:
    app.add_typer(manifests_app, name="manifests")
