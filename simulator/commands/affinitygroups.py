"""Affinity groups: createAffinityGroup, listAffinityGroups, deleteAffinityGroup, listAffinityGroupTypes,
updateVMAffinityGroup, and the groups deployVirtualMachine puts a VM in.

A VM keeps its groups in `affinitygroup` ({id, name, description, account}: what UserVmJoinDaoImpl puts in a VM
answer, no type); a group's `virtualmachineIds` are the live (not expunged) VMs naming it. Texts follow CloudStack
4.18 AffinityGroupServiceImpl and the affinitygroup API commands. As there, deleting a group that VMs use
succeeds and takes them out of it. The simulator has no hosts, so placement (anti-)affinity is not enforced.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..errors import ApiError, param_error
from ..networking import account_dbid, live_vms
from ..registry import Ctx, command, public
from ..shapes import ListShape, list_command, same
from ..store import new_id
from ..vm_view import vm_view

# The user-visible processors of a default 4.18 install (ExplicitDedication is admin-controlled, not listed).
TYPES = ("host anti-affinity", "host affinity")
MUTUALLY_EXCLUSIVE = "affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter"


def vms_in_group(ctx: Ctx, group_id: str) -> list[dict[str, Any]]:
    return [vm for vm in live_vms(ctx) if any(g.get("id") == group_id for g in vm.get("affinitygroup") or [])]


def group_view(ctx: Ctx, group: dict[str, Any]) -> dict[str, Any]:
    """AffinityGroupResponse: `virtualmachineIds` only when VMs are in the group (the list starts out null)."""
    vm_ids = [vm["id"] for vm in vms_in_group(ctx, group["id"])]
    return public({**group, "virtualmachineIds": vm_ids or None})


def group_ref(group: dict[str, Any]) -> dict[str, Any]:
    """A group as a VM answer shows it."""
    return {"id": group["id"], "name": group["name"], "description": group.get("description"),
            "account": group["account"]}


def _by_name(ctx: Ctx, name: str) -> dict[str, Any] | None:
    return ctx.store.first("affinitygroup", name=name)


def requested_groups(ctx: Ctx, p: dict[str, Any]) -> list[dict[str, Any]]:
    """deployVirtualMachine's affinitygroupids / affinitygroupnames (DeployVMCmd.getAffinityGroupIdList), as VM
    refs; CloudStack's 431 for both at once, an unknown name or an unknown id."""
    ids, names = p.get("affinitygroupids"), p.get("affinitygroupnames")
    if ids is not None and names is not None:
        raise param_error(MUTUALLY_EXCLUSIVE)
    groups = _resolve(ctx, names, ids, unknown_name=lambda name: param_error(
        f"Unable to find affinity group by name {name}"),
        unknown_id=lambda group_id: ctx.invalid_id("affinitygroupids", group_id))
    return [group_ref(g) for g in groups]


def _resolve(ctx: Ctx, names: list[str] | None, ids: list[str] | None, *, unknown_name: Callable[[str], ApiError],
             unknown_id: Callable[[str], ApiError]) -> list[dict[str, Any]]:
    """The groups named, then the groups by id, each missing one answered with the caller's error."""
    groups = []
    for name in names or []:
        group = _by_name(ctx, name)
        if group is None:
            raise unknown_name(name)
        groups.append(group)
    for group_id in ids or []:
        group = ctx.store.get("affinitygroup", group_id)
        if group is None:
            raise unknown_id(group_id)
        groups.append(group)
    return groups


@command("createAffinityGroup")
def create_affinity_group(ctx: Ctx, p: dict) -> dict:
    name, kind = p["name"], p["type"]
    if kind not in TYPES:
        raise param_error(f"Unable to create affinity group, invalid affinity group type: {kind}. "
                          f"Valid values are {','.join(TYPES)}")
    if _by_name(ctx, name) is not None:
        raise param_error(f"Unable to create affinity group, a group with name {name} already exists.")
    group = ctx.store.add("affinitygroup", {"id": new_id(), "name": name, "description": p.get("description"),
                                            "type": kind, **ctx.owner()})
    return ctx.job(result_key="affinitygroup", work=lambda: group_view(ctx, group), operation="job",
                   instance_type="AffinityGroup", instance_id=group["id"], create_id=group["id"])


def _of_vm(ctx: Ctx, groups: list[dict[str, Any]], p: dict) -> list[dict[str, Any]]:
    if "virtualmachineid" not in p:
        return groups
    vm = ctx.lookup("virtualmachine", p, "virtualmachineid")
    member_of = {g["id"] for g in vm.get("affinitygroup") or []}
    return [g for g in groups if g["id"] in member_of]


list_command("listAffinityGroups", ListShape(kind="affinitygroup", equal=same("type"), narrow=_of_vm,
                                             view=lambda ctx, g, p: group_view(ctx, g)))


@command("deleteAffinityGroup")
def delete_affinity_group(ctx: Ctx, p: dict) -> dict:
    group = ctx.lookup("affinitygroup", p, "id", required=False)

    def work() -> None:
        target = group
        if target is None:
            if p.get("name") is None:
                raise param_error("Either the affinity group Id or group name must be specified to delete the group")
            target = _by_name(ctx, p["name"])
            if target is None:
                raise param_error(f"Unable to find affinity group {p['name']}")
        for vm in vms_in_group(ctx, target["id"]):
            vm["affinitygroup"] = [g for g in vm["affinitygroup"] if g["id"] != target["id"]]
        ctx.store.remove("affinitygroup", target["id"])
        return None
    return ctx.job(result_key=None, work=work, operation="job", instance_type="AffinityGroup",
                   instance_id=group["id"] if group else None)


@command("listAffinityGroupTypes")
def list_affinity_group_types(ctx: Ctx, p: dict) -> dict:
    # ListAffinityGroupTypesCmd names each entry's object "affinityGroupType", and the list key keeps that case.
    return ctx.listing("affinityGroupType", [{"type": t} for t in TYPES], p)


@command("updateVMAffinityGroup")
def update_vm_affinity_group(ctx: Ctx, p: dict) -> dict:
    vm = ctx.lookup("virtualmachine", p, "id")
    ids, names = p.get("affinitygroupids"), p.get("affinitygroupnames")
    for group_id in ids or []:
        if ctx.store.get("affinitygroup", group_id) is None:
            raise ctx.invalid_id("affinitygroupids", group_id)

    def work() -> dict:
        # UpdateVMAffinityGroupCmd.execute and updateVMAffinityGroups run in the job.
        if ids is not None and names is not None:
            raise param_error(MUTUALLY_EXCLUSIVE)
        if ids is None and names is None:
            raise param_error("affinitygroupids parameter or affinitygroupnames parameter must be given")
        groups = _resolve(ctx, names, ids, unknown_name=lambda name: param_error(
            f"Unable to find group by name {name} for account {account_dbid(ctx)}"),
            # an id that was valid at the call: the group was deleted since
            unknown_id=lambda group_id: param_error(f"Unable to find affinity group by id {group_id}"))
        if vm["state"] != "Stopped":
            raise param_error(f"Unable update affinity groups of the virtual machine VM[User|{vm['instancename']}] "
                              f"in state {vm['state']}; make sure the virtual machine is stopped and not in an "
                              "error state before updating.")
        vm["affinitygroup"] = [group_ref(g) for g in groups]
        return vm_view(ctx, vm)
    return ctx.job(result_key="virtualmachine", work=work, operation="job", instance_type="VirtualMachine",
                   instance_id=vm["id"])
