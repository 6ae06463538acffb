"""Guest networks: createNetwork (isolated networks in Advanced zones), listNetworks, deleteNetwork,
restartNetwork, updateNetwork. Texts follow CloudStack 4.18 NetworkServiceImpl / NetworkOrchestrator."""
from __future__ import annotations

import ipaddress
from typing import Any

from .. import limits
from ..errors import internal, param_error
from ..networking import (new_network, remove_ip_and_rules, uses_security_groups, vms_on_network,
                          zone_guest_gateway, zone_guest_network)
from ..registry import Ctx, command, public, remove_tags_of
from ..shapes import ListShape, list_command, removal_job, same
from .infrastructure import offering_services


def network_view(ctx: Ctx, network: dict[str, Any]) -> dict[str, Any]:
    return public({**network, "tags": ctx.tags_of(network["id"])})


def _valid_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


@command("createNetwork")
def create_network(ctx: Ctx, p: dict) -> dict:
    offering = ctx.lookup("networkoffering", p, "networkofferingid")
    zone = ctx.lookup("zone", p, "zoneid")
    gateway, netmask = p.get("gateway"), p.get("netmask")
    if zone["networktype"] == "Basic":
        # Users get an Account-scoped network; a Basic zone only takes the one Domain-wide guest network.
        raise param_error("Only AclType=Domain can be specified for network creation in Basic zone")
    if zone.get("securitygroupsenabled") and offering["guestiptype"] != "Shared":
        raise param_error("Only shared guest network can be created in security group enabled zone")
    if offering["guestiptype"] != "Isolated":
        raise param_error("Gateway/netmask are required when creating Shared networks.")
    if gateway is not None and not _valid_ipv4(gateway):
        raise param_error("Invalid gateway")      # (wording unverified)
    if netmask is not None and not _valid_ipv4(netmask):
        raise param_error("Invalid netmask")      # (wording unverified)
    if gateway is None or netmask is None:
        # Without both, an isolated network with source NAT takes the zone's guest CIDR.
        gateway, netmask = zone_guest_gateway(zone)
    limits.check(ctx.store, ctx.account, "network")    # NetworkOrchestrator.createGuestNetwork
    network = new_network(ctx, zone, offering, name=p["name"], displaytext=p.get("displaytext") or p["name"],
                          gateway=gateway, netmask=netmask)
    if p.get("networkdomain"):
        network["networkdomain"] = p["networkdomain"]
    return {"network": network_view(ctx, network)}


def ensure_zone_networks(ctx: Ctx) -> None:
    """Basic zones and Advanced zones with security groups always have the zone wizard's guest network; make it
    visible before the first deployment."""
    created = False
    for zone in ctx.store.all("zone"):
        if uses_security_groups(zone) and not ctx.store.find("network", zoneid=zone["id"], type="Shared"):
            zone_guest_network(ctx, zone)
            created = True
    if created:
        ctx.store.save()


list_command("listNetworks", ListShape(
    kind="network", before=ensure_zone_networks, text=same("type", "traffictype"),
    flags=same("canusefordeploy", "issystem", "restartrequired", "specifyipranges", "displaynetwork"),
    equal=same("networkofferingid", "physicalnetworkid", "vlan"),
    nothing_when=("vpcid", "forvpc"),   # the simulator has no VPCs
    narrow=offering_services, view=lambda ctx, n, p: network_view(ctx, n)))


@command("deleteNetwork")
def delete_network(ctx: Ctx, p: dict) -> dict:
    network = ctx.lookup("network", p, "id")

    def before() -> None:
        if vms_on_network(ctx, network["id"]):
            # NetworkOrchestrator.destroyNetwork refuses while VMs are not expunged; the command reports 530.
            raise internal("Failed to delete network")
        for ip in ctx.store.find("publicipaddress", associatednetworkid=network["id"]):
            remove_ip_and_rules(ctx, ip)
        for rule in ctx.store.find("firewallrule", networkid=network["id"], traffictype="Egress"):
            ctx.store.remove("firewallrule", rule["id"])
            remove_tags_of(ctx, rule["id"])
    return removal_job(ctx, "network", network, instance_type="Network", operation="network_rule", before=before)


@command("restartNetwork")
def restart_network(ctx: Ctx, p: dict) -> dict:
    network = ctx.lookup("network", p, "id")
    return ctx.job(result_key=None, work=lambda: network.update(restartrequired=False), operation="network_rule",
                   instance_type="Network", instance_id=network["id"])


@command("updateNetwork")
def update_network(ctx: Ctx, p: dict) -> dict:
    network = ctx.lookup("network", p, "id")

    def work() -> dict:
        for field in ("name", "displaytext", "networkdomain"):
            if p.get(field):
                network[field] = p[field]
        if "displaynetwork" in p:
            network["displaynetwork"] = p["displaynetwork"]
        return network_view(ctx, network)
    return ctx.job(result_key="network", work=work, operation="network_rule", instance_type="Network",
                   instance_id=network["id"])
