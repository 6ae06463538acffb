"""Per kind of CloudStack resource: how to look a recorded one up, how to delete it, how it is tagged.

Shared by `destroy` (recorded resources in reverse order), `up` (records the config no longer wants),
`status` and `cleanup-leftovers` (resources found by tag, state dir lost).
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError

# CloudStack's "resource in use" refusal (e.g. a security group whose VM is still being expunged).
RESOURCE_IN_USE = 536


@dataclass(frozen=True)
class Kind:
    name: str
    label: str
    tag_type: str | None                      # CloudStack resourcetype for createTags/listTags
    list_command: str | None                  # list command that takes id=
    delete: Callable[[CloudStackClient, str, dict[str, Any]], None]  # (client, id, attrs)
    describe: Callable[[dict[str, Any]], str] = lambda live: str(live.get("state", "exists"))
    list_by: str = "id"                       # filter name of list_command for the recorded id


def _async(command: str, param: str = "id", **extra: Any) -> Callable[[CloudStackClient, str, dict], None]:
    def delete(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
        client.run(command, operation=f"{command} {rid}", **{param: rid}, **extra)
    return delete


def _sync(command: str, param: str = "id") -> Callable[[CloudStackClient, str, dict], None]:
    def delete(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
        client.call(command, **{param: rid})
    return delete


def _delete_security_group(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
    """A group is "in use" for a short while after its last VM is expunged; wait that out (up to ~60 s)."""
    for delay in (0.2, 0.5, 1, 2, 4, 8, 15, 30, None):
        try:
            client.call("deleteSecurityGroup", id=rid)
            return
        except CloudStackError as exc:
            in_use_by_vm = exc.errorcode == RESOURCE_IN_USE and "virtual machine" in (exc.errortext or "")
            if not in_use_by_vm or delay is None:
                raise
            time.sleep(delay)


def _delete_volume(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
    live = client.find_one("listVolumes", id=rid)
    if live and live.get("virtualmachineid"):
        client.run("detachVolume", id=rid, operation=f"detach volume {rid}")
    client.call("deleteVolume", id=rid)


def _disable_static_nat(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
    live = client.find_one("listPublicIpAddresses", id=rid)
    if live and live.get("isstaticnat"):
        client.run("disableStaticNat", ipaddressid=rid, operation=f"disable static NAT on {rid}")


def _release_ip(client: CloudStackClient, rid: str, attrs: dict[str, Any]) -> None:
    """A network's source NAT address cannot be released on its own; it goes with the network."""
    live = client.find_one("listPublicIpAddresses", id=rid)
    if live is not None and not live.get("issourcenat"):
        client.run("disassociateIpAddress", id=rid, operation=f"release public IP {live.get('ipaddress')}")


def _ip_text(live: dict[str, Any]) -> str:
    nat = f", static NAT to {live.get('virtualmachinename') or live.get('virtualmachineid')}" \
        if live.get("isstaticnat") else ""
    return f"{live.get('ipaddress')} {live.get('state', '')}{nat}".strip()


def _rule_text(live: dict[str, Any]) -> str:
    ports = f"{live.get('startport', '')}-{live.get('endport', '')}" if live.get("startport") else "all"
    return f"{live.get('protocol', '').upper()} {ports} from {live.get('cidrlist', '')} ({live.get('state', 'Active')})"


KINDS: dict[str, Kind] = {k.name: k for k in [
    Kind("keypair", "SSH keypair", None, "listSSHKeyPairs", _sync("deleteSSHKeyPair", "name"),
         lambda live: f"fingerprint {live.get('fingerprint')}", list_by="name"),
    Kind("security_group", "security group", "SecurityGroup", "listSecurityGroups", _delete_security_group,
         lambda live: f"{len(live.get('ingressrule') or [])} ingress rules"),
    Kind("sg_ingress", "ingress rule", None, None, _async("revokeSecurityGroupIngress"),
         lambda live: f"{live.get('protocol', '').upper()} {live.get('startport')}-{live.get('endport')} from "
                      f"{live.get('cidr') or live.get('securitygroupname')}"),
    Kind("network", "network", "Network", "listNetworks", _async("deleteNetwork"),
         lambda live: f"{live.get('cidr')} {live.get('state')}"),
    Kind("public_ip", "public IP", "PublicIpAddress", "listPublicIpAddresses", _release_ip,
         _ip_text),
    Kind("static_nat", "static NAT", None, "listPublicIpAddresses", _disable_static_nat,
         lambda live: "enabled" if live.get("isstaticnat") else "disabled"),
    Kind("firewall_rule", "firewall rule", None, "listFirewallRules", _async("deleteFirewallRule"), _rule_text),
    Kind("egress_rule", "egress rule", None, "listEgressFirewallRules", _async("deleteEgressFirewallRule"),
         _rule_text),
    Kind("port_forwarding", "port forwarding", None, "listPortForwardingRules",
         _async("deletePortForwardingRule"),
         lambda live: f"{live.get('publicport')} -> {live.get('privateport')} {live.get('state', '')}".strip()),
    Kind("vm", "VM", "UserVm", "listVirtualMachines", _async("destroyVirtualMachine", expunge=True),
         lambda live: f"{live.get('state')} {', '.join(n.get('ipaddress', '') for n in live.get('nic') or [])}"),
    Kind("volume", "volume", "Volume", "listVolumes", _delete_volume),
    Kind("template", "template", "Template", "listTemplates", _async("deleteTemplate")),
]}

# Deletion order for resources found by tag alone (no recorded creation order): dependents first.
TEARDOWN_ORDER = ["vm", "volume", "port_forwarding", "firewall_rule", "static_nat", "egress_rule", "public_ip",
                  "network", "sg_ingress", "security_group", "template", "keypair"]


def lookup(client: CloudStackClient, kind: Kind, rid: str, attrs: dict[str, Any]) -> dict[str, Any] | None:
    """The live object of a recorded resource, or None when it is gone."""
    if kind.name == "sg_ingress":
        group = client.find_one("listSecurityGroups", id=attrs.get("group_id"))
        return next((r for r in (group or {}).get("ingressrule") or [] if r.get("ruleid") == rid), None)
    if kind.list_command is None:
        return None
    params: dict[str, Any] = {kind.list_by: rid}
    if kind.name == "template":
        params["templatefilter"] = "self"
    if kind.name == "vm":
        items = [v for v in client.list(kind.list_command, **params) if v.get("id") == rid]
        return next((v for v in items if v.get("state") not in ("Expunging", "Destroyed")), None)
    return client.find_one(kind.list_command, **params)


def delete(client: CloudStackClient, kind: Kind, rid: str, attrs: dict[str, Any]) -> bool:
    """Delete one resource; False when it was already gone (not found is success for a teardown)."""
    try:
        kind.delete(client, rid, attrs)
        return True
    except CloudStackError as exc:
        if exc.is_not_found:
            return False
        raise
