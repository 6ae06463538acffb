"""Public IP addresses and static NAT: associateIpAddress, disassociateIpAddress, listPublicIpAddresses,
enableStaticNat, disableStaticNat. Texts follow CloudStack 4.18 AssociateIPAddrCmd, IpAddressManagerImpl,
NetworkServiceImpl.releaseIpAddressInternal and RulesManagerImpl."""
from __future__ import annotations

from typing import Any

from ..errors import internal, param_error, rule_conflict
from ..networking import (acquire_public_ip, dbid, disable_static_nat, free_ip_views, has_service, ip_str,
                          remove_ip_and_rules)
from ..registry import Ctx, command, public
from ..shapes import ListShape, creation_job, list_command, same

SHARED_IP_TEXT = ("Associate IP address can only be called on the shared networks in the advanced zone with "
                  "Firewall/Source Nat/Static Nat/Port Forwarding/Load balancing services enabled")


def ip_view(ctx: Ctx, ip: dict[str, Any]) -> dict[str, Any]:
    return public({**ip, "tags": ctx.tags_of(ip["id"])})


def _target_network(ctx: Ctx, p: dict) -> tuple[dict[str, Any], dict[str, Any]]:
    """(zone, guest network) the new address is for, as AssociateIPAddrCmd.getZoneId/getNetworkId find them."""
    if p.get("networkid") is not None:
        network = ctx.lookup("network", p, "networkid")
        return ctx.store.get("zone", network["zoneid"]), network
    if p.get("zoneid") is None:
        raise param_error("Unable to figure out zone to assign ip to. Please specify either zoneId, or networkId, "
                          "or vpcId in the call")
    zone = ctx.lookup("zone", p, "zoneid")
    if zone["networktype"] == "Basic":
        raise param_error(SHARED_IP_TEXT)
    isolated = ctx.own(ctx.store.find("network", zoneid=zone["id"], type="Isolated"))
    if not isolated:
        owner = ctx.owner()
        raise param_error(f"Account name={owner['account']} domain={owner['domain']} doesn't have virtual networks "
                          f"in zone={zone['name']}")
    if len(isolated) > 1:
        raise param_error("Account has more than one isolated network in the zone")
    return zone, isolated[0]


@command("associateIpAddress")
def associate_ip_address(ctx: Ctx, p: dict) -> dict:
    zone, network = _target_network(ctx, p)
    if network["type"] != "Isolated":
        raise param_error(SHARED_IP_TEXT)
    # The first address of an isolated network without one becomes its source NAT address.
    source_nat = not ctx.store.first("publicipaddress", associatednetworkid=network["id"], issourcenat=True)
    ip = acquire_public_ip(ctx, zone, network, source_nat=source_nat, requested=p.get("ipaddress"))
    ip["state"] = "Allocating"
    return creation_job(ctx, "publicipaddress", ip, result_key="ipaddress", instance_type="IpAddress",
                        operation="associate_ip", becomes="Allocated", view=ip_view)


@command("disassociateIpAddress")
def disassociate_ip_address(ctx: Ctx, p: dict) -> dict:
    ip = ctx.lookup("publicipaddress", p, "id")

    def work() -> None:
        network = ctx.store.get("network", ip.get("associatednetworkid"))
        if ip["issourcenat"] and network is not None and network["state"] != "Allocated":
            raise internal("ip address is used for source nat purposes and can not be disassociated.")
        remove_ip_and_rules(ctx, ip)
        return None
    return ctx.job(result_key=None, work=work, operation="associate_ip", instance_type="IpAddress",
                   instance_id=ip["id"])


list_command("listPublicIpAddresses", ListShape(
    kind="publicipaddress", keyword=("ipaddress",), equal={"networkid": "associatednetworkid"},
    text=same("ipaddress", "associatednetworkid", "vlanid", "physicalnetworkid", "state"),
    flags=same("isstaticnat", "issourcenat", "forvirtualnetwork", "fordisplay"), nothing_when=("vpcid",),
    extra=free_ip_views, view=lambda ctx, ip, p: ip_view(ctx, ip)))


@command("enableStaticNat")
def enable_static_nat(ctx: Ctx, p: dict) -> dict:
    ip = ctx.lookup("publicipaddress", p, "ipaddressid")
    vm = ctx.lookup("virtualmachine", p, "virtualmachineid")
    ip_id, vm_id = dbid(ctx, ip, "publicipaddress"), dbid(ctx, vm, "virtualmachine")
    if p.get("networkid") is not None:
        network = ctx.lookup("network", p, "networkid")
    elif ip.get("associatednetworkid"):
        network = ctx.store.get("network", ip["associatednetworkid"])
    else:
        raise param_error(f"Unable to enable static NAT for the ipAddress id={ip_id} as ip is not associated with "
                          "any network and no networkId is passed in")
    nic = next((n for n in vm.get("nic") or [] if n.get("networkid") == network["id"]), None)
    if nic is None:
        raise param_error("Vm doesn't belong to the network with specified id")
    if not has_service(network, "StaticNat"):
        raise param_error("Unable to create static nat rule; StaticNat service is not supported in network with "
                          "specified id")
    if ip.get("associatednetworkid") != network["id"]:
        raise param_error(f"Invalid network Id={dbid(ctx, network, 'network')}. IP is associated with a different "
                          "network than passed network id")
    if vm.get("state") in ("Destroyed", "Expunging"):
        raise param_error(f"Invalid user vm: {vm_id}")
    if ip["issourcenat"]:
        raise param_error(f"Can't enable static, ip address {ip_str(ctx, ip)} is a sourceNat ip address")
    if not ip["isstaticnat"]:
        if ctx.store.find("portforwardingrule", ipaddressid=ip["id"]):
            raise rule_conflict(f"Failed to enable static nat for the ip address {ip_str(ctx, ip)} as it already "
                                "has PortForwarding rules assigned")
    elif ip.get("virtualmachineid") != vm["id"]:
        raise rule_conflict(f"Failed to enable static for the ip address {ip_str(ctx, ip)} and vm id={vm_id} as it's "
                            "already assigned to antoher vm")
    old = ctx.store.first("publicipaddress", virtualmachineid=vm["id"], vmipaddress=nic["ipaddress"])
    if old is not None:
        raise param_error(f"Failed to enable static nat for the ip address id={ip_id} as vm id={vm_id} is already "
                          f"associated with ip id={dbid(ctx, old, 'publicipaddress')}")
    ip.update({"isstaticnat": True, "virtualmachineid": vm["id"], "virtualmachinename": vm.get("name"),
               "virtualmachinedisplayname": vm.get("displayname") or vm.get("name"),
               "vmipaddress": nic["ipaddress"]})
    return {"success": "true"}


@command("disableStaticNat")
def disable_static_nat_command(ctx: Ctx, p: dict) -> dict:
    ip = ctx.lookup("publicipaddress", p, "ipaddressid")

    def work() -> None:
        if not ip["isstaticnat"]:
            raise param_error("One to one nat is not enabled for the specified ip id")
        disable_static_nat(ctx, ip)
        return None
    return ctx.job(result_key=None, work=work, operation="network_rule", instance_type="IpAddress",
                   instance_id=ip["id"])
