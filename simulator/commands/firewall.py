"""Firewall rules (ingress on a public IP, egress on a network), port forwarding rules and IP forwarding rules
(static NAT rules: ports of a public IP with static NAT forwarded to its VM).

Validation and conflict detection follow CloudStack 4.18 FirewallManagerImpl (validateFirewallRule,
detectRulesConflict), RulesManagerImpl.createPortForwardingRule and createStaticNatRule. As in CloudStack these are
create-type async commands: parameters are checked and conflicts refused when the command is called (537 for a
conflict), the job then applies the rule. Stored rules of kind "firewallrule" carry `traffictype` Ingress or Egress;
IP forwarding rules are kind "ipforwardingrule".
"""
from __future__ import annotations

import ipaddress
from typing import Any

from ..errors import PARAM_ERROR, internal, param_error, rule_conflict, server_error
from ..networking import dbid, has_service, remove_rule, zone_dbid
from ..registry import Ctx, command, public
from ..shapes import ListShape, creation_job, list_command, removal_job, same
from ..store import new_id

INGRESS_PROTOCOLS = ("tcp", "udp", "icmp")
EGRESS_PROTOCOLS = ("tcp", "udp", "icmp", "all")
PF_PROTOCOLS = ("tcp", "udp")


def rule_view(ctx: Ctx, rule: dict[str, Any]) -> dict[str, Any]:
    return public({**rule, "tags": ctx.tags_of(rule["id"])})


def _cidrs(text: str | None) -> list[str]:
    return [c for c in (text or "").split(",") if c]


def _check_cidrs(cidrs: list[str], what: str) -> None:
    for cidr in cidrs:
        try:
            ipaddress.ip_network(cidr, strict=False)
            valid = "/" in cidr
        except ValueError:
            valid = False
        if not valid:
            raise server_error(PARAM_ERROR, f"{what} CIDRs formatting error {cidr}")


def _cidrs_overlap(a: list[str], b: list[str]) -> bool:
    """detectConflictingCidrs: rules only conflict when they share a CIDR (no CIDR at all counts as shared)."""
    return (not a and not b) or bool(set(a) & set(b))


def _check_ports(start: int | None, end: int | None) -> None:
    if start is not None and not 0 <= start <= 65535:
        raise param_error(f"publicPort is an invalid value: {start}")
    if end is not None and not 0 <= end <= 65535:
        raise param_error(f"Public port range is an invalid value: {end}")
    if start is not None and end is not None and start > end:
        raise param_error("Start port can't be bigger than end port")


def _detect_conflict(ctx: Ctx, new: dict[str, Any], others: list[dict[str, Any]], kind: str) -> None:
    """FirewallManagerImpl.detectRulesConflict for rules of the same purpose (firewall vs firewall, PF vs PF)."""
    for rule in others:
        if rule["protocol"] != new["protocol"]:
            continue          # different protocols never conflict
        if kind == "firewallrule":
            dup = (_cidrs_overlap(_cidrs(rule.get("cidrlist")), _cidrs(new.get("cidrlist")))
                   and _cidrs_overlap(_cidrs(rule.get("destcidrlist")), _cidrs(new.get("destcidrlist"))))
            start_key, end_key = "startport", "endport"
        elif kind == "ipforwardingrule":   # static NAT rules take no CIDRs
            dup, start_key, end_key = True, "startport", "endport"
        else:
            dup = _cidrs_overlap(_cidrs(rule.get("cidrlist")), _cidrs(new.get("cidrlist")))
            start_key, end_key = "_publicstart", "_publicend"
        if new["protocol"] == "icmp":
            if dup and rule.get("icmptype") == new.get("icmptype") and rule.get("icmpcode") == new.get("icmpcode"):
                raise param_error(f"New rule conflicts with existing rule id={rule['_dbid']}")
            continue
        ns, ne, rs, re_ = new.get(start_key), new.get(end_key), rule.get(start_key), rule.get(end_key)
        if None in (ns, ne, rs, re_):
            if dup and ns is None and rs is None:
                raise rule_conflict(f"There is already a firewall rule specified with protocol = {new['protocol']} "
                                    "and no ports")
            continue
        if dup and ns <= re_ and rs <= ne:
            raise rule_conflict(f"The range specified, {ns}-{ne}, conflicts with rule {rule['_dbid']} which has "
                                f"{rs}-{re_}")


