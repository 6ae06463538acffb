"""Affinity groups: found or created on demand by create_vm, deleted by delete_vm once their last VM is gone.

As the Go CPI (orange-cloudfoundry/bosh-cpi-cloudstack action/create_vm.go@00e73a08, generateAffinityGroup): a VM's
`affinity_group` is found by name or created with `affinity_group_type` (default `host anti-affinity`); with
`enable_auto_anti_affinity` every VM of an instance group also goes in `<director uuid>-<env.bosh.group>` of
`auto_anti_affinity_type` (the OpenStack CPI's server groups work the same way). Only groups this CPI created (their
description says so) are ever deleted: an operator's own group stays even when empty.
"""
from __future__ import annotations

import logging
from typing import Any

from cpi.cloudstack.errors import CloudStackError
from cpi.config import DEFAULT_AFFINITY_TYPE
from cpi.methods.cloud import Cloud
from cpi.protocol import CloudError

log = logging.getLogger("cpi.affinity")

MARKER = "created by the BOSH CloudStack CPI; deleted with its last VM"


def wanted_groups(cloud: Cloud, names: tuple[str, ...], kind: str | None,
                  environment: dict[str, Any] | None) -> list[tuple[str, str | None]]:
    """(name, type) of every group a new VM goes in; type None: any existing group of that name will do."""
    groups: list[tuple[str, str | None]] = [(name, kind) for name in names]
    if cloud.config.enable_auto_anti_affinity:
        bosh = (environment or {}).get("bosh") or {}
        group = bosh.get("group") if isinstance(bosh, dict) else None
        director = cloud.request.context.get("director_uuid")
        if group and director:
            auto = f"{director}-{group}"
            if auto not in names:
                groups.append((auto, cloud.config.auto_anti_affinity_type))
        else:
            log.info("enable_auto_anti_affinity: no env.bosh.group or director_uuid in this request; no group")
    return groups


def ensure_groups(cloud: Cloud, groups: list[tuple[str, str | None]]) -> list[str]:
    """The ids of `groups`, creating the missing ones (of `host anti-affinity` when no type is given); an existing
    group of another type than the one asked for is an error, not a silent mix."""
    if not groups:
        return []
    existing = {g.get("name"): g for g in cloud.client.list("listAffinityGroups")}
    return [_find_or_create(cloud, existing.get(name), name, kind)["id"] for name, kind in groups]


def _find_or_create(cloud: Cloud, found: dict[str, Any] | None, name: str, kind: str | None) -> dict[str, Any]:
    if found is None:
        kind = kind or DEFAULT_AFFINITY_TYPE
        try:
            found = cloud.create("createAffinityGroup", "affinity_group", "affinitygroup",
                                 lambda: cloud.client.find_one("listAffinityGroups", name=name),
                                 name=name, type=kind, description=MARKER)
            log.info("created affinity group %s (%s)", name, kind)
        except CloudStackError as exc:  # another create_vm made it at the same time: use theirs
            found = cloud.client.find_one("listAffinityGroups", name=name)
            if found is None:
                raise CloudError(f"affinity group {name!r} ({kind}) cannot be created: {exc}") from exc
    if kind and found.get("type") and found["type"] != kind:
        raise CloudError(f"affinity group {name!r} exists with type {found['type']!r}, not {kind!r}; set "
                         "affinity_group_type to match or use another group name")
    return found


def went_away(exc: CloudStackError) -> bool:
    """deployVirtualMachine refused an affinity group id that no longer exists (a 431 naming affinitygroupids)."""
    return exc.is_not_found and "affinitygroup" in (exc.errortext or "").lower()


def delete_if_empty(cloud: Cloud, groups: list[dict[str, Any]]) -> None:
    """After a VM is gone: delete each of its groups that this CPI made and that no VM uses any more. Best effort:
    a group left behind is reused by the next create_vm that names it."""
    for ref in groups:
        try:
            group = cloud.client.find_one("listAffinityGroups", id=ref["id"])
            if group is None or group.get("description") != MARKER or group.get("virtualmachineIds"):
                continue
            cloud.run("deleteAffinityGroup", "affinity_group", id=group["id"])
            log.info("deleted affinity group %s: its last VM is gone", group.get("name"))
        except CloudStackError as exc:
            log.warning("affinity group %s was not deleted: %s", ref.get("name"), exc)
