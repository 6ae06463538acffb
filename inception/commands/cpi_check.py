"""`inception cpi-check [--config FILE]`: run the CPI lifecycle check against the configured CloudStack, or against
the embedded simulator when no config is given, printing every step with its duration."""
from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console

console = Console()


def _from_project_config(config_file: Path, workdir: Path) -> tuple[str, Any]:
    """cpi.json and the lifecycle plan from the project config's cloudstack, networks, offerings and stemcell."""
    from cpi.lifecycle import LifecyclePlan, sample_stemcell, unpack_stemcell, write_cpi_config
    from inception.config.credentials import api_settings
    from inception.config.loader import load_config

    config = load_config(config_file)
    api = api_settings(config)
    section = config.cloudstack
    cloudstack: dict[str, Any] = {
        "endpoint": api.endpoint, "api_key": api.api_key, "secret_access_key": api.secret_key,
        "default_zone": section["zone"], "state_timeout": section.get("state_timeout", 600),
        "state_timeout_volume": section.get("state_timeout_volume", 1200),
        "stemcell_public_visibility": section.get("stemcell_public_visibility", False),
    }
    if api.verify is False:
        cloudstack["skip_verify_ssl"] = True
    elif isinstance(api.verify, str):
        cloudstack["ca_cert"] = Path(api.verify).read_text()
    net = config.network()
    cloud_properties: dict[str, Any] = {}
    if net.get("cloudstack_network"):
        cloud_properties["name"] = net["cloudstack_network"]
    if net.get("security_groups"):
        cloud_properties["security_groups"] = net["security_groups"]
    networks = {net["name"]: {"type": "dynamic", "dns": net.get("dns", []), "default": ["dns", "gateway"],
                              "cloud_properties": cloud_properties}}
    director = (config.get("offerings") or {}).get("director") or {}
    vm_properties = None
    if director.get("compute"):
        vm_properties = {"compute_offering": director["compute"]}
        for key, cpi_key in (("ephemeral_disk_offering", "ephemeral_disk_offering"), ("ephemeral_disk_size", "disk"),
                             ("root_disk_size", "root_disk_size")):
            if director.get(key):
                vm_properties[cpi_key] = director[key]
    stemcell_file = (config.get("stemcell") or {}).get("file")
    stemcell = unpack_stemcell(Path(stemcell_file), workdir) if stemcell_file else sample_stemcell(workdir)
    disk_properties = {"disk_offering": director["disk_offering"]} if director.get("disk_offering") else {}
    plan = LifecyclePlan(stemcell, vm_properties, networks, disk_properties=disk_properties)
    return write_cpi_config(workdir / "cpi.json", cloudstack), plan


def cpi_check(
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="Project config file; without it the "
                                          "embedded CloudStack simulator is started in a temporary directory."),
    zone: str = typer.Option("Sim-Basic", help="Simulator zone to use when no config is given."),
    state_dir: Optional[Path] = typer.Option(None, "--simulator-dir", help="Keep the embedded simulator's state "
                                             "here (default: a temporary directory)."),
) -> None:
    """Drive the CPI executable through a full lifecycle (stemcell, VM, disk, snapshot) and clean up."""
    from cpi.lifecycle import CpiProcess, StepResult, run_lifecycle, simulator_check

    def report(result: StepResult) -> None:
        mark = "[green]✓[/]" if result.ok else "[red]✗[/]"
        console.print(f"{mark} {result.name:<32} {result.seconds:7.2f}s  [dim]{result.detail}[/]", highlight=False)

    with tempfile.TemporaryDirectory(prefix="cpi-check-") as tmp:
        workdir = Path(tmp)
        sim = None
        try:
            if config is not None:
                from inception.config.loader import ConfigError

                try:
                    config_path, plan = _from_project_config(config, workdir)
                except ConfigError as exc:
                    console.print(f"[red]{exc}[/]")
                    raise typer.Exit(2) from None
                console.print(f"CPI lifecycle check against the CloudStack configured in {config}")
            else:
                from inception.embedded import EmbeddedCloud

                sim = EmbeddedCloud(state_dir or workdir / "simulator")
                with console.status("Starting the embedded CloudStack simulator..."):
                    target = sim.start()
                console.print(f"CPI lifecycle check against the embedded simulator at {target.endpoint} (zone {zone})")
                config_path, plan = simulator_check(target.endpoint, target.api_key, target.secret_key, zone, workdir)
            results = run_lifecycle(CpiProcess(config_path), plan, report)
        finally:
            if sim is not None:
                sim.stop()
    failed = [r for r in results if not r.ok]
    total = sum(r.seconds for r in results)
    if failed:
        console.print(f"[red]{len(failed)} step(s) failed[/] in {total:.1f}s")
        raise typer.Exit(1)
    console.print(f"[green]all {len(results)} steps passed[/] in {total:.1f}s")


def register(app: typer.Typer) -> None:
    app.command("cpi-check")(cpi_check)
