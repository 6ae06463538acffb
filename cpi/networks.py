"""Planning NICs from BOSH's `networks` argument, and reporting back what each NIC got.

Zone kinds (detected per zone from listZones): Basic (one shared guest network, security groups, no static NAT),
Advanced (isolated/shared networks chosen by name, static NAT for vip) and Advanced with security groups.
BOSH network types: `dynamic` (CloudStack picks the IP), `manual` (the IP BOSH chose, requested with
`iptonetworklist[n].ip`), `vip` (static NAT of a public IP the operator already acquired). The network carrying
the default gateway comes first, so it becomes the VM's default NIC (eth0).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from cpi.properties import network_properties
from cpi.protocol import CloudError, CpiError

NIC_TYPES = ("manual", "dynamic")


@dataclass(frozen=True)
class Zone:
    id: str
    name: str
    basic: bool
    security_groups: bool

    @classmethod
    def from_api(cls, zone: dict[str, Any]) -> "Zone":
        return cls(
            id=zone["id"],
            name=zone["name"],
            basic=str(zone.get("networktype", "")).lower() == "basic",
            security_groups=bool(zone.get("securitygroupsenabled")),
        )

    @property
    def kind(self) -> str:
        if self.basic:
            return "Basic"
        return "Advanced with security groups" if self.security_groups else "Advanced"


@dataclass(frozen=True)
class Nic:
    bosh_name: str
    type: str
    ip: str | None
    cs_network: str | None  # CloudStack network name from cloud_properties
    default: bool


@dataclass(frozen=True)
class NetworkPlan:
    nics: tuple[Nic, ...]  # default first
    vip: tuple[str, str] | None  # (BOSH network name, public IP)
    security_groups: tuple[str, ...]

    @property
    def default_nic(self) -> Nic:
        return self.nics[0]


def plan_networks(networks: Any, zone: Zone, default_security_groups: tuple[str, ...] = ()) -> NetworkPlan:
    if not isinstance(networks, dict) or not networks:
        raise CpiError("create_vm networks must be a non-empty object of network name -> spec")
    nics: list[Nic] = []
    vips: list[tuple[str, str]] = []
    groups: list[str] = []
    for name, spec in networks.items():
        if not isinstance(spec, dict):
            raise CpiError(f"networks.{name} must be an object")
        kind = spec.get("type") or "manual"
        props = network_properties(spec.get("cloud_properties"), name)
        for group in props.security_groups:
            if group not in groups:
                groups.append(group)
        ip = spec.get("ip")
        if ip is not None and not isinstance(ip, str):
            raise CpiError(f"networks.{name}.ip must be a string")
        if kind == "vip":
            if not ip:
                raise CpiError(f"vip network {name} needs an ip (a public IP already acquired in CloudStack)")
            vips.append((name, ip))
            continue
        if kind not in NIC_TYPES:
            raise CpiError(f"networks.{name}.type {kind!r} is not one of manual, dynamic, vip")
        if kind == "manual" and not ip:
            raise CpiError(f"manual network {name} needs an ip")
        default = spec.get("default") or []
        if not isinstance(default, list):
            raise CpiError(f"networks.{name}.default must be a list (e.g. [dns, gateway])")
        nics.append(Nic(name, kind, ip if kind == "manual" else None, props.network_name, "gateway" in default))
    if not nics:
        raise CpiError("create_vm needs at least one manual or dynamic network (a vip network only adds static NAT)")
    if len(vips) > 1:
        raise CpiError(f"at most one vip network per VM, got {', '.join(n for n, _ in vips)}")
    defaults = [n for n in nics if n.default]
    if len(defaults) > 1:
        raise CpiError(f"only one network may carry the default gateway, got {', '.join(n.bosh_name for n in defaults)}")
    first = defaults[0] if defaults else nics[0]
    ordered = [first] + [n for n in nics if n is not first]
    if zone.basic:
        if len(ordered) > 1:
            raise CloudError(f"zone {zone.name} is a Basic zone: a VM gets exactly one NIC, got {len(ordered)} networks")
        if vips:
            raise CloudError(f"zone {zone.name} is a Basic zone: vip network {vips[0][0]} needs static NAT, which Basic zones lack")
    else:
        names = [n.cs_network for n in ordered if n.cs_network]
        duplicates = sorted({x for x in names if names.count(x) > 1})
        if duplicates:
            raise CloudError(f"two BOSH networks use the same CloudStack network {duplicates[0]}; give each its own")
        if len(ordered) > 1 and len(names) != len(ordered):
            missing = [n.bosh_name for n in ordered if not n.cs_network]
            raise CpiError(
                f"networks {', '.join(missing)} need cloud_properties.name (the CloudStack network) when a VM has several NICs"
            )
    if not groups and zone.security_groups:  # defaults only where the zone has groups (a config may span zone kinds)
        groups = list(default_security_groups)
    if groups and not zone.security_groups:
        raise CloudError(f"security groups {', '.join(groups)} requested but zone {zone.name} ({zone.kind}) has no security groups")
    return NetworkPlan(nics=tuple(ordered), vip=vips[0] if vips else None, security_groups=tuple(groups))


def match_nics(plan: NetworkPlan, vm_nics: list[dict[str, Any]], network_ids: dict[str, str]) -> dict[str, dict[str, Any]]:
    """BOSH network name -> the VM's NIC for it. `network_ids` maps BOSH names to CloudStack network ids."""
    if len(plan.nics) == 1 and len(vm_nics) == 1:
        return {plan.nics[0].bosh_name: vm_nics[0]}
    by_network = {nic.get("networkid"): nic for nic in vm_nics}
    matched = {}
    for nic in plan.nics:
        found = by_network.get(network_ids.get(nic.bosh_name))
        if found is None:
            raise CloudError(f"the VM has no NIC in the CloudStack network for BOSH network {nic.bosh_name}")
        matched[nic.bosh_name] = found
    return matched


def enrich_networks(networks: dict[str, Any], nics: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """BOSH's networks with what each NIC got: mac, and ip/netmask/gateway for dynamic networks."""
    result = copy.deepcopy(networks)
    for name, nic in nics.items():
        spec = result[name]
        if nic.get("macaddress"):
            spec["mac"] = nic["macaddress"]
        if spec.get("type") == "dynamic":
            for key, field in (("ip", "ipaddress"), ("netmask", "netmask"), ("gateway", "gateway")):
                if nic.get(field):
                    spec[key] = nic[field]
    return result
