"""Networking rules the VM code shares with the network commands: NICs per zone type, guest and public IP pools,
network implementation (source NAT), and what an expunged VM gives back.

Records (store kinds): "network", "publicipaddress", "securitygroup", "firewallrule", "portforwardingrule",
"ipforwardingrule".
A VM ("virtualmachine") keeps its NICs in `nic` (CloudStack's nic fields) and its groups in `securitygroup`
(a list of {id, name, description}); the IPs a VM holds are the `ipaddress` of its NICs for as long as the VM
record exists and is not `_removed` (a Destroyed VM keeps them until it is expunged).

Error texts follow CloudStack 4.18: DeployVMCmd.create/getNetworkIds/getSecurityGroupIdList,
UserVmManagerImpl (default network selection), GuestNetworkGuru/IpAddressManagerImpl (IP allocation).
"""
from __future__ import annotations

import ipaddress
from typing import Any

from .clock import now_str
from .errors import INSUFFICIENT_CAPACITY_ERROR, param_error, server_error
from . import limits
from .registry import Ctx, remove_tags_of
from .store import new_id, stable_id

BASIC_NETWORK_NAME = "guestNetworkForBasicZone"      # what the zone wizard names a Basic zone's guest network
SG_NETWORK_NAME = "defaultGuestNetwork"              # ... and an Advanced zone's with security groups
SG_OFFERING = "DefaultSharedNetworkOfferingWithSGService"
NETWORK_DOMAIN = "cs1cloud.internal"
MAC_PREFIX = "02:00"
FIRST_VLAN = 1000
# What the virtual router reports per service in a network's `service[].capability` (as real networks show).
VR_CAPABILITIES = {
    "Firewall": {"SupportedProtocols": "tcp,udp,icmp", "SupportedTrafficDirection": "ingress, egress",
                 "MultipleIps": "true", "SupportedEgressProtocols": "tcp,udp,icmp, all",
                 "TrafficStatistics": "per public ip"},
    "Lb": {"LbSchemes": "Public", "SupportedLBIsolation": "dedicated",
           "SupportedLbAlgorithms": "roundrobin,leastconn,source", "SupportedProtocols": "tcp, udp"},
    "SourceNat": {"RedundantRouter": "true", "SupportedSourceNatTypes": "peraccount"},
    "Dns": {"AllowDnsSuffixModification": "true"},
    "Vpn": {"SupportedVpnTypes": "pptp,l2tp,ipsec", "VpnTypes": "removeaccessvpn"},
    "Dhcp": {"DhcpAccrossMultipleSubnets": "true"},
}


# --- identities CloudStack prints in messages -------------------------------------------------------------------
def dbid(ctx: Ctx, obj: dict[str, Any], counter: str) -> int:
    """The numeric database id CloudStack shows in toString() texts (stable once given)."""
    if "_dbid" not in obj:
        obj["_dbid"] = ctx.store.next_number(counter) + 200
    return obj["_dbid"]


def network_str(ctx: Ctx, network: dict[str, Any]) -> str:
    """NetworkVO.toString() of 4.18: Ntwk[<id>|<traffic type>|<offering id>]."""
    offering = ctx.store.get("networkoffering", network["networkofferingid"]) or {}
    return f"Ntwk[{dbid(ctx, network, 'network')}|Guest|{dbid(ctx, offering, 'networkoffering')}]"


def account_dbid(ctx: Ctx) -> int:
    """The caller's numeric account id CloudStack prints in messages ("for account id=2": admin is account 2)."""
    return ctx.account.get("_dbid", 2)


def account_str(ctx: Ctx) -> str:
    """AccountVO.toString() of the caller: Acct[<uuid>-<name>]."""
    acct = ctx.account
    return f"Acct[{acct['id']}-{acct['name']}]"


# --- small address helpers --------------------------------------------------------------------------------------
def cidr_of(gateway: str, netmask: str) -> str:
    return str(ipaddress.ip_network(f"{gateway}/{netmask}", strict=False))


def valid_ipv4(text: str | None) -> bool:
    try:
        ipaddress.IPv4Address(text or "")
    except ValueError:
        return False
    return True


def new_mac(ctx: Ctx) -> str:
    """A MAC address unique in this simulator: 02:00:xx:xx:xx:xx (locally administered, as CloudStack's)."""
    n = ctx.store.next_number("mac")
    return MAC_PREFIX + "".join(f":{(n >> shift) & 0xff:02x}" for shift in (24, 16, 8, 0))


