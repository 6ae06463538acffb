"""Security groups with ingress and egress rules (Basic zones and Advanced zones with security groups).

Behaviour and texts follow CloudStack 4.18 SecurityGroupManagerImpl and the securitygroup API commands: an
already existing rule is silently skipped, and when nothing new was added the job fails with 530.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import partial
from typing import Any

from ..errors import INTERNAL_ERROR, RESOURCE_IN_USE_ERROR, ApiError, param_error, server_error
from ..networking import account_dbid, dbid, live_vms
from ..registry import Ctx, command, public, remove_tags_of
from ..shapes import ListShape, list_command
from ..store import new_id

RULE_KEYS = {"ingress": "ingressrule", "egress": "egressrule"}
VALID_PROTOCOLS = {"tcp", "udp", "icmp", "all"}


def vms_in_group(ctx: Ctx, group_id: str) -> list[dict[str, Any]]:
    return [vm for vm in live_vms(ctx) if any(g.get("id") == group_id for g in vm.get("securitygroup") or [])]


def group_view(ctx: Ctx, group: dict[str, Any], *, only_rules: list[str] | None = None) -> dict[str, Any]:
    """A securitygroup response: all rules, or only the given rule ids (what an authorize job answers)."""
    view = {k: v for k, v in group.items() if k not in ("ingressrule", "egressrule")}
    for key in RULE_KEYS.values():
        view[key] = [rule_view(ctx, r) for r in group.get(key, [])
                     if only_rules is None or r["ruleid"] in only_rules]
    if only_rules is None:
        vm_ids = [vm["id"] for vm in vms_in_group(ctx, group["id"])]
        view["virtualmachinecount"] = len(vm_ids)
        view["virtualmachineids"] = vm_ids
    view["tags"] = ctx.tags_of(group["id"])
    return public(view)


def rule_view(ctx: Ctx, rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "tags": ctx.tags_of(rule["ruleid"])}


def find_group(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    """securitygroupid XOR securitygroupname, as Authorize*Cmd.getSecurityGroupId checks them."""
    return _id_or_name(
        ctx, p, "securitygroupid", "securitygroupname",
        both="securityGroupId and securityGroupName parameters are mutually exclusive",
        # Both commands share this text in CloudStack, egress included.
        neither="Either securityGroupId or securityGroupName is required by authorizeSecurityGroupIngress command",
        unknown=lambda name: f"Unable to find security group {name} for account id={account_dbid(ctx)}")


def _id_or_name(ctx: Ctx, p: dict[str, Any], id_param: str, name_param: str, *, both: str, neither: str,
                unknown: Callable[[str], str]) -> dict[str, Any]:
    """The group a command names by id or by name (not both, not neither), with the command's texts."""
    if p.get(id_param) is not None and p.get(name_param) is not None:
        raise param_error(both)
    if p.get(name_param) is not None:
        group = ctx.mine("securitygroup", name=p[name_param])
        if group is None:
            raise param_error(unknown(p[name_param]))
        return group
    if p.get(id_param) is None:
        raise param_error(neither)
    return ctx.lookup("securitygroup", p, id_param)


@command("createSecurityGroup")
def create_security_group(ctx: Ctx, p: dict) -> dict:
    name = p["name"]
    if not name.strip():
        raise param_error("Security group name cannot be empty")
    if ctx.mine("securitygroup", name=name):
        raise param_error(f"Unable to create security group, a group with name {name} already exists.")
    group = ctx.store.add("securitygroup", {"id": new_id(), "name": name, "description": p.get("description"),
                                            **ctx.owner(), "ingressrule": [], "egressrule": []})
    return {"securitygroup": group_view(ctx, group)}


list_command("listSecurityGroups", ListShape(
    kind="securitygroup", equal={"securitygroupname": "name"},
    narrow=lambda ctx, groups, p: [g for g in groups if "virtualmachineid" not in p or any(
        vm["id"] == p["virtualmachineid"] for vm in vms_in_group(ctx, g["id"]))],
    view=lambda ctx, g, p: group_view(ctx, g)))


def _normalised_rule(p: dict[str, Any]) -> tuple[str, int, int]:
    """Protocol and (start port or ICMP type, end port or ICMP code), validated as CloudStack does."""
    protocol = (p.get("protocol") or "all").strip().lower()
    start, end = p.get("startport"), p.get("endport")
    icmp_type, icmp_code = p.get("icmptype"), p.get("icmpcode")
    if protocol.isdigit():
        number = int(protocol)
        if number == 1:
            return "icmp", -1, -1
        if number > 255:
            raise param_error(f"Invalid protocol number: {number}")
        return protocol, 0, 0
    if protocol not in VALID_PROTOCOLS:
        raise param_error(f"Invalid protocol {protocol}")
    if protocol == "icmp":
        if icmp_type is None or icmp_code is None:
            raise param_error(f"Invalid ICMP type/code specified, icmpType = {icmp_type}, icmpCode = {icmp_code}")
        if icmp_type == -1 and icmp_code != -1:
            raise param_error("Invalid icmp code")
        if icmp_type != -1 and icmp_code == -1:
            raise param_error("Invalid icmp code: need non-negative icmp code ")
        if not (-1 <= icmp_code <= 255 and -1 <= icmp_type <= 255):
            raise param_error("Invalid icmp type/code ")
        return protocol, icmp_type, icmp_code
    if protocol == "all":
        if start is not None or end is not None:
            raise param_error("Cannot specify startPort or endPort without specifying protocol")
        return protocol, 0, 0
    if start is None or end is None:
        raise param_error(f"Invalid port range specified, startPort = {start}, endPort = {end}")
    if start == 0 and end == 0:
        end = 65535
    if start > end:
        raise param_error(f"Invalid port range {start}:{end}")
    if start > 65535 or end > 65535 or start < -1 or end < -1:
        raise param_error(f"Invalid port numbers {start}:{end}")
    if start < 0 or end < 0:
        raise param_error(f"Invalid port range {start}:{end}")
    return protocol, start, end


