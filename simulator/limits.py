"""Accounts' resource limits and counts, as CloudStack 4.18 keeps and enforces them.

Facts (apache/cloudstack, 4.18):
- resource types and their numbers: api/src/main/java/com/cloud/configuration/Resource.java (ResourceType:
  user_vm 0, public_ip 1, volume 2, snapshot 3, template 4, project 5, network 6, vpc 7, cpu 8, memory 9,
  primary_storage 10, secondary_storage 11; -1 = unlimited).
- an account's limit: its own row (updateResourceLimit), else the "Account Defaults" of the global configuration
  (server/src/main/java/com/cloud/configuration/Config.java: max.account.user.vms, .public.ips, .templates,
  .snapshots, .volumes, .networks, .vpcs 20; .cpus 40; .memory 40960 MB; .primary.storage 200 GiB; and
  api/src/main/java/com/cloud/user/ResourceLimitService.java: max.account.projects 10,
  max.account.secondary.storage 400 GiB). Root admins are never limited
  (ResourceLimitManagerImpl.checkResourceLimit returns at once; findCorrectResourceLimitForAccount says -1).
- the refusal (ResourceLimitManagerImpl.checkAccountResourceLimit): a ResourceAllocationException
  "Maximum amount of resources of Type = '<type>' for Account Name = <name> in Domain Id = <n> is exceeded:
  Account Resource Limit = <l>, Current Account Resource Amount = <c>, Requested Resource Amount = <r>."
  answered 535 (ApiErrorCode.RESOURCE_ALLOCATION_ERROR). Public IPs are the exception:
  IpAddressManagerImpl.fetchNewPublicIp turns it into an AccountLimitException "Maximum number of public IP
  addresses for account: <name> has been exceeded." (532, ACCOUNT_RESOURCE_LIMIT_ERROR, cserrorcode 4280), and
  checks it for every address it hands out on a virtual network, a network's source NAT address included.
- listAccounts fields (AccountJoinDaoImpl.setResourceLimits): `<x>limit` and `<x>available` are strings,
  "Unlimited" for a root admin or a limit of -1; `<x>total` is a number; `ipavailable` is the smaller of the
  limit's room and the zone's free public addresses (then a number even when unlimited).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import (ACCOUNT_RESOURCE_LIMIT_ERROR, CS_ACCOUNT_LIMIT, CS_RESOURCE_ALLOCATION, CS_SERVER_API,
                     RESOURCE_ALLOCATION_ERROR, ApiError)

UNLIMITED = -1
ROOT_ADMIN = 1          # Account.Type.ADMIN; 0 is a user
ROOT_DOMAIN_DBID = 1
GIB = 1024 ** 3


@dataclass(frozen=True)
class ResourceType:
    name: str            # ResourceType name (resourcetypename)
    number: int          # ResourceType ordinal (resourcetype)
    field: str           # listAccounts field prefix (vmlimit, iptotal, ...)
    default: int         # max.account.* default (storage in GiB)


TYPES: tuple[ResourceType, ...] = (
    ResourceType("user_vm", 0, "vm", 20), ResourceType("public_ip", 1, "ip", 20),
    ResourceType("volume", 2, "volume", 20), ResourceType("snapshot", 3, "snapshot", 20),
    ResourceType("template", 4, "template", 20), ResourceType("project", 5, "project", 10),
    ResourceType("network", 6, "network", 20), ResourceType("vpc", 7, "vpc", 20),
    ResourceType("cpu", 8, "cpu", 40), ResourceType("memory", 9, "memory", 40960),
    ResourceType("primary_storage", 10, "primarystorage", 200),
    ResourceType("secondary_storage", 11, "secondarystorage", 400),
)
BY_NAME = {t.name: t for t in TYPES}
BY_NUMBER = {t.number: t for t in TYPES}
STORAGE = ("primary_storage", "secondary_storage")
GONE_VM_STATES = ("Destroyed", "Expunging", "Error")


def is_root_admin(account: dict[str, Any]) -> bool:
    return account.get("accounttype") == ROOT_ADMIN


def limit_of(account: dict[str, Any], name: str) -> int:
    """The account's limit of a type (storage in bytes), -1 when unlimited."""
    if is_root_admin(account):
        return UNLIMITED
    rtype = BY_NAME[name]
    value = (account.get("_limits") or {}).get(name, rtype.default)
    return value * GIB if name in STORAGE and value >= 0 else value


def _owned(store: Any, kind: str, account: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in store.all(kind) if o.get("_accountid") == account["id"] and not o.get("_removed")]


def _vms(store: Any, account: dict[str, Any]) -> list[dict[str, Any]]:
    return [vm for vm in _owned(store, "virtualmachine", account) if vm.get("state") not in GONE_VM_STATES]