def live_vms(ctx: Ctx) -> list[dict[str, Any]]:
    return [vm for vm in ctx.store.all("virtualmachine") if not vm.get("_removed")]


def vms_on_network(ctx: Ctx, network_id: str) -> list[dict[str, Any]]:
    """VMs (including Destroyed, not yet expunged ones) with a NIC on the network."""
    return [vm for vm in live_vms(ctx) if any(n.get("networkid") == network_id for n in vm.get("nic") or [])]


def used_guest_ips(ctx: Ctx, network: dict[str, Any], pending: list[dict[str, Any]] = ()) -> set[str]:
    used = {network["gateway"]}
    for vm in vms_on_network(ctx, network["id"]):
        used.update(n["ipaddress"] for n in vm["nic"] if n.get("networkid") == network["id"] and n.get("ipaddress"))
    used.update(n["ipaddress"] for n in pending if n["networkid"] == network["id"])
    return used


def has_free_ip(ctx: Ctx, network: dict[str, Any]) -> bool:
    used = used_guest_ips(ctx, network)
    return any(str(host) not in used for host in ipaddress.ip_network(network["cidr"]).hosts())


def allocate_guest_ip(ctx: Ctx, network: dict[str, Any], requested: str | None,
                      pending: list[dict[str, Any]] = ()) -> str:
    """A free address of the network's CIDR (the requested one when it is free), else CloudStack's 533."""
    net = ipaddress.ip_network(network["cidr"])
    used = used_guest_ips(ctx, network, pending)
    if requested is not None:
        if not valid_ipv4(requested):
            raise param_error(f"Invalid specified IPv4 address {requested}")
        addr = ipaddress.ip_address(requested)
        if (requested not in used and addr in net and addr not in (net.network_address, net.broadcast_address)):
            return requested
    else:
        for host in net.hosts():
            if str(host) not in used:
                return str(host)
    raise server_error(INSUFFICIENT_CAPACITY_ERROR,
                       f"Unable to acquire Guest IP address for network {network_str(ctx, network)}")


# --- networks ---------------------------------------------------------------------------------------------------
def offering_fields(offering: dict[str, Any]) -> dict[str, Any]:
    return {"networkofferingid": offering["id"], "networkofferingname": offering["name"],
            "networkofferingdisplaytext": offering["displaytext"],
            "networkofferingconservemode": offering.get("conservemode", True),
            "networkofferingavailability": offering.get("availability", "Optional")}


def new_network(ctx: Ctx, zone: dict[str, Any], offering: dict[str, Any], *, name: str, displaytext: str,
                gateway: str, netmask: str, guest_type: str = "Isolated") -> dict[str, Any]:
    """Store a guest network in state Allocated (createNetwork, or deployVirtualMachine's automatic network)."""
    network_id = new_id()
    shared = guest_type == "Shared"
    network = ctx.store.add("network", {
        "id": network_id, "name": name, "displaytext": displaytext,
        "broadcastdomaintype": "Native" if shared else "Vlan", "traffictype": "Guest", "gateway": gateway,
        "netmask": netmask, "cidr": cidr_of(gateway, netmask), "zoneid": zone["id"], "zonename": zone["name"],
        **offering_fields(offering), "issystem": False, "state": "Setup" if shared else "Allocated",
        "related": network_id, "dns1": zone.get("dns1"), "dns2": zone.get("dns2"), "type": guest_type,
        "acltype": "Domain" if shared else "Account", "subdomainaccess": True if shared else None,
        **ctx.owner(), "service": [service_view(s["name"]) for s in offering.get("service", [])],
        "networkdomain": NETWORK_DOMAIN, "physicalnetworkid": physical_network_id(zone),
        "restartrequired": False, "specifyipranges": shared, "canusefordeploy": True, "ispersistent": False,
        "displaynetwork": True, "isdefault": shared, "strechedl2subnet": False, "redundantrouter": False,
        "supportsvmautoscaling": not shared, "egressdefaultpolicy": offering.get("egressdefaultpolicy", False),
        "internetprotocol": "IPv4", "hasannotations": False, "created": now_str(),
        "broadcasturi": "vlan://untagged" if shared else None, "_zone_type": zone["networktype"]})
    if shared:   # ACL type Domain: no owning account (the answer names the domain only), every account sees it
        network["vlan"] = "untagged"
        del network["_accountid"], network["account"]
    return network


