"""calculate_vm_cloud_properties: the smallest compute offering that fits (a custom one with cpu/ram when none
does), plus the ephemeral disk size for create_vm to pick a disk offering."""
from __future__ import annotations

from typing import Any

from cpi.methods import lookup
from cpi.methods.cloud import Cloud, names_of
from cpi.networks import Zone
from cpi.properties import vm_resources
from cpi.protocol import CloudError


def calculate_vm_cloud_properties(cloud: Cloud, resources: dict[str, Any]) -> dict[str, Any]:
    """Among the compute offerings of the default zone (when there is one) carrying the configured tags
    (`compute_offering_tags` / `_not_tags`, the Go CPI's calculate.compute_tags / not_compute_tags)."""
    wanted = vm_resources(resources)
    offerings = lookup.sized_compute_offerings(cloud, _default_zone(cloud))
    fitting = sorted(
        (o for o in offerings if not o.get("iscustomized")
         and int(o.get("cpunumber") or 0) >= wanted.cpu and int(o.get("memory") or 0) >= wanted.ram),
        key=lambda o: (int(o["memory"]), int(o["cpunumber"]), o.get("name", "")),
    )
    if fitting:
        props: dict[str, Any] = {"compute_offering": fitting[0]["name"]}
    else:
        custom = next((o for o in offerings if o.get("iscustomized")), None)
        if custom is None:
            raise CloudError(
                f"no compute offering has {wanted.cpu} CPUs and {wanted.ram} MiB and none is custom; "
                f"compute offerings: {names_of(offerings)}"
            )
        props = {"compute_offering": custom["name"], "cpu": wanted.cpu, "ram": wanted.ram}
    if wanted.ephemeral_disk_size:
        props["disk"] = wanted.ephemeral_disk_size
    return props


def _default_zone(cloud: Cloud) -> Zone | None:
    """The zone VMs go to without an availability_zone, if the config or the account makes it clear."""
    try:
        return cloud.zone()
    except CloudError:
        return None