def _new_firewall_rule(ctx: Ctx, *, protocol: str, start: int | None, end: int | None, cidrs: list[str],
                       icmp_type: int | None, icmp_code: int | None, traffic: str, network: dict[str, Any],
                       ip: dict[str, Any] | None, dest_cidrs: list[str] | None = None, related: str | None = None,
                       display: bool = True) -> dict[str, Any]:
    """Validate, check for conflicts and store a firewall rule (state Add until its job applies it)."""
    allowed = EGRESS_PROTOCOLS if traffic == "Egress" else INGRESS_PROTOCOLS
    _check_ports(start, end)
    if protocol not in allowed:
        raise param_error(f"Protocol {protocol} is not supported in zone {zone_dbid(ctx, network['zoneid'])}")
    if protocol != "icmp" and (icmp_type is not None or icmp_code is not None):
        raise param_error("Can specify icmpCode and icmpType for ICMP protocol only")
    if protocol == "icmp":
        if start is not None or end is not None:
            raise param_error("Can't specify start/end port when protocol is ICMP")
        icmp_type = -1 if icmp_type is None else icmp_type
        icmp_code = -1 if icmp_code is None else icmp_code
    rule = {"id": new_id(), "protocol": protocol, "startport": start, "endport": end,
            "ipaddressid": ip["id"] if ip else None, "ipaddress": ip["ipaddress"] if ip else None,
            "networkid": network["id"], "state": "Add", "cidrlist": ",".join(cidrs),
            "destcidrlist": ",".join(dest_cidrs or []), "icmptype": icmp_type, "icmpcode": icmp_code,
            "fordisplay": display, "traffictype": traffic,
            "_dbid": ctx.store.next_number("firewallrule"), "_related": related}
    if traffic == "Egress":
        others = ctx.store.find("firewallrule", networkid=network["id"], traffictype="Egress")
    else:
        others = ctx.store.find("firewallrule", ipaddressid=ip["id"], traffictype="Ingress")
    _detect_conflict(ctx, rule, others, "firewallrule")
    return ctx.store.add("firewallrule", rule)


def _apply(ctx: Ctx, kind: str, rule: dict[str, Any], result_key: str, *extra: dict[str, Any]) -> dict:
    """The async part of a create-type rule command: the rule (and rules created with it) become Active."""
    def work() -> dict:
        for r in (rule, *extra):
            r["state"] = "Active"
        return rule_view(ctx, rule)
    return creation_job(ctx, kind, rule, result_key=result_key, instance_type="FirewallRule",
                        operation="network_rule", work=work, rollback=lambda err: remove_rule(ctx, kind, rule))


def _ip_network(ctx: Ctx, ip: dict[str, Any], what: str) -> dict[str, Any]:
    network = ctx.store.get("network", ip.get("associatednetworkid"))
    if network is None:
        raise param_error(f"Unable to create {what} ; ip with specified id is not associated with any network")
    return network


def _require_service(ctx: Ctx, network: dict[str, Any], service: str) -> None:
    """NetworkModel.getNetworkServiceCapabilities: UnsupportedServiceException (a CloudRuntimeException: 530)."""
    if not has_service(network, service):
        raise internal(f"Service {service} is not supported in the network id={dbid(ctx, network, 'network')}")


# --- ingress firewall -------------------------------------------------------------------------------------------
@command("createFirewallRule")
def create_firewall_rule(ctx: Ctx, p: dict) -> dict:
    ip = ctx.lookup("publicipaddress", p, "ipaddressid")
    network = _ip_network(ctx, ip, "firewall rule")
    _require_service(ctx, network, "Firewall")
    cidrs = p.get("cidrlist") or ["0.0.0.0/0"]
    _check_cidrs(cidrs, "Source")
    start = p.get("startport")
    end = p.get("endport") if p.get("endport") is not None else start
    rule = _new_firewall_rule(ctx, protocol=p["protocol"].strip().lower(), start=start, end=end, cidrs=cidrs,
                              icmp_type=p.get("icmptype"), icmp_code=p.get("icmpcode"), traffic="Ingress",
                              network=network, ip=ip, display=p.get("fordisplay", True))
    return _apply(ctx, "firewallrule", rule, "firewallrule")