def service_view(name: str) -> dict[str, Any]:
    """A network's service entry: name, the virtual router as provider, and its capabilities."""
    view: dict[str, Any] = {"name": name, "provider": [{"name": "VirtualRouter"}]}
    if name in VR_CAPABILITIES:
        view["capability"] = [{"name": k, "value": v, "canchooseservicecapability": False}
                              for k, v in VR_CAPABILITIES[name].items()]
    return view


def physical_network_id(zone: dict[str, Any]) -> str:
    return zone.setdefault("_physical_network_id", new_id())


def uses_security_groups(zone: dict[str, Any]) -> bool:
    """Basic zones and Advanced zones with security groups isolate guests with security groups."""
    return zone["networktype"] == "Basic" or bool(zone.get("securitygroupsenabled"))


def zone_guest_network(ctx: Ctx, zone: dict[str, Any]) -> dict[str, Any]:
    """The shared, security-group-isolated guest network the zone wizard makes for a Basic zone or an Advanced zone
    with security groups (made on first use, from `_pod_cidr`); a zone's first shared network once there is one."""
    for network in ctx.store.find("network", zoneid=zone["id"], type="Shared"):
        if not network.get("_removed"):
            return network
    offering = ctx.store.first("networkoffering", name=SG_OFFERING)
    if offering is None:
        offering = ctx.store.add("networkoffering", {
            "name": SG_OFFERING, "displaytext": "Offering for Shared Security group enabled networks",
            "traffictype": "Guest", "isdefault": True, "specifyvlan": True, "conservemode": True,
            "specifyipranges": True, "availability": "Optional", "state": "Enabled", "guestiptype": "Shared",
            "egressdefaultpolicy": True, "ispersistent": False, "forvpc": False, "supportspublicaccess": False,
            "internetprotocol": "IPv4", "created": now_str(), "hasannotations": False,
            "service": [{"name": s} for s in ("Dhcp", "Dns", "UserData", "SecurityGroup")]})
    pod = ipaddress.ip_network(zone["_pod_cidr"])
    gateway = str(next(pod.hosts()))
    name = BASIC_NETWORK_NAME if zone["networktype"] == "Basic" else SG_NETWORK_NAME
    return new_network(ctx, zone, offering, name=name, displaytext=name, gateway=gateway, netmask=str(pod.netmask),
                       guest_type="Shared")


def has_service(network: dict[str, Any], service: str) -> bool:
    return any(s.get("name") == service for s in network.get("service") or [])


def implement_network(ctx: Ctx, network: dict[str, Any]) -> None:
    """What the first VM does to an Allocated isolated network: a VLAN, state Implemented, and (SourceNat
    offerings) a source-NAT public IP. Idempotent."""
    if network["state"] != "Allocated":
        return
    vlan = FIRST_VLAN + ctx.store.next_number("vlan")
    network["broadcasturi"] = f"vlan://{vlan}"
    network["vlan"] = str(vlan)
    network["state"] = "Implemented"
    if has_service(network, "SourceNat") and not ctx.store.first("publicipaddress", associatednetworkid=network["id"],
                                                                 issourcenat=True):
        zone = ctx.store.get("zone", network["zoneid"])
        acquire_public_ip(ctx, zone, network, source_nat=True)


def default_network(ctx: Ctx, zone: dict[str, Any]) -> dict[str, Any]:
    """UserVmManagerImpl.getDefaultNetwork: the account's only isolated network in the zone, a new one made from
    the Required offering when there is none, an error when there are several."""
    isolated = [n for n in ctx.own(ctx.store.find("network", zoneid=zone["id"], type="Isolated"))
                if not n.get("_removed")]
    if len(isolated) > 1:
        raise param_error(f"More than 1 default Isolated networks are found for Account {account_str(ctx)}; "
                          "please specify networkIds")
    if isolated:
        return isolated[0]
    required = [o for o in ctx.store.all("networkoffering") if o.get("availability") == "Required"]
    if not required:
        raise param_error("Unable to find network offering with availability=Required to automatically create "
                          "the network as a part of vm creation")
    limits.check(ctx.store, ctx.account, "network")
    account = ctx.account["name"]
    gateway, netmask = zone_guest_gateway(zone)
    return new_network(ctx, zone, required[0], name=f"{account}-network", displaytext=f"{account}-network",
                       gateway=gateway, netmask=netmask)


