"""Shared CPI test data: small stemcell images and helpers over the simulator's resources and call log."""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cpi.stemcell.sample import SampleDisk, spread_extents, write_image_tarball

MiB = 1 << 20

STEMCELL_PROPERTIES = {
    "name": "bosh-cloudstack-kvm-ubuntu-jammy-go_agent", "version": "1.0", "infrastructure": "cloudstack",
    "hypervisor": "kvm", "disk": 3072, "disk_format": "raw", "container_format": "bare", "os_type": "linux",
    "os_distro": "ubuntu", "architecture": "x86_64",
}


def make_image(directory: Path, size: int = 8 * MiB, seed: int = 1) -> tuple[Path, str]:
    """A stemcell `image` tarball holding a raw disk whose last MiB is data (so no trailing zeros), and the
    sha256 of that raw disk."""
    extents = spread_extents(size, 2 * MiB, 3) + [(size - MiB, MiB)]
    path = directory / f"image-{seed}"
    write_image_tarball(str(path), [("root.img", SampleDisk(size, extents, seed=seed), size)], compresslevel=1)
    digest = hashlib.sha256()
    disk = SampleDisk(size, extents, seed=seed)
    for chunk in iter(lambda: disk.read(MiB), b""):
        digest.update(chunk)
    return path, digest.hexdigest()


def own(resources: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """Resources of a kind that are not part of the simulator's seed."""
    return [r for r in resources.get(kind, []) if not r.get("seed")]


def failed_calls(calls: list[dict[str, Any]], since: int = 0) -> list[dict[str, Any]]:
    return [c for c in calls[since:] if int(c.get("status", 200)) >= 400]


def start_host_vm(sim_factory: Any, devices: Path, **options: Any) -> Any:
    """A simulator whose host VM (the VM "the CPI runs on", for volume copy) is a fresh Sim-Basic VM; volumes
    attached to it appear as files in `devices`. `options` go to the simulator (e.g. a seed_file)."""
    import requests

    sim = sim_factory(host_vm_device_dir=devices, **options)
    cs = sim.cs()
    zone = next(z for z in cs.listZones()["zone"] if z["name"] == "Sim-Basic")
    template = cs.listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    offering = cs.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    host = cs.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=offering["id"],
                                   fetch_result=True)["virtualmachine"]
    requests.post(sim.url("/_sim/host-vm"), json={"id": host["id"]}, timeout=10).raise_for_status()
    return sim
