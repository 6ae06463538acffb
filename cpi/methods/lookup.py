"""Names from manifests -> CloudStack objects. An unknown name is a CloudError that names it and lists what exists."""
from __future__ import annotations

import math
from typing import Any

from cpi.methods import stemcell_refs
from cpi.methods.cloud import Cloud, names_of
from cpi.networks import Zone
from cpi.protocol import CloudError


def _by_name(items: list[dict[str, Any]], name: str, what: str, where: str = "") -> dict[str, Any]:
    for item in items:
        if item.get("name") == name or item.get("id") == name:
            return item
    raise CloudError(f"{what} {name!r} not found{where}; available: {names_of(items)}")


def _zone_filter(zone: Zone | None) -> dict[str, str]:
    """listServiceOfferings/listDiskOfferings `zoneid`: offerings usable in that zone (CloudStack 4.13+ scopes
    offerings to zones; a zone-scoped offering of another zone cannot deploy there)."""
    return {"zoneid": zone.id} if zone is not None else {}


def offering_tags(offering: dict[str, Any]) -> set[str]:
    """An offering's tags: a disk offering's `tags`, a compute offering's `storagetags` and `hosttags` (comma
    separated lists, as CloudStack answers them)."""
    text = ",".join(str(offering.get(key) or "") for key in ("tags", "storagetags", "hosttags"))
    return {tag.strip() for tag in text.split(",") if tag.strip()}


def _tagged(offerings: list[dict[str, Any]], wanted: tuple[str, ...], unwanted: tuple[str, ...]) -> list[dict[str, Any]]:
    """Offerings carrying one of `wanted` (when any is given) and none of `unwanted` (the Go CPI's calculate.*
    filters, applied here to every choice the CPI makes by size)."""
    return [o for o in offerings if (not wanted or offering_tags(o) & set(wanted)) and not offering_tags(o) & set(unwanted)]


def service_offerings(cloud: Cloud, zone: Zone | None) -> list[dict[str, Any]]:
    return cloud.client.list("listServiceOfferings", **_zone_filter(zone))


def disk_offerings(cloud: Cloud, zone: Zone | None) -> list[dict[str, Any]]:
    return cloud.client.list("listDiskOfferings", **_zone_filter(zone))


def _where(zone: Zone | None) -> str:
    return f" in zone {zone.name}" if zone is not None else ""


def compute_offering(cloud: Cloud, name: str, zone: Zone | None) -> dict[str, Any]:
    return _by_name(service_offerings(cloud, zone), name, "compute offering", _where(zone))


def custom_compute_offering(cloud: Cloud, zone: Zone | None) -> dict[str, Any]:
    offerings = service_offerings(cloud, zone)
    config = cloud.config
    for offering in _tagged(offerings, config.compute_offering_tags, config.compute_offering_not_tags):
        if offering.get("iscustomized"):
            return offering
    raise CloudError(f"cpu/ram given but no custom compute offering exists{_where(zone)}; compute offerings: "
                     f"{names_of(offerings)}")


def sized_compute_offerings(cloud: Cloud, zone: Zone | None) -> list[dict[str, Any]]:
    """Compute offerings calculate_vm_cloud_properties may choose from: in the zone, with the configured tags."""
    config = cloud.config
    return _tagged(service_offerings(cloud, zone), config.compute_offering_tags, config.compute_offering_not_tags)


def disk_offering(cloud: Cloud, name: str, zone: Zone | None) -> dict[str, Any]:
    return _by_name(disk_offerings(cloud, zone), name, "disk offering", _where(zone))


def size_gib(size_mib: int) -> int:
    return max(1, math.ceil(size_mib / 1024))


