"""Take an environment apart: the recorded resources in reverse creation order (`destroy`, and records the
config no longer wants), or everything tagged for it when the state is lost (`cleanup-leftovers`)."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cpi.cloudstack.client import CloudStackClient
from cpi.cloudstack.errors import CloudStackError, JobFailedError, OutcomeUnknownError
from inception.cloud import kinds
from inception.cloud.context import ENV_TAG, CloudContext
from inception.cloud.steps import Step
from inception.state import Resource

Report = Callable[[str, str, str], None]   # (label, action, detail)
ATTEMPTS = 4


def _wait_vm_settled(client: CloudStackClient, vm_id: str, timeout: float) -> None:
    """A VM whose deploy job is still running cannot be destroyed yet: wait for the job to end."""
    deadline, delay = time.monotonic() + timeout, 0.1
    while time.monotonic() < deadline:
        live = kinds.lookup(client, kinds.KINDS["vm"], vm_id, {})
        if live is None or live.get("state") not in ("Starting", "Stopping"):
            return
        time.sleep(delay)
        delay = min(delay * 1.5, 5.0)


def delete_resource(client: CloudStackClient, kind: kinds.Kind, rid: str, attrs: dict[str, Any],
                    timeout: float = 600.0) -> bool:
    """Delete, retrying failed jobs and unknown outcomes (a delete is safe to repeat once the resource is
    looked up again). False when it was already gone."""
    if kind.name == "vm":
        _wait_vm_settled(client, rid, timeout)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return kinds.delete(client, kind, rid, attrs)
        except (OutcomeUnknownError, JobFailedError):
            if kind.list_command and kinds.lookup(client, kind, rid, attrs) is None:
                return True
            if attempt == ATTEMPTS:
                raise
            time.sleep(0.2 * attempt)
    return False


def destroy_recorded(ctx: CloudContext, steps: dict[str, Step], report: Report,
                     only: Callable[[Resource], bool] = lambda r: True) -> None:
    """Delete every recorded resource (newest first) that `only` selects; forget each one as it goes.

    Resources this environment did not create are forgotten, never deleted. A record still `creating`
    (its create call was interrupted) is looked up the way `up` would find it."""
    timeout = float(ctx.config.cloudstack.get("state_timeout", 600))
    # Public IPs this environment uses but did not acquire: CloudStack releases a network's addresses with it.
    foreign_ips = {r.attrs.get("ipaddress") for r in ctx.state.resources if r.kind == "public_ip" and not r.owned}
    for record in reversed(ctx.state.resources):
        if not only(record):
            continue
        kind = kinds.KINDS[record.kind]
        label = f"{kind.label} {record.name or record.id or record.key}"
        if not record.owned:
            ctx.state.forget(record.key)
            report(label, "kept", "not created by this environment")
            continue
        held = _holds(ctx, record, foreign_ips)
        if held:
            ctx.state.forget(record.key)
            report(label, "kept", f"public IP {held} on it was not acquired by this environment, and CloudStack "
                   "would release it with the network")
            continue
        rid = record.id
        if rid is None:
            step = steps.get(record.key)
            live = step.find(ctx, True) if step is not None else None
            rid = step.resource_id(live) if step is not None and live is not None else None
        if rid is None:
            ctx.state.forget(record.key)
            report(label, "gone", "its create never completed")
            continue
        deleted = delete_resource(ctx.client, kind, rid, record.attrs, timeout)
        ctx.state.forget(record.key)
        report(label, "deleted" if deleted else "gone", rid)


def _holds(ctx: CloudContext, record: Resource, addresses: set[str | None]) -> str | None:
    """The first of `addresses` acquired on the network `record` is (None: not a network, or none there)."""
    if record.kind != "network" or not record.id or not addresses - {None}:
        return None
    on_it = ctx.client.list("listPublicIpAddresses", associatednetworkid=record.id)
    return next((ip["ipaddress"] for ip in on_it if ip.get("ipaddress") in addresses), None)


@dataclass
class Leftover:
    kind: kinds.Kind
    id: str
    name: str
    attrs: dict[str, Any]


def find_leftovers(client: CloudStackClient, env: str, keypairs: list[str]) -> list[Leftover]:
    """Everything tagged for `env` (plus its keypairs, which CloudStack cannot tag), in deletion order."""
    by_tag_type = {k.tag_type.lower(): k for k in kinds.KINDS.values() if k.tag_type}
    found: list[Leftover] = []
    for tag in client.list("listTags", key=ENV_TAG, value=env):
        kind = by_tag_type.get(str(tag.get("resourcetype", "")).lower())
        if kind is None:
            continue
        live = kinds.lookup(client, kind, tag["resourceid"], {})
        if live is not None:
            found.append(Leftover(kind, tag["resourceid"], live.get("name") or live.get("ipaddress") or "", live))
    for name in keypairs:
        if client.find_one("listSSHKeyPairs", name=name):
            found.append(Leftover(kinds.KINDS["keypair"], name, name, {}))
    order = {name: i for i, name in enumerate(kinds.TEARDOWN_ORDER)}
    return sorted(found, key=lambda item: order[item.kind.name])


def delete_leftovers(client: CloudStackClient, leftovers: list[Leftover], report: Report) -> list[str]:
    """Delete them all; returns the errors (one per resource that could not be deleted)."""
    errors: list[str] = []
    groups = [item for item in leftovers if item.kind.name == "security_group"]
    names = {item.name for item in groups}
    for item in groups:   # a group that rules refer to (its own intra-group rules too) cannot be deleted
        for rule in item.attrs.get("ingressrule") or []:
            if rule.get("securitygroupname") in names:
                try:
                    delete_resource(client, kinds.KINDS["sg_ingress"], rule["ruleid"], {})
                except CloudStackError as exc:
                    errors.append(f"ingress rule {rule['ruleid']} of {item.name}: {exc}")
    for item in leftovers:
        label = f"{item.kind.label} {item.name or item.id}"
        try:
            deleted = delete_resource(client, item.kind, item.id, item.attrs)
            report(label, "deleted" if deleted else "gone", item.id)
        except CloudStackError as exc:
            errors.append(f"{label}: {exc}")
            report(label, "failed", str(exc))
    return errors