def zone_guest_gateway(zone: dict[str, Any]) -> tuple[str, str]:
    """Gateway and netmask of an isolated network without explicit ones: from the zone's guest CIDR."""
    net = ipaddress.ip_network(zone.get("guestcidraddress") or "10.1.1.0/24")
    return str(next(net.hosts())), str(net.netmask)


# --- public IPs -------------------------------------------------------------------------------------------------
def public_range(zone: dict[str, Any]) -> list[str]:
    rng = zone.get("_public_range")
    if not rng:
        return []
    start, end = int(ipaddress.ip_address(rng["start"])), int(ipaddress.ip_address(rng["end"]))
    return [str(ipaddress.ip_address(n)) for n in range(start, end + 1)]


def free_public_ips(ctx: Ctx, zone: dict[str, Any]) -> list[str]:
    """The zone's public addresses no account holds (state Free), lowest first."""
    taken = {ip["ipaddress"] for ip in ctx.store.find("publicipaddress", zoneid=zone["id"])
             if not ip.get("_removed")}
    return [a for a in public_range(zone) if a not in taken]


def free_ip_views(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    """listPublicIpAddresses allocatedonly=false: the zone's Free addresses too (IPAddressResponse of an address
    no account holds; its id is stable, as its row's is)."""
    if p.get("allocatedonly", True):
        return []
    out = []
    for zone in ctx.store.all("zone"):
        rng = zone.get("_public_range")
        for address in free_public_ips(ctx, zone):
            out.append({"id": stable_id(f"publicip:{zone['id']}:{address}"), "ipaddress": address,
                        "zoneid": zone["id"], "zonename": zone["name"], "issourcenat": False, "isstaticnat": False,
                        "issystem": False, "forvirtualnetwork": True, "state": "Free",
                        "networkid": zone.setdefault("_public_network_id", new_id()),
                        "physicalnetworkid": physical_network_id(zone),
                        "vlanid": zone.setdefault("_public_vlan_id", new_id()),
                        "vlanname": rng.get("vlan", "vlan://untagged"), "isportable": False, "fordisplay": True,
                        "hasannotations": False})
    return out


def acquire_public_ip(ctx: Ctx, zone: dict[str, Any], network: dict[str, Any] | None, *,
                      source_nat: bool = False, requested: str | None = None) -> dict[str, Any]:
    """Take an address from the zone's public range (IpAddressManagerImpl.fetchNewPublicIp); 533 "Insufficient
    address capacity" when none (or not the requested one) is free; then the account's public_ip limit (532)."""
    candidates = [a for a in free_public_ips(ctx, zone) if requested is None or a == requested]
    if not candidates:
        raise server_error(INSUFFICIENT_CAPACITY_ERROR, "Insufficient address capacity")
    limits.check_public_ip(ctx.store, ctx.account)
    rng = zone["_public_range"]
    vlan_id = zone.setdefault("_public_vlan_id", new_id())
    return ctx.store.add("publicipaddress", {
        "id": new_id(), "ipaddress": candidates[0], "allocated": now_str(), "zoneid": zone["id"],
        "zonename": zone["name"], "issourcenat": source_nat, "isstaticnat": False, "issystem": False,
        **ctx.owner(), "forvirtualnetwork": True,
        "associatednetworkid": network["id"] if network else None,
        "associatednetworkname": network["name"] if network else None,
        "networkid": zone.setdefault("_public_network_id", new_id()),
        "physicalnetworkid": physical_network_id(zone), "vlanid": vlan_id,
        "vlanname": rng.get("vlan", "vlan://untagged"), "state": "Allocated", "isportable": False,
        "fordisplay": True, "hasannotations": False})


def public_ip_of(ctx: Ctx, vm: dict[str, Any]) -> dict[str, Any] | None:
    """The public IP static-NATed to the VM (its `publicip`/`publicipid` fields), if any."""
    for ip in ctx.store.find("publicipaddress", virtualmachineid=vm["id"], isstaticnat=True):
        if not ip.get("_removed"):
            return ip
    return None


def disable_static_nat(ctx: Ctx, ip: dict[str, Any]) -> None:
    """RulesManagerImpl.disableStaticNat: the IP's firewall rules and IP forwarding (static NAT) rules are revoked
    with the one-to-one NAT."""
    for kind in ("ipforwardingrule", "firewallrule"):
        for rule in ctx.store.find(kind, ipaddressid=ip["id"]):
            remove_rule(ctx, kind, rule)
    ip["isstaticnat"] = False
    for key in ("virtualmachineid", "virtualmachinename", "virtualmachinedisplayname", "vmipaddress"):
        ip.pop(key, None)


# --- security groups --------------------------------------------------------------------------------------------
def default_security_group(ctx: Ctx) -> dict[str, Any]:
    """The account's "default" group (CloudStack creates it with the account)."""
    group = ctx.mine("securitygroup", name="default")
    if group is None:
        group = ctx.store.add("securitygroup", {"name": "default", "description": "Default Security Group",
                                                "ingressrule": [], "egressrule": [], **ctx.owner()})
    return group


def security_group_ref(group: dict[str, Any]) -> dict[str, Any]:
    return {"id": group["id"], "name": group["name"], "description": group.get("description")}


def _requested_groups(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]] | None:
    ids, names = p.get("securitygroupids"), p.get("securitygroupnames")
    if ids and names:
        raise param_error("securitygroupids parameter is mutually exclusive with securitygroupnames parameter")
    if names:
        groups = []
        for name in names:
            group = ctx.mine("securitygroup", name=name)
            if group is None:
                raise param_error(f"Unable to find group by name {name}")
            groups.append(group)
        return groups
    if ids:
        groups = []
        for group_id in ids:
            group = ctx.store.get("securitygroup", group_id)
            if group is None:
                raise ctx.invalid_id("securitygroupids", group_id)
            groups.append(group)
        return groups
    return None


