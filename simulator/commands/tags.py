"""Resource tags: createTags / deleteTags / listTags, with CloudStack's resource types."""
from __future__ import annotations

from ..errors import param_error
from ..registry import Ctx, command, tag_view
from ..shapes import ListShape, list_command, same

# ResourceObjectType (matched case-insensitively) -> the store kind holding such resources.
RESOURCE_KINDS = {
    "uservm": "virtualmachine", "template": "template", "iso": "iso", "volume": "volume",
    "snapshot": "snapshot", "network": "network", "securitygroup": "securitygroup",
    "publicipaddress": "publicipaddress", "firewallrule": "firewallrule",
    "portforwardingrule": "portforwardingrule", "zone": "zone", "serviceoffering": "serviceoffering",
    "diskoffering": "diskoffering", "vpc": "vpc", "nic": "nic", "project": "project",
}
CANONICAL = {"uservm": "UserVm", "template": "Template", "iso": "ISO", "volume": "Volume", "snapshot": "Snapshot",
             "network": "Network", "securitygroup": "SecurityGroup", "publicipaddress": "PublicIpAddress",
             "firewallrule": "FirewallRule", "portforwardingrule": "PortForwardingRule", "zone": "Zone",
             "serviceoffering": "ServiceOffering", "diskoffering": "DiskOffering", "vpc": "Vpc", "nic": "Nic",
             "project": "Project"}
MAX_KEY, MAX_VALUE = 255, 255


def resource_kind(resourcetype: str) -> str:
    kind = RESOURCE_KINDS.get(resourcetype.lower())
    if kind is None:
        raise param_error(f"Invalid resource type {resourcetype}")
    return kind


@command("createTags")
def create_tags(ctx: Ctx, p: dict) -> dict:
    kind = resource_kind(p["resourcetype"])
    rtype = CANONICAL[p["resourcetype"].lower()]
    targets = []
    for rid in p["resourceids"]:
        obj = ctx.store.get(kind, rid)
        if obj is None or obj.get("_removed") or obj.get("state") == "Expunging":
            raise param_error(f"Unable to find resource by id {rid} and type {rtype}")
        targets.append(obj)
    tags = p["tags"]
    for tag in tags:
        key, value = tag.get("key"), tag.get("value")
        if not key or value is None:
            raise param_error("Both key and value are required for a tag")
        if len(key) > MAX_KEY or len(value) > MAX_VALUE:
            raise param_error(f"Tag key/value is too long: the limit is {MAX_KEY} characters")
        for obj in targets:
            if ctx.store.first("tag", resourceid=obj["id"], key=key):
                raise param_error(f"tag {key} already on {rtype} with id {obj['id']}")

    def work() -> None:
        for obj in targets:
            for tag in tags:
                ctx.store.add("tag", {"key": tag["key"], "value": tag["value"], "resourceid": obj["id"],
                                      "resourcetype": rtype, "customer": p.get("customer"), **ctx.owner()})
        return None
    return ctx.job(result_key=None, work=work, operation="tags")


@command("deleteTags")
def delete_tags(ctx: Ctx, p: dict) -> dict:
    resource_kind(p["resourcetype"])
    rtype = CANONICAL[p["resourcetype"].lower()]
    wanted = p.get("tags") or []

    def matches(tag: dict) -> bool:
        if tag["resourcetype"] != rtype or tag["resourceid"] not in p["resourceids"]:
            return False
        if not wanted:
            return True
        return any(w.get("key") == tag["key"] and w.get("value") in (None, "", tag["value"]) for w in wanted)

    def work() -> None:
        for tag in [t for t in ctx.store.all("tag") if matches(t)]:
            ctx.store.remove("tag", tag["id"])
        return None
    return ctx.job(result_key=None, work=work, operation="tags")


list_command("listTags", ListShape(kind="tag", keyword=(), equal=same("key", "value", "resourceid", "customer"),
                                   text=same("resourcetype"), view=lambda ctx, t, p: tag_view(t)))
