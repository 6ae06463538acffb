"""Names from manifests -> CloudStack objects. An unknown name is a CloudError that names it and lists what exists."""
from __future__ import annotations

import math
from typing import Any

from cpi.methods import stemcell_refs
from cpi.methods.cloud import Cloud, names_of
from cpi.networks import Zone
from cpi.protocol import CloudError


def _by_name(items: list[dict[str, Any]], name: str, what: str) -> dict[str, Any]:
    for item in items:
        if item.get("name") == name or item.get("id") == name:
            return item
    raise CloudError(f"{what} {name!r} not found; available: {names_of(items)}")


def compute_offering(cloud: Cloud, name: str) -> dict[str, Any]:
    return _by_name(cloud.client.list("listServiceOfferings"), name, "compute offering")


def custom_compute_offering(cloud: Cloud) -> dict[str, Any]:
    offerings = cloud.client.list("listServiceOfferings")
    for offering in offerings:
        if offering.get("iscustomized"):
            return offering
    raise CloudError(f"cpu/ram given but no custom compute offering exists; compute offerings: {names_of(offerings)}")


def disk_offering(cloud: Cloud, name: str) -> dict[str, Any]:
    return _by_name(cloud.client.list("listDiskOfferings"), name, "disk offering")


def size_gib(size_mib: int) -> int:
    return max(1, math.ceil(size_mib / 1024))


def disk_offering_for(cloud: Cloud, size_mib: int, name: str | None) -> tuple[dict[str, Any], int | None]:
    """(offering, size in GiB to pass or None) for a disk of `size_mib`.

    A named offering is used as is: custom ones get the size, fixed ones must be big enough. Without a name the
    smallest fixed offering that fits wins, else a custom offering with the size.
    """
    gib = size_gib(size_mib)
    offerings = cloud.client.list("listDiskOfferings")
    if name:
        offering = _by_name(offerings, name, "disk offering")
        if offering.get("iscustomized"):
            return offering, gib
        if int(offering.get("disksize") or 0) < gib:
            raise CloudError(f"disk offering {name!r} holds {offering.get('disksize')} GiB, less than the {gib} GiB asked for")
        return offering, None
    fixed = sorted(
        (o for o in offerings if not o.get("iscustomized") and int(o.get("disksize") or 0) >= gib),
        key=lambda o: int(o["disksize"]),
    )
    if fixed:
        return fixed[0], None
    for offering in offerings:
        if offering.get("iscustomized"):
            return offering, gib
    raise CloudError(f"no disk offering holds {gib} GiB and none is custom; disk offerings: {names_of(offerings)}")


def network_ids(cloud: Cloud, zone: Zone, names: list[str | None]) -> list[str]:
    """CloudStack network ids for the given network names in `zone`."""
    networks = [n for n in cloud.client.list("listNetworks", zoneid=zone.id) if n.get("canusefordeploy", True)]
    return [_by_name(networks, str(name), f"network in zone {zone.name}")["id"] for name in names]


def security_group_ids(cloud: Cloud, names: tuple[str, ...]) -> list[str]:
    if not names:
        return []
    groups = cloud.client.list("listSecurityGroups")
    return [_by_name(groups, name, "security group")["id"] for name in names]


def keypair(cloud: Cloud, name: str) -> str:
    pairs = cloud.client.list("listSSHKeyPairs")
    return _by_name(pairs, name, "SSH key pair")["name"]


def affinity_group_ids(cloud: Cloud, names: tuple[str, ...]) -> list[str]:
    if not names:
        return []
    groups = cloud.client.list("listAffinityGroups")
    return [_by_name(groups, name, "affinity group")["id"] for name in names]


def os_type_id(cloud: Cloud, descriptions: list[str]) -> str:
    """The first OS type whose description matches one of `descriptions` (in order of preference)."""
    types = cloud.client.list("listOsTypes")
    by_description = {t.get("description"): t for t in types}
    for description in descriptions:
        if description in by_description:
            return by_description[description]["id"]
    raise CloudError(f"none of the OS types {', '.join(map(repr, descriptions))} exists in CloudStack")


def template(cloud: Cloud, stemcell_cid: str, zone: Zone) -> dict[str, Any]:
    """The template of a stemcell cid (`<template id>:<reference>`, or a bare template id) in `zone`, ready for
    deployment."""
    template_id = stemcell_refs.template_id(stemcell_cid)
    found = cloud.client.find_one("listTemplates", templatefilter="executable", id=template_id, zoneid=zone.id)
    if found is None:
        elsewhere = cloud.client.list_found("listTemplates", templatefilter="executable", id=template_id)
        if elsewhere:  # made for other zones: the VM's zone is missing from the config
            raise CloudError(f"stemcell {stemcell_cid} is not in zone {zone.name}, only in "
                             f"{', '.join(sorted(str(t.get('zonename')) for t in elsewhere))}; add {zone.name} to "
                             "cloudstack.zones and upload the stemcell again (bosh upload-stemcell --fix)")
        raise CloudError(f"stemcell {stemcell_cid} not found in zone {zone.name}; upload it again (it may have been deleted)")
    if not found.get("isready"):
        raise CloudError(f"stemcell {stemcell_cid} is not ready in zone {zone.name} ({found.get('status')})", ok_to_retry=True)
    return found