# --- NICs -------------------------------------------------------------------------------------------------------
def _nic(ctx: Ctx, network: dict[str, Any], ip: str, *, default: bool, device: int) -> dict[str, Any]:
    return {"id": new_id(), "networkid": network["id"], "networkname": network["name"], "ipaddress": ip,
            "netmask": network["netmask"], "gateway": network["gateway"], "macaddress": new_mac(ctx),
            "isdefault": default, "traffictype": "Guest", "type": network["type"],
            "broadcasturi": network.get("broadcasturi"), "isolationuri": network.get("broadcasturi"),
            "deviceid": str(device), "secondaryip": [], "extradhcpoption": []}


def _requested_networks(ctx: Ctx, zone: dict[str, Any], p: dict[str, Any]) -> list[tuple[dict, str | None]]:
    """(network, requested IP) pairs from networkids/ipaddress or iptonetworklist, in order (first = default)."""
    mapping = p.get("iptonetworklist")
    network_ids = p.get("networkids")
    if mapping:
        if network_ids or p.get("ipaddress") is not None or p.get("ip6address") is not None:
            raise param_error("ipToNetworkMap can't be specified along with networkIds or ipAddress")
        pairs = []
        for entry in mapping:
            network = ctx.store.get("network", entry.get("networkid"))
            if network is None or network.get("_removed"):
                raise param_error(f"Unable to translate and find entity with networkId: {entry.get('networkid')}")
            pairs.append((network, entry.get("ip") or None))
    elif network_ids:
        pairs = []
        for i, network_id in enumerate(network_ids):
            network = ctx.store.get("network", network_id)
            if network is None or network.get("_removed"):
                raise ctx.invalid_id("networkids", network_id)
            pairs.append((network, p.get("ipaddress") if i == 0 else None))
    else:
        return []
    for network, _ in pairs:
        if network["zoneid"] != zone["id"]:  # (wording unverified)
            raise param_error(f"Network id={network['id']} doesn't belong to zone {zone['id']}")
    return pairs