def _templates(store: Any, account: dict[str, Any]) -> list[dict[str, Any]]:
    return [t for t in _owned(store, "template", account) if not t.get("_seed")]


# What the account holds of each type, as CloudStack's resource_count rows hold it (storage in bytes): one
# counter per type, so a check counts only the type it checks.
COUNTERS = {
    "user_vm": lambda store, acct: len(_vms(store, acct)),
    "public_ip": lambda store, acct: len(_owned(store, "publicipaddress", acct)),
    "volume": lambda store, acct: len(_owned(store, "volume", acct)),
    "snapshot": lambda store, acct: len(_owned(store, "snapshot", acct)),
    "template": lambda store, acct: len(_templates(store, acct)),
    "project": lambda store, acct: sum(1 for p in store.all("project")
                                       if any(o.get("accountid") == acct["id"] for o in p.get("owner") or [])),
    "network": lambda store, acct: sum(1 for n in _owned(store, "network", acct) if n.get("type") == "Isolated"),
    "vpc": lambda store, acct: 0,
    "cpu": lambda store, acct: sum(int(vm.get("cpunumber") or 0) for vm in _vms(store, acct)),
    "memory": lambda store, acct: sum(int(vm.get("memory") or 0) for vm in _vms(store, acct)),
    "primary_storage": lambda store, acct: sum(int(v.get("size") or 0) for v in _owned(store, "volume", acct)),
    "secondary_storage": lambda store, acct: (
        sum(int(t.get("size") or 0) for t in _templates(store, acct))
        + sum(int(s.get("physicalsize") or s.get("_size") or 0) for s in _owned(store, "snapshot", acct))),
}


def counts(store: Any, account: dict[str, Any]) -> dict[str, int]:
    """What the account holds, per type."""
    return {name: count(store, account) for name, count in COUNTERS.items()}


def exceeded_text(account: dict[str, Any], name: str, limit: int, current: int, requested: int) -> str:
    return (f"Maximum amount of resources of Type = '{name}' for Account Name = {account['name']} in Domain Id = "
            f"{ROOT_DOMAIN_DBID} is exceeded: Account Resource Limit = {limit}, Current Account Resource Amount = "
            f"{current}, Requested Resource Amount = {requested}.")


def check(store: Any, account: dict[str, Any], name: str, requested: int = 1, *, wrapped: bool = False) -> None:
    """ResourceLimitManagerImpl.checkResourceLimit: refuse when the account would go over its limit.

    `wrapped`: the command catches the ResourceAllocationException and throws its own ServerApiException without
    the cause (DeployVMCmd.create: cserrorcode 9999); otherwise ApiServer wraps it with the cause (4370)."""
    limit = limit_of(account, name)
    if limit == UNLIMITED:
        return
    current = COUNTERS[name](store, account)
    if current + requested > limit:
        raise ApiError(RESOURCE_ALLOCATION_ERROR, exceeded_text(account, name, limit, current, requested),
                       CS_SERVER_API if wrapped else CS_RESOURCE_ALLOCATION)


def check_public_ip(store: Any, account: dict[str, Any]) -> None:
    """IpAddressManagerImpl.fetchNewPublicIp's check, for every address on a virtual network (source NAT too)."""
    limit = limit_of(account, "public_ip")
    if limit != UNLIMITED and COUNTERS["public_ip"](store, account) + 1 > limit:
        raise ApiError(ACCOUNT_RESOURCE_LIMIT_ERROR, f"Maximum number of public IP addresses for account: "
                                                     f"{account['name']} has been exceeded.", CS_ACCOUNT_LIMIT)


def account_usage(store: Any, account: dict[str, Any], free_public_ips: int) -> dict[str, Any]:
    """The limit/total/available fields of an AccountResponse (setResourceLimits)."""
    held = counts(store, account)
    full = is_root_admin(account)
    out: dict[str, Any] = {}
    for rtype in TYPES:
        limit, total = limit_of(account, rtype.name), held[rtype.name]
        unlimited = full or limit == UNLIMITED
        if rtype.name in STORAGE:
            total_shown: Any = total // GIB if rtype.name == "primary_storage" else total / GIB
            room: Any = (limit // GIB) - total_shown
            limit_shown: Any = limit // GIB
        else:
            total_shown, room, limit_shown = total, limit - total, limit
        available = "Unlimited" if unlimited else str(room)
        if rtype.name == "public_ip" and room > free_public_ips:
            available = str(free_public_ips)      # fewer addresses free than the limit allows
        out[f"{rtype.field}limit"] = "Unlimited" if unlimited else str(limit_shown)
        out[f"{rtype.field}total"] = total_shown
        out[f"{rtype.field}available"] = available
    return out
