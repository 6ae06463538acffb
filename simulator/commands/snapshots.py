"""Volume snapshots: create (holding the volume's bytes at that moment), list, delete."""
from __future__ import annotations

from datetime import datetime, timezone

from .. import devices, limits
from ..clock import now_str
from ..errors import param_error
from ..registry import Ctx, command, public
from ..shapes import ListShape, creation_job, list_command, removal_job, same
from ..store import new_id


def render(ctx: Ctx, snapshot: dict) -> dict:
    view = public(snapshot)
    view["tags"] = ctx.tags_of(snapshot["id"])
    return public(view)


@command("createSnapshot")
def create_snapshot(ctx: Ctx, p: dict) -> dict:
    volume = ctx.lookup("volume", p, "volumeid")
    if volume["state"] != "Ready":
        raise param_error(f"VolumeId: {volume['id']} is not in Ready state but {volume['state']}. Cannot take "
                          "snapshot.")
    vm = ctx.store.get("virtualmachine", volume.get("virtualmachineid"))
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S")
    default_name = f"{vm['instancename']}_{volume['name']}_{stamp}" if vm else f"{volume['name']}_{stamp}"
    sha, size = devices.content_of(ctx.sim, volume)   # the point in time is the request, as on a real cloud
    template = ctx.store.get("template", volume.get("templateid"))
    limits.check(ctx.store, ctx.account, "snapshot")   # VolumeApiServiceImpl.allocSnapshot
    snapshot = ctx.store.add("snapshot", {
        "id": new_id(), "name": p.get("name") or default_name, "volumeid": volume["id"],
        "volumename": volume["name"], "volumetype": volume["type"], "snapshottype": "MANUAL",
        "intervaltype": "MANUAL", "created": now_str(), "state": "Allocated", "zoneid": volume["zoneid"],
        "virtualsize": volume["size"], "physicalsize": size, "locationtype": "PRIMARY", "revertable": False,
        "hasannotations": False, "ostypeid": template.get("ostypeid") if template else None,
        "osdisplayname": template.get("ostypename") if template else None, **ctx.owner(),
        "_sha256": sha, "_size": size, "_diskofferingid": volume.get("diskofferingid"),
        "_templateid": volume.get("templateid"),
    })
    for tag in p.get("tags") or []:
        ctx.store.add("tag", {"key": tag.get("key"), "value": tag.get("value"), "resourceid": snapshot["id"],
                              "resourcetype": "Snapshot", **ctx.owner()})
    # A volume attached to a VM is snapshotted by a VmWorkTakeVolumeSnapshot on the VM's work queue.
    return creation_job(ctx, "snapshot", snapshot, result_key="snapshot", instance_type="Snapshot",
                        operation="snapshot", becomes="BackedUp", view=render,
                        vm_queue=vm["id"] if vm is not None else None)


list_command("listSnapshots", ListShape(kind="snapshot", text=same("volumeid", "snapshottype", "intervaltype", "state"),
                                        view=lambda ctx, s, p: render(ctx, s)))


@command("deleteSnapshot")
def delete_snapshot(ctx: Ctx, p: dict) -> dict:
    snapshot = ctx.lookup("snapshot", p, "id")

    def before() -> None:
        if snapshot["state"] not in ("BackedUp", "Error"):
            raise param_error(f"Can't delete snapshot {snapshot['id']} with state {snapshot['state']}")
    return removal_job(ctx, "snapshot", snapshot, instance_type="Snapshot", before=before)
