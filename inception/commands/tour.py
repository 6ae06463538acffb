"""`inception tour`: a short scripted walk through the embedded simulator with the project's API client."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

console = Console()


def tour(
    state_dir: Optional[Path] = typer.Option(None, "--simulator-dir",
                                             help="Keep the simulator's state here (default: a temp dir)."),
    zone: str = typer.Option("Sim-Basic", help="Zone to deploy the VM in."),
) -> None:
    """Start the embedded CloudStack simulator, list zones and offerings, deploy a VM, wait for it, destroy it."""
    from cpi.cloudstack.client import CloudStackClient
    from inception.cloud.report import table
    from inception.embedded import EmbeddedCloud

    with tempfile.TemporaryDirectory(prefix="inception-tour-") as tmp:
        sim = EmbeddedCloud(state_dir or Path(tmp) / "simulator")
        with console.status("Starting the embedded CloudStack simulator..."):
            target = sim.start()
        try:
            console.print(f"[green]✓[/] simulator listening at {target.endpoint}")
            client = CloudStackClient(target.endpoint, target.api_key, target.secret_key)
            zones = client.list("listZones")
            console.print(table("Zones", ["name", "network type", "security groups", "id"],
                                 [[z["name"], z["networktype"], z["securitygroupsenabled"], z["id"]] for z in zones]))
            offerings = client.list("listServiceOfferings")
            console.print(table("Compute offerings", ["name", "CPUs", "memory (MB)", "custom"],
                                 [[o["name"], o.get("cpunumber", "any"), o.get("memory", "any"), o["iscustomized"]]
                                  for o in offerings]))
            target = next((z for z in zones if z["name"] == zone), None)
            if target is None:
                console.print(f"[red]No zone named {zone!r}; choose one of: "
                              f"{', '.join(z['name'] for z in zones)}[/]")
                raise typer.Exit(1)
            template = client.list("listTemplates", templatefilter="featured", zoneid=target["id"])[0]
            offering = next(o for o in offerings if not o["iscustomized"])
            started = time.monotonic()
            with console.status(f"Deploying a VM from {template['name']!r} in {target['name']}..."):
                vm = client.run("deployVirtualMachine", zoneid=target["id"], templateid=template["id"],
                                serviceofferingid=offering["id"], name="tour-vm",
                                operation="deploy the tour VM")["virtualmachine"]
            nic = (vm.get("nic") or [{}])[0]
            console.print(table(f"Deployed in {time.monotonic() - started:.1f} s", ["name", "state", "IP", "id"],
                                 [[vm["name"], vm["state"], nic.get("ipaddress"), vm["id"]]]))
            with console.status("Destroying and expunging the VM..."):
                client.run("destroyVirtualMachine", id=vm["id"], expunge=True, operation="destroy the tour VM")
            left = client.list("listVirtualMachines", id=vm["id"])
            console.print("[green]✓[/] VM destroyed and expunged" if not left else
                          f"[yellow]VM still listed: {left[0]['state']}[/]")
        finally:
            sim.stop()
        console.print("Tour done. Next: `inception up` builds a whole environment the same way.")


def register(app: typer.Typer) -> None:
    app.command("tour")(tour)