def _custom_disk_offering(cloud: Cloud, candidates: list[dict[str, Any]],
                          like: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """The custom disk offering for a size no fixed offering has: `custom_disk_offering` when configured (and
    usable here), else the first custom one, preferring one with the storage tags of `like` (a volume's current
    offering: a custom offering on other storage would move the disk)."""
    custom = [o for o in candidates if o.get("iscustomized")]
    named = cloud.config.custom_disk_offering
    if named:
        return next((o for o in custom if named in (o.get("name"), o.get("id"))), None)
    if like is not None:
        same = [o for o in custom if offering_tags(o) == offering_tags(like)]
        custom = same or custom
    return custom[0] if custom else None


def disk_offering_for(cloud: Cloud, size_mib: int, name: str | None,
                      zone: Zone | None = None) -> tuple[dict[str, Any], int | None]:
    """(offering, size in GiB to pass or None) for a disk of `size_mib` in `zone`.

    A named offering is used as is: custom ones get the size, fixed ones must be big enough. Without a name the
    smallest fixed offering that fits wins, else the custom offering (`custom_disk_offering`, else one), both
    among the offerings carrying the configured disk tags.
    """
    gib = size_gib(size_mib)
    offerings = disk_offerings(cloud, zone)
    if name:
        offering = _by_name(offerings, name, "disk offering", _where(zone))
        if offering.get("iscustomized"):
            return offering, gib
        if int(offering.get("disksize") or 0) < gib:
            raise CloudError(f"disk offering {name!r} holds {offering.get('disksize')} GiB, less than the {gib} GiB asked for")
        return offering, None
    candidates = _tagged(offerings, cloud.config.disk_offering_tags, cloud.config.disk_offering_not_tags)
    fixed = sorted(
        (o for o in candidates if not o.get("iscustomized") and int(o.get("disksize") or 0) >= gib),
        key=lambda o: int(o["disksize"]),
    )
    if fixed:
        return fixed[0], None
    custom = _custom_disk_offering(cloud, candidates)
    if custom is not None:
        return custom, gib
    raise CloudError(f"no disk offering{_where(zone)} holds {gib} GiB and none is custom; disk offerings: "
                     f"{names_of(candidates)}")


def resize_offering(cloud: Cloud, volume: dict[str, Any], gib: int,
                    zone: Zone | None) -> tuple[dict[str, Any], int | None] | None:
    """(offering, size in GiB or None) that gives `volume` exactly `gib` GiB, or None when no offering does.

    A custom offering takes the size: the volume's own when it is custom, else `custom_disk_offering` or a custom
    one on the same storage (tags); CloudStack resizes a volume of a fixed offering only by a new offering (the Go
    CPI switches to its custom_disk the same way). Without a custom offering, a fixed one of exactly that size.
    """
    offerings = disk_offerings(cloud, zone)
    current = next((o for o in offerings if o.get("id") == volume.get("diskofferingid")), None)
    if current is not None and current.get("iscustomized"):
        return current, gib
    candidates = _tagged(offerings, cloud.config.disk_offering_tags, cloud.config.disk_offering_not_tags)
    custom = _custom_disk_offering(cloud, candidates, like=current)
    if custom is not None:
        return custom, gib
    exact = [o for o in candidates if not o.get("iscustomized") and int(o.get("disksize") or 0) == gib]
    return (exact[0], None) if exact else None


def networks(cloud: Cloud, zone: Zone, names: list[str | None]) -> list[dict[str, Any]]:
    """The CloudStack networks of the given network names in `zone`."""
    found = [n for n in cloud.client.list("listNetworks", zoneid=zone.id) if n.get("canusefordeploy", True)]
    return [_by_name(found, str(name), f"network in zone {zone.name}") for name in names]


def account_default_network(cloud: Cloud, zone: Zone) -> dict[str, Any] | None:
    """The network CloudStack deploys a VM of an Advanced zone on when no network is named: the account's only
    isolated network there (with none, CloudStack makes one from the Required offering; with several it refuses)."""
    isolated = [n for n in cloud.client.list("listNetworks", zoneid=zone.id)
                if str(n.get("type", "")).lower() == "isolated" and n.get("canusefordeploy", True)]
    return isolated[0] if len(isolated) == 1 else None


def security_group_ids(cloud: Cloud, names: tuple[str, ...]) -> list[str]:
    if not names:
        return []
    groups = cloud.client.list("listSecurityGroups")
    return [_by_name(groups, name, "security group")["id"] for name in names]


def keypair(cloud: Cloud, name: str) -> str:
    pairs = cloud.client.list("listSSHKeyPairs")
    return _by_name(pairs, name, "SSH key pair")["name"]


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