def allocate_nics(ctx: Ctx, zone: dict[str, Any], p: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """NICs and security groups for deployVirtualMachine's parameters `p` in `zone`, by CloudStack's zone rules.

    Returns (nics, security group refs {id, name, description}); nics carry CloudStack's nic fields, the first
    one is the default. Raises the ApiError CloudStack answers for a bad combination (431) or no free address
    (533). Networks used for the first time are implemented (isolated ones get their source-NAT IP) unless
    `startvm` is false: then startVirtualMachine should call `implement_network` for each NIC's network.
    Call it under the store lock and store the VM in the same critical section, so the IPs stay taken.
    """
    basic = zone["networktype"] == "Basic"
    if basic:
        if p.get("networkids") or p.get("iptonetworklist"):
            raise param_error("Can't specify network Ids in Basic zone")
        groups = _requested_groups(ctx, p) or [default_security_group(ctx)]
        network = zone_guest_network(ctx, zone)
        ip = allocate_guest_ip(ctx, network, p.get("ipaddress"))
        return [_nic(ctx, network, ip, default=True, device=0)], [security_group_ref(g) for g in groups]

    groups = _requested_groups(ctx, p)
    if zone.get("securitygroupsenabled"):
        pairs = _security_group_networks(ctx, zone, p)
        groups = groups or [default_security_group(ctx)]
    elif groups:
        raise param_error("Can't create vm with security groups; security group feature is not enabled per zone")
    else:
        pairs = _requested_networks(ctx, zone, p) or [(default_network(ctx, zone), p.get("ipaddress"))]
    nics: list[dict[str, Any]] = []
    for device, (network, requested) in enumerate(pairs):
        ip = allocate_guest_ip(ctx, network, requested, nics)
        nics.append(_nic(ctx, network, ip, default=device == 0, device=device))
    if p.get("startvm", True):
        for network, _ in pairs:
            implement_network(ctx, network)
    for nic, (network, _) in zip(nics, pairs):
        nic["broadcasturi"] = nic["isolationuri"] = network.get("broadcasturi")
    return nics, [security_group_ref(g) for g in groups or []]


def _security_group_networks(ctx: Ctx, zone: dict[str, Any], p: dict[str, Any]) -> list[tuple[dict, str | None]]:
    """UserVmManagerImpl.createAdvancedSecurityGroupVirtualMachine: the (network, requested IP) pairs of a VM in an
    Advanced zone with security groups; without networks, the first security-group network with a free address.
    (Such a zone holds only shared security-group networks here, as createNetwork makes no others, so CloudStack's
    checks for networks without security groups have nothing to refuse.)"""
    pairs = _requested_networks(ctx, zone, p)
    if pairs:
        return pairs
    zone_guest_network(ctx, zone)
    for network in ctx.store.find("network", zoneid=zone["id"], type="Shared"):   # getNetworkWithSGWithFreeIPs
        if not network.get("_removed") and has_service(network, "SecurityGroup") and has_free_ip(ctx, network):
            return [(network, p.get("ipaddress"))]
    raise param_error(f"No network with security enabled is found in zone id={zone['id']}")


# --- expunge ----------------------------------------------------------------------------------------------------
def release_vm_network(ctx: Ctx, vm: dict[str, Any]) -> None:
    """What expunging a VM gives back: static NAT on its public IPs is disabled (with their firewall rules), its
    port-forwarding rules (and the firewall rules they opened) are removed; its guest IPs are free once the VM
    record is gone or `_removed`."""
    for ip in ctx.store.find("publicipaddress", virtualmachineid=vm["id"]):
        disable_static_nat(ctx, ip)
    for rule in ctx.store.find("portforwardingrule", virtualmachineid=vm["id"]):
        remove_rule(ctx, "portforwardingrule", rule)


# --- rules on public IPs ----------------------------------------------------------------------------------------
def zone_dbid(ctx: Ctx, zone_id: str) -> int:
    """Zones are numbered 1, 2, ... in seed order, as on a fresh CloudStack."""
    ids = [z["id"] for z in ctx.store.all("zone")]
    return ids.index(zone_id) + 1 if zone_id in ids else 0


def ip_str(ctx: Ctx, ip: dict[str, Any]) -> str:
    """IPAddressVO.toString(): Ip[<address>-<zone id>]."""
    return f"Ip[{ip['ipaddress']}-{zone_dbid(ctx, ip['zoneid'])}]"


def remove_rule(ctx: Ctx, kind: str, rule: dict[str, Any]) -> None:
    """Remove a firewall, port-forwarding or IP forwarding rule with its tags; a forwarding rule takes along the
    firewall rule it opened (revokeRelatedFirewallRule)."""
    ctx.store.remove(kind, rule["id"])
    remove_tags_of(ctx, rule["id"])
    if kind in ("portforwardingrule", "ipforwardingrule"):
        for fw in ctx.store.find("firewallrule", _related=rule["id"]):
            remove_rule(ctx, "firewallrule", fw)


def remove_ip_and_rules(ctx: Ctx, ip: dict[str, Any]) -> None:
    """Release a public IP: its firewall and port-forwarding rules and static NAT go with it."""
    for kind in ("portforwardingrule", "ipforwardingrule", "firewallrule"):
        for rule in ctx.store.find(kind, ipaddressid=ip["id"]):
            remove_rule(ctx, kind, rule)
    ctx.store.remove("publicipaddress", ip["id"])
    remove_tags_of(ctx, ip["id"])
