"""Accounts and their resource limits: listAccounts, listResourceLimits, updateResourceLimit.

Rules follow CloudStack 4.18 (apache/cloudstack): QueryManagerImpl.searchForAccountsInternal (a user sees its own
account; a root admin sees its own, or every account with `listall=true`), AccountJoinDaoImpl (the limit fields,
see simulator/limits.py), ResourceLimitManagerImpl.searchForLimits / updateResourceLimit and
UpdateResourceLimitCmd (root admins, domain admins and resource admins only).
"""
from __future__ import annotations

from typing import Any

from .. import limits
from ..errors import UNSUPPORTED_ACTION_ERROR, param_error, server_error
from ..networking import free_public_ips
from ..registry import Ctx, command, public
from ..shapes import ListShape, list_command, same


def account_view(ctx: Ctx, account: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
    """AccountResponse: identity, its user, and (unless details=min) the limits, totals and what is available."""
    view = {**account, "state": "enabled", "domainpath": "ROOT", "isdefault": limits.is_root_admin(account),
            "groups": [],
            "user": [{"id": account["_userid"], "username": account["name"], "account": account["name"],
                      "accountid": account["id"], "accounttype": account["accounttype"],
                      "domainid": account["domainid"], "domain": account["domain"], "state": "enabled",
                      "created": account.get("created"), "roletype": account.get("roletype"),
                      "rolename": account.get("rolename"), "isdefault": limits.is_root_admin(account)}]}
    details = [d.lower() for d in p.get("details") or ["all"]]
    if "all" in details or "resource" in details:
        usage = limits.account_usage(ctx.store, account, sum(len(free_public_ips(ctx, z))
                                                              for z in ctx.store.all("zone")))
        running = [vm for vm in ctx.store.all("virtualmachine") if vm.get("_accountid") == account["id"]
                   and not vm.get("_removed")]
        view.update(usage, vmrunning=sum(1 for vm in running if vm.get("state") == "Running"),
                    vmstopped=sum(1 for vm in running if vm.get("state") == "Stopped"))
    return public(view)


def _scope(ctx: Ctx, items: list[dict[str, Any]], p: dict[str, Any]) -> list[dict[str, Any]]:
    """searchForAccountsInternal: without an id, the caller's own account unless a root admin asks listall."""
    if ctx.is_admin and (p.get("listall") or p.get("id") or p.get("domainid")):
        return items
    return [a for a in items if a["id"] == ctx.account["id"]]


list_command("listAccounts", ListShape(
    kind="account", equal=same("accounttype", "domainid"), keyword=("name",), narrow=_scope,
    view=account_view))


# --- limits -----------------------------------------------------------------------------------------------------
def _limit_view(account: dict[str, Any], rtype: limits.ResourceType) -> dict[str, Any]:
    """ResourceLimitResponse: the type's number as a string, its name, `max` (storage in GiB)."""
    limit = limits.limit_of(account, rtype.name)
    if rtype.name in limits.STORAGE and limit >= 0:
        limit //= limits.GIB
    return {"account": account["name"], "domainid": account["domainid"], "domain": account["domain"],
            "resourcetype": str(rtype.number), "resourcetypename": rtype.name, "max": limit}


def _type_of(p: dict[str, Any]) -> limits.ResourceType | None:
    """resourcetypename wins over resourcetype (BaseCmd of 4.18's limit commands)."""
    if p.get("resourcetypename") is not None:
        rtype = limits.BY_NAME.get(p["resourcetypename"])
        if rtype is None:
            # (wording unverified)
            raise param_error(f"Please specify a valid resource type name: {p['resourcetypename']}")
        return rtype
    if p.get("resourcetype") is not None:
        rtype = limits.BY_NUMBER.get(p["resourcetype"])
        if rtype is None:
            raise param_error("Please specify valid resource type")
        return rtype
    return None


def _target(ctx: Ctx, p: dict[str, Any]) -> dict[str, Any]:
    """The account a limit command is about: the caller's own unless an admin names one (with its domain)."""
    name = p.get("account")
    if name is None or not ctx.is_admin:
        return ctx.account
    if p.get("domainid") is None:
        raise param_error("Account name and domain id must be specified together")   # (wording unverified)
    account = ctx.store.first("account", name=name, domainid=p["domainid"])
    if account is None:
        raise param_error(f"Unable to find account by name {name} in domain {p['domainid']}")   # (wording unverified)
    return account


@command("listResourceLimits")
def list_resource_limits(ctx: Ctx, p: dict) -> dict:
    account = _target(ctx, p)
    wanted = _type_of(p)
    set_first = [limits.BY_NAME[n] for n in account.get("_limits") or {}]   # stored rows, then the defaults
    ordered = set_first + [t for t in limits.TYPES if t not in set_first]
    return ctx.listing("resourcelimit", [_limit_view(account, t) for t in ordered if wanted in (None, t)], p)


@command("updateResourceLimit")
def update_resource_limit(ctx: Ctx, p: dict) -> dict:
    if not ctx.is_admin:
        # not in the User role's API list: refused as an unknown command is
        raise server_error(UNSUPPORTED_ACTION_ERROR, "The given command does not exist or it is not available for user")
    top = p.get("max", limits.UNLIMITED)
    if top < limits.UNLIMITED:
        raise param_error("Please specify either '-1' for an infinite limit, or a limit that is at least '0'.")
    rtype = _type_of(p)
    if rtype is None:
        raise param_error("Please specify valid resource type")
    if p.get("account") is None:
        # domain limits: the simulator has the ROOT domain only, whose limits CloudStack does not let change
        raise param_error("Cannot update resource limit for ROOT domain, permission denied")   # (wording unverified)
    account = _target(ctx, p)
    if limits.is_root_admin(account) and top != limits.UNLIMITED:
        raise param_error(f"Only {limits.UNLIMITED} limit is supported for Root Admin accounts")
    account.setdefault("_limits", {})[rtype.name] = top
    return {"resourcelimit": _limit_view(account, rtype)}