def _delete_firewall_rule(ctx: Ctx, p: dict, traffic: str) -> dict:
    rule = ctx.lookup("firewallrule", p, "id")

    def before() -> None:
        if rule["traffictype"] != traffic:
            raise param_error(f"Unable to find {rule['_dbid']} having purpose Firewall")   # (wording inferred)
    return removal_job(ctx, "firewallrule", rule, instance_type="FirewallRule", operation="network_rule",
                       before=before, remove=lambda: remove_rule(ctx, "firewallrule", rule))


@command("deleteFirewallRule")
def delete_firewall_rule(ctx: Ctx, p: dict) -> dict:
    return _delete_firewall_rule(ctx, p, "Ingress")


def rule_list(kind: str, traffic: str | None = None) -> ListShape:
    """The rule lists: by IP and network, `fordisplay`; `keyword` is ignored."""
    return ListShape(kind=kind, keyword=(), equal=same("ipaddressid", "networkid"), flags=same("fordisplay"),
                     narrow=lambda ctx, rules, p: [r for r in rules if traffic is None or r["traffictype"] == traffic],
                     view=lambda ctx, r, p: rule_view(ctx, r))


list_command("listFirewallRules", rule_list("firewallrule", "Ingress"))


# --- egress firewall --------------------------------------------------------------------------------------------
@command("createEgressFirewallRule")
def create_egress_firewall_rule(ctx: Ctx, p: dict) -> dict:
    network = ctx.lookup("network", p, "networkid")
    _require_service(ctx, network, "Firewall")
    cidrs = p.get("cidrlist") or [network["cidr"]]
    _check_cidrs(cidrs, "Source")
    dest = p.get("destcidrlist") or []
    _check_cidrs(dest, "Destination")
    start = p.get("startport")
    end = p.get("endport") if p.get("endport") is not None else start
    rule = _new_firewall_rule(ctx, protocol=p["protocol"].strip().lower(), start=start, end=end, cidrs=cidrs,
                              icmp_type=p.get("icmptype"), icmp_code=p.get("icmpcode"), traffic="Egress",
                              network=network, ip=None, dest_cidrs=dest, display=p.get("fordisplay", True))
    return _apply(ctx, "firewallrule", rule, "firewallrule")


@command("deleteEgressFirewallRule")
def delete_egress_firewall_rule(ctx: Ctx, p: dict) -> dict:
    return _delete_firewall_rule(ctx, p, "Egress")


list_command("listEgressFirewallRules", rule_list("firewallrule", "Egress"))