def _valid_cidr(cidr: str) -> bool:
    try:
        ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False
    return "/" in cidr


def _authorize(ctx: Ctx, p: dict, direction: str) -> dict:
    group = find_group(ctx, p)
    cidrs, user_groups = p.get("cidrlist"), p.get("usersecuritygrouplist")
    key = RULE_KEYS[direction]

    def work() -> dict:
        if not cidrs and not user_groups:
            raise param_error("At least one cidr or at least one security group needs to be specified")
        for cidr in cidrs or []:
            if not _valid_cidr(cidr):
                raise param_error(f"Invalid cidr {cidr}")
        protocol, first, last = _normalised_rule(p)
        targets: list[dict[str, Any]] = []
        account = ctx.owner()["account"]
        for entry in user_groups or []:
            name, acct = entry.get("group"), entry.get("account")
            if name is None or acct is None:
                raise param_error("Invalid user group specified, fields 'group' and 'account' cannot be null, please "
                                  "specify groups in the form:  userGroupList[0].group=XXX&userGroupList[0].account=YYY")
            if acct != account:
                raise param_error(f"Nonexistent account: {acct} when trying to authorize security group rule  for "
                                  f"{dbid(ctx, group, 'securitygroup')}:{protocol}:{first}:{last}")
            other = ctx.mine("securitygroup", name=name)
            if other is None:
                raise param_error(f"Nonexistent group {name} for account {acct}/{ctx.owner()['domainid']} is given, "
                                  "unable to authorize security group rule.")
            targets.append({"securitygroupname": other["name"], "account": acct})
        targets += [{"cidr": cidr} for cidr in cidrs or []]
        ports = ({"icmptype": first, "icmpcode": last} if protocol == "icmp"
                 else {"startport": first, "endport": last})
        added = []
        for target in targets:
            rule = {"protocol": protocol, **ports, **target}
            if any({k: v for k, v in r.items() if k not in ("ruleid", "_dbid")} == rule for r in group[key]):
                continue  # CloudStack skips a rule that already exists
            rule = {"ruleid": new_id(), **rule, "_dbid": ctx.store.next_number("securitygrouprule")}
            group[key].append(rule)
            added.append(rule["ruleid"])
        if not added:
            raise server_error(INTERNAL_ERROR, f"Failed to authorize security group {direction} rule(s)")
        return group_view(ctx, group, only_rules=added)
    return ctx.job(result_key="securitygroup", work=work, operation="network_rule",
                   instance_type="SecurityGroup", instance_id=group["id"])


def _find_rule(ctx: Ctx, rule_id: str) -> tuple[dict[str, Any], str, dict[str, Any]] | None:
    for group in ctx.store.all("securitygroup"):
        for key in RULE_KEYS.values():
            for rule in group.get(key, []):
                if rule["ruleid"] == rule_id:
                    return group, key, rule
    return None


def _revoke(ctx: Ctx, p: dict, direction: str) -> dict:
    found = _find_rule(ctx, p["id"])
    if found is None:
        raise ctx.invalid_id("id", p["id"])
    group, key, rule = found

    def work() -> None:
        if key != RULE_KEYS[direction]:
            raise param_error(f"Mismatch in rule type for security rule with id {rule['_dbid']}")
        group[key] = [r for r in group[key] if r["ruleid"] != rule["ruleid"]]
        remove_tags_of(ctx, rule["ruleid"])
        return None
    return ctx.job(result_key=None, work=work, operation="network_rule", instance_type="SecurityGroup",
                   instance_id=group["id"])


for _direction in RULE_KEYS:   # authorizeSecurityGroupIngress, ...Egress, revokeSecurityGroupIngress, ...Egress
    command(f"authorizeSecurityGroup{_direction.title()}")(partial(_authorize, direction=_direction))
    command(f"revokeSecurityGroup{_direction.title()}")(partial(_revoke, direction=_direction))


@command("deleteSecurityGroup")
def delete_security_group(ctx: Ctx, p: dict) -> dict:
    group = _id_or_name(
        ctx, p, "id", "name", both="name and id parameters are mutually exclusive",
        neither="Either id or name parameter is required by deleteSecurityGroup command",
        unknown=lambda name: f"Unable to find security group by name {name} for the account id={account_dbid(ctx)}")
    if group["name"].lower() == "default":
        raise param_error("The network group default is reserved")
    allowing = [r for g in ctx.store.all("securitygroup") for key in RULE_KEYS.values() for r in g.get(key, [])
                if r.get("securitygroupname") == group["name"]]
    if allowing:
        raise _in_use("Cannot delete group when there are security rules that allow this group")
    if vms_in_group(ctx, group["id"]):
        raise _in_use("Cannot delete group when it's in use by virtual machines")
    ctx.store.remove("securitygroup", group["id"])
    remove_tags_of(ctx, group["id"])
    return {"success": "true"}


def _in_use(text: str) -> ApiError:
    """ResourceInUseException re-thrown by the command as ServerApiException(RESOURCE_IN_USE_ERROR)."""
    return server_error(RESOURCE_IN_USE_ERROR, text)