# --- port forwarding --------------------------------------------------------------------------------------------
@command("createPortForwardingRule")
def create_port_forwarding_rule(ctx: Ctx, p: dict) -> dict:
    ip = ctx.lookup("publicipaddress", p, "ipaddressid")
    vm = ctx.lookup("virtualmachine", p, "virtualmachineid")
    ip_dbid = dbid(ctx, ip, "publicipaddress")
    if ip["isstaticnat"]:
        raise param_error(f"Unable to create port forwarding rule; ip id={ip_dbid} has static nat enabled")
    network = ctx.store.get("network", ip.get("associatednetworkid") or p.get("networkid"))
    if network is None:
        raise param_error(f"Unable to create port forwarding rule for the ipAddress id={ip_dbid} as ip is not "
                          "associated with any network and no networkId is passed in")
    protocol = p["protocol"].strip().lower()
    pub_start, priv_start = p["publicport"], p["privateport"]
    pub_end = p["publicendport"] if p.get("publicendport") is not None else pub_start
    priv_end = p["privateendport"] if p.get("privateendport") is not None else priv_start
    _check_ports(pub_start, pub_end)
    _require_service(ctx, network, "PortForwarding")
    if protocol not in PF_PROTOCOLS:
        raise param_error(f"Protocol {protocol} is not supported in zone {zone_dbid(ctx, network['zoneid'])}")
    if priv_start > priv_end:
        raise param_error("Start port can't be bigger than end port")
    if priv_end - priv_start != pub_end - pub_start:
        raise param_error("Source port and destination port ranges should be of equal sizes.")
    nic = next((n for n in vm.get("nic") or [] if n.get("networkid") == network["id"]), None)
    if nic is None or not nic.get("ipaddress"):
        raise param_error("Vm doesn't belong to network associated with ipAddress")
    if (pub_start != pub_end or priv_start != priv_end) and pub_start != priv_start:
        raise param_error("Private port start should be equal to public port start")
    if (pub_start != pub_end or priv_start != priv_end) and pub_end != priv_end:
        raise param_error("Private port end should be equal to public port end")
    cidrs = p.get("cidrlist") or []
    _check_cidrs(cidrs, "Source")
    rule_id = new_id()
    rule = {"id": rule_id, "privateport": str(priv_start), "privateendport": str(priv_end),
            "protocol": protocol, "publicport": str(pub_start), "publicendport": str(pub_end),
            "virtualmachineid": vm["id"], "virtualmachinename": vm.get("name"),
            "virtualmachinedisplayname": vm.get("displayname") or vm.get("name"), "ipaddressid": ip["id"],
            "ipaddress": ip["ipaddress"], "state": "Add", "cidrlist": ",".join(cidrs), "networkid": network["id"],
            "vmguestip": p.get("vmguestip") or nic["ipaddress"], "fordisplay": p.get("fordisplay", True),
            "_dbid": ctx.store.next_number("firewallrule"), "_publicstart": pub_start, "_publicend": pub_end}
    opened = []
    if p.get("openfirewall", True):
        # createRuleForAllCidrs: a firewall rule for 0.0.0.0/0 tied to this rule (it can conflict, too).
        opened.append(_new_firewall_rule(ctx, protocol=protocol, start=pub_start, end=pub_end, cidrs=["0.0.0.0/0"],
                                         icmp_type=None, icmp_code=None, traffic="Ingress", network=network, ip=ip,
                                         related=rule_id))
    try:
        _detect_conflict(ctx, rule, ctx.store.find("portforwardingrule", ipaddressid=ip["id"]),
                         "portforwardingrule")
    except Exception:
        for fw in opened:
            remove_rule(ctx, "firewallrule", fw)
        raise
    ctx.store.add("portforwardingrule", rule)
    return _apply(ctx, "portforwardingrule", rule, "portforwardingrule", *opened)


@command("deletePortForwardingRule")
def delete_port_forwarding_rule(ctx: Ctx, p: dict) -> dict:
    rule = ctx.lookup("portforwardingrule", p, "id")
    return removal_job(ctx, "portforwardingrule", rule, instance_type="FirewallRule", operation="network_rule",
                       remove=lambda: remove_rule(ctx, "portforwardingrule", rule))


list_command("listPortForwardingRules", rule_list("portforwardingrule"))



# --- IP forwarding (static NAT) rules ---------------------------------------------------------------------------
def ip_forwarding_view(ctx: Ctx, rule: dict[str, Any]) -> dict[str, Any]:
    """ApiResponseHelper.createIpForwardingRuleResponse: `ipaddressid` is the address's numeric database id (the
    response declares it a Long), the VM is the one the address is static-NATed to, "Revoke" shows as "Deleting";
    no cidrlist, fordisplay or tags."""
    ip = ctx.store.get("publicipaddress", rule["ipaddressid"])
    view = {"id": rule["id"], "protocol": rule["protocol"], "startport": rule["startport"],
            "endport": rule["endport"], "state": "Deleting" if rule["state"] == "Revoke" else rule["state"]}
    if ip is not None:
        view.update(ipaddressid=dbid(ctx, ip, "publicipaddress"), ipaddress=ip["ipaddress"])
        vm = ctx.store.get("virtualmachine", ip.get("virtualmachineid"))
        if vm is not None:
            view.update(virtualmachineid=vm["id"], virtualmachinename=vm["name"],
                        virtualmachinedisplayname=vm.get("displayname") or vm["name"])
    return public(view)


@command("createIpForwardingRule")
def create_ip_forwarding_rule(ctx: Ctx, p: dict) -> dict:
    if p.get("cidrlist") is not None:   # CreateIpForwardingRuleCmd.create
        raise param_error("Parameter cidrList is deprecated; if you need to open firewall rule for the specific CIDR, "
                          "please refer to createFirewallRule command")
    ip = ctx.lookup("publicipaddress", p, "ipaddressid")
    if ip["issourcenat"] or not ip["isstaticnat"] or not ip.get("virtualmachineid"):
        raise rule_conflict(f"Can't do static nat on ip address: {ip['ipaddress']}")
    start = p["startport"]
    end = p["endport"] if p.get("endport") is not None else start
    _check_ports(start, end)
    network = _ip_network(ctx, ip, "firewall rule")
    # validateFirewallRule checks no protocol for static NAT: the firewall rule it opens does (tcp, udp, icmp).
    protocol = p["protocol"].strip().lower()
    rule = {"id": new_id(), "protocol": protocol, "startport": start, "endport": end, "ipaddressid": ip["id"],
            "networkid": network["id"], "state": "Add", "_dbid": ctx.store.next_number("firewallrule")}
    opened = []
    if p.get("openfirewall", True):
        # createRuleForAllCidrs: a firewall rule for 0.0.0.0/0 tied to this rule (it can conflict, too).
        opened.append(_new_firewall_rule(ctx, protocol=protocol, start=start, end=end, cidrs=["0.0.0.0/0"],
                                         icmp_type=None, icmp_code=None, traffic="Ingress", network=network, ip=ip,
                                         related=rule["id"]))
    try:
        _detect_conflict(ctx, rule, ctx.store.find("ipforwardingrule", ipaddressid=ip["id"]), "ipforwardingrule")
    except Exception:
        for fw in opened:
            remove_rule(ctx, "firewallrule", fw)
        raise
    ctx.store.add("ipforwardingrule", rule)

    def work() -> dict:
        for r in (rule, *opened):
            r["state"] = "Active"
        return ip_forwarding_view(ctx, rule)
    return creation_job(ctx, "ipforwardingrule", rule, result_key="ipforwardingrule", instance_type="FirewallRule",
                        operation="network_rule", work=work,
                        rollback=lambda err: remove_rule(ctx, "ipforwardingrule", rule))


@command("deleteIpForwardingRule")
def delete_ip_forwarding_rule(ctx: Ctx, p: dict) -> dict:
    """DeleteIpForwardingRuleCmd revokes the rule's related firewall rule, then the rule by id: revokeStaticNatRule
    looks the id up among all firewall_rules rows without checking their purpose, so the id of a port forwarding
    or firewall rule removes that rule."""
    for kind in ("ipforwardingrule", "portforwardingrule", "firewallrule"):
        rule = ctx.store.get(kind, p["id"])
        if rule is not None:
            return removal_job(ctx, kind, rule, instance_type="FirewallRule", operation="network_rule",
                               remove=lambda: remove_rule(ctx, kind, rule))
    raise ctx.invalid_id("id", p["id"])


def _of_vm(ctx: Ctx, rules: list[dict[str, Any]], p: dict) -> list[dict[str, Any]]:
    """searchStaticNatRules joins the rule's address on its associated VM for `virtualmachineid`."""
    if "virtualmachineid" not in p:
        return rules
    return [r for r in rules if (ctx.store.get("publicipaddress", r["ipaddressid"]) or {}).get("virtualmachineid")
            == p["virtualmachineid"]]


# searchStaticNatRules filters by id, address and VM only: no keyword, no tags.
list_command("listIpForwardingRules", ListShape(kind="ipforwardingrule", keyword=(), equal=same("ipaddressid"),
                                                narrow=_of_vm, view=lambda ctx, r, p: ip_forwarding_view(ctx, r)))
