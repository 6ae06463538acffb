"""Volumes: create, attach (CloudStack's device-id rules), detach, delete, resize, list.

Errors follow VolumeApiServiceImpl (4.18): checks made while the job runs fail the job (attach, detach, resize),
checks of the create phase answer at once. `size` is in bytes in answers and in GB in requests.
A volume's bytes: `_content` names its blob while it is not a host-VM device (see simulator/devices.py).
"""
from __future__ import annotations

from typing import Any

from .. import devices, limits
from ..clock import now_str
from ..errors import internal, param_error
from ..registry import Ctx, command, public, remove_tags_of
from ..shapes import ListShape, list_command, same
from ..store import new_id

GB = 1024 ** 3
CDROM_DEVICE_ID = 3
MAX_VOLUME_SIZE_GB = 2000          # storage.max.volume.size
CUSTOM_MIN_GB, CUSTOM_MAX_GB = 1, 1024   # custom.diskoffering.size.min / .max
ATTACHABLE_VM_STATES = ("Running", "Stopped")


# --- shared helpers (also used by virtual machines and snapshots) ----------------------------------------------
def render(ctx: Ctx, volume: dict[str, Any]) -> dict[str, Any]:
    view = public(volume)
    vm = ctx.store.get("virtualmachine", volume.get("virtualmachineid"))
    if vm is not None:
        view.update(vmname=vm["name"], vmdisplayname=vm.get("displayname"), vmstate=vm["state"],
                    vmtype="User")
    view["tags"] = ctx.tags_of(volume["id"])
    return public(view)


def new_volume(ctx: Ctx, *, name: str, zone: dict[str, Any], vtype: str, size: int, state: str,
               offering: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    volume = {
        "id": new_id(), "name": name, "zoneid": zone["id"], "zonename": zone["name"], "type": vtype,
        "size": size, "created": now_str(), "state": state, "storagetype": "shared",
        "hypervisor": zone["_hypervisor"] if state != "Allocated" else "None", "provisioningtype": "thin",
        "destroyed": False, "isextractable": False, "displayvolume": True, "quiescevm": False,
        "supportsstoragesnapshot": False, "hasannotations": False,
        "diskofferingid": offering["id"] if offering else None,
        "diskofferingname": offering["name"] if offering else None,
        "diskofferingdisplaytext": offering["displaytext"] if offering else None,
        **extra, **ctx.owner(),
    }
    return ctx.store.add("volume", volume)


def max_data_volumes(ctx: Ctx, vm: dict[str, Any]) -> int:
    zone = ctx.store.get("zone", vm["zoneid"])
    return int((zone or {}).get("_max_data_volumes") or 6)


def attach(ctx: Ctx, volume: dict[str, Any], vm: dict[str, Any], device_id: int | None) -> None:
    """AttachVolume's rules, in CloudStack's order; raises the error the job fails with."""
    if volume.get("virtualmachineid"):
        raise param_error("Please specify a volume that is not attached to any VM.")
    if volume["state"] == "Destroy":
        raise param_error("Please specify a volume that is not destroyed.")
    if vm["state"] not in ATTACHABLE_VM_STATES:
        raise param_error("Please specify a VM that is either running or stopped.")
    if vm["zoneid"] != volume["zoneid"]:
        raise param_error("Please specify a VM that is in the same zone as the volume.")
    attached = ctx.store.find("volume", virtualmachineid=vm["id"])
    if device_id == 0:
        if vm["state"] != "Stopped":
            raise param_error("Root volume detach can happen only when vm is in states: Stopped or Destroyed")
        if any(v.get("deviceid") == 0 for v in attached):
            raise param_error("Vm already has root volume attached to it")
    else:
        limit = max_data_volumes(ctx, vm)
        if sum(1 for v in attached if v["type"] == "DATADISK") >= limit:
            raise param_error(f"The specified VM already has the maximum number of data disks ({limit}) attached. "
                              "Please specify another VM.")
    if volume["state"] not in ("Allocated", "Ready", "Uploaded"):
        raise param_error("Volume state must be in Allocated, Ready or in Uploaded state")
    volume["deviceid"] = _device_id(ctx, vm, attached, device_id)
    volume.update(virtualmachineid=vm["id"], state="Ready", attached=now_str(), hypervisor=vm["hypervisor"])
    if device_id == 0:
        volume["type"] = "ROOT"
    devices.plug(ctx.sim, volume)


def _device_id(ctx: Ctx, vm: dict[str, Any], attached: list[dict[str, Any]], wanted: int | None) -> int:
    """VolumeApiServiceImpl.getDeviceId: ROOT and the CD-ROM take 2 of the (max data volumes + 2) slots."""
    max_id = max_data_volumes(ctx, vm) + 1
    used = {v.get("deviceid") for v in attached}
    if wanted is not None:
        if wanted < 0 or wanted > max_id or wanted == CDROM_DEVICE_ID:
            raise internal(f"deviceId should be 0,1,2,4-{max_id}")
        if wanted in used:
            raise internal(f"deviceId {wanted} is used by vm {vm['id']}")
        return wanted
    for candidate in range(1, max_id + 1):
        if candidate != CDROM_DEVICE_ID and candidate not in used:
            return candidate
    raise internal(f"All device Ids are used by vm {vm['id']}")


def detach(ctx: Ctx, volume: dict[str, Any]) -> None:
    devices.unplug(ctx.sim, volume)
    for field in ("virtualmachineid", "deviceid", "attached"):
        volume.pop(field, None)


def check_size_gb(size_gb: int) -> None:
    """validateVolumeSizeRange."""
    if size_gb < 1:
        raise param_error("Please specify a size of at least 1 GB.")
    if size_gb > MAX_VOLUME_SIZE_GB:
        raise param_error(f"Requested volume size is {size_gb * GB}, but the maximum size allowed is "
                          f"{MAX_VOLUME_SIZE_GB} GB.")


def remove(ctx: Ctx, volume: dict[str, Any]) -> None:
    ctx.store.remove("volume", volume["id"])
    remove_tags_of(ctx, volume["id"])


# --- commands ------------------------------------------------------------------------------------------------
@command("createVolume")
def create_volume(ctx: Ctx, p: dict) -> dict:
    if p.get("snapshotid") is None and p.get("diskofferingid") is None:
        raise param_error("At least one of disk Offering ID or snapshot ID must be passed whilst creating volume")
    offering = ctx.lookup("diskoffering", p, "diskofferingid", required=False)
    snapshot = ctx.lookup("snapshot", p, "snapshotid", required=False)
    vm = ctx.lookup("virtualmachine", p, "virtualmachineid", required=False)
    size: int | None = None
    if offering is not None:
        size_gb = p.get("size")
        if size_gb is not None and size_gb <= 0:
            raise param_error("Disk size must be larger than 0")
        if offering["iscustomized"]:
            if size_gb is None:
                raise param_error("This disk offering requires a custom size specified")
            if not CUSTOM_MIN_GB <= size_gb <= CUSTOM_MAX_GB:
                raise param_error(f"Volume size: {size_gb}GB is out of allowed range. Max: {CUSTOM_MAX_GB} "
                                  f"Min:{CUSTOM_MIN_GB}")
        elif size_gb is not None:
            raise param_error("This disk offering does not allow custom size")
        size = (size_gb if offering["iscustomized"] else offering["disksize"]) * GB
        check_size_gb(size // GB)
    if snapshot is not None:
        if snapshot["state"] != "BackedUp":
            raise param_error(f"Snapshot id={snapshot['id']} is not in BackedUp state yet and can't be used for "
                              "volume creation")
        if offering is None:
            size = snapshot["virtualsize"]
        elif size < snapshot["virtualsize"]:
            raise param_error(f"Invalid size for volume creation: {size // GB}GB, snapshot size is: "
                              f"{snapshot['virtualsize'] // GB}GB")
        if vm is not None and vm["state"] not in ATTACHABLE_VM_STATES:
            raise param_error("Please specify a VM that is either running or stopped.")
    zone_id = p.get("zoneid") or (snapshot["zoneid"] if snapshot else None)
    zone = ctx.store.get("zone", zone_id)
    if zone is None:
        raise param_error(f"Unable to find zone by id {zone_id}")
    if offering is None:
        offering = ctx.store.get("diskoffering", snapshot.get("_diskofferingid"))
    limits.check(ctx.store, ctx.account, "volume")     # VolumeApiServiceImpl.allocVolume
    volume = new_volume(ctx, name=p.get("name") or new_id(), zone=zone, vtype="DATADISK", size=size,
                        state="Allocated", offering=offering,
                        _content=snapshot["_sha256"] if snapshot else None)

    def work() -> dict:
        if snapshot is not None:
            volume.update(state="Ready", hypervisor=zone["_hypervisor"], snapshotid=snapshot["id"])
        if vm is not None:
            current = ctx.store.get("virtualmachine", vm["id"])
            try:
                attach(ctx, volume, current, None)
            except Exception as err:
                raise internal(f"Volume: {volume['id']} created successfully, but failed to attach the newly "
                               f"created volume to VM: {vm['id']} due to error: {err}") from None
        return render(ctx, volume)

    def rollback(err: Exception) -> None:
        if not str(err).startswith(f"Volume: {volume['id']} created successfully"):
            remove(ctx, volume)
    return ctx.job(result_key="volume", work=work, operation="create_volume", instance_type="Volume",
                   instance_id=volume["id"], rollback=rollback, create_id=volume["id"],
                   vm_queue=vm["id"] if vm is not None else None)   # the attach is a VmWorkAttachVolume


@command("attachVolume")
def attach_volume(ctx: Ctx, p: dict) -> dict:
    volume = ctx.lookup("volume", p, "id")
    vm = ctx.lookup("virtualmachine", p, "virtualmachineid")

    def work() -> dict:
        attach(ctx, volume, vm, p.get("deviceid"))
        return render(ctx, volume)
    return ctx.job(result_key="volume", work=work, operation="attach", instance_type="Volume",
                   instance_id=volume["id"], vm_queue=vm["id"])   # VmWorkAttachVolume


@command("detachVolume")
def detach_volume(ctx: Ctx, p: dict) -> dict:
    has_id, has_vm, has_dev = "id" in p, "virtualmachineid" in p, "deviceid" in p
    if (not has_id and not (has_vm and has_dev)) or (has_id and (has_vm or has_dev)):
        raise param_error("Please provide either a volume id, or a tuple(device id, instance id)")
    if has_id:
        volume = ctx.lookup("volume", p, "id")
    else:
        vm = ctx.lookup("virtualmachine", p, "virtualmachineid")
        volume = ctx.store.first("volume", virtualmachineid=vm["id"], deviceid=p["deviceid"])
        if volume is None:
            raise param_error(f"Unable to find volume with ID: {p['deviceid']} on VM {vm['id']}")

    def work() -> dict:
        vm = ctx.store.get("virtualmachine", volume.get("virtualmachineid"))
        if vm is None:
            raise param_error("The specified volume is not attached to a VM.")
        if vm["state"] not in ("Running", "Stopped", "Destroyed"):
            raise param_error("Please specify a VM that is either running or stopped.")
        if volume["type"] == "ROOT" and vm["state"] != "Stopped":
            raise param_error("Root volume detach can happen only when vm is in states: Stopped or Destroyed")
        detach(ctx, volume)
        return render(ctx, volume)
    return ctx.job(result_key="volume", work=work, operation="detach", instance_type="Volume",
                   instance_id=volume["id"], vm_queue=volume.get("virtualmachineid"))   # VmWorkDetachVolume


@command("deleteVolume")
def delete_volume(ctx: Ctx, p: dict) -> dict:
    volume = ctx.lookup("volume", p, "id")
    if volume.get("virtualmachineid"):
        raise param_error("Please specify a volume that is not attached to any VM.")
    remove(ctx, volume)
    return {"success": "true"}


@command("resizeVolume")
def resize_volume(ctx: Ctx, p: dict) -> dict:
    volume = ctx.lookup("volume", p, "id")
    new_offering = ctx.lookup("diskoffering", p, "diskofferingid", required=False)
    if new_offering is not None and new_offering["id"] == volume.get("diskofferingid"):
        new_offering = None

    def work() -> dict:
        if volume["state"] not in ("Ready", "Allocated"):
            raise param_error(f"Volume should be in ready or allocated state before attempting a resize. Volume "
                              f"{volume['id']} is in state {volume['state']}.")
        current = int(volume["size"])
        offering = ctx.store.get("diskoffering", volume.get("diskofferingid"))
        if new_offering is None:
            if p.get("size") is None:
                new_size = current
            elif not (offering or {}).get("iscustomized") and volume["type"] != "ROOT":
                raise param_error("To change a volume's size without providing a new disk offering, its current "
                                  "disk offering must be customizable or it must be a root volume (if providing a "
                                  "disk offering, make sure it is different from the current disk offering).")
            else:
                new_size = p["size"] * GB
        else:
            if new_offering["iscustomized"]:
                if p.get("size") is None:
                    raise param_error("The new disk offering requires that a size be specified.")
                new_size = p["size"] * GB
            else:
                if p.get("size") is not None:
                    raise param_error("You cannnot pass in a custom disk size to a non-custom disk offering.")
                new_size = new_offering["disksize"] * GB
            if new_size != current and volume["type"] != "DATADISK":
                raise param_error("Only data volumes can be resized via a new disk offering.")
        if new_size != current:
            check_size_gb(new_size // GB)
            if new_size < current and not p.get("shrinkok"):
                raise param_error(f"Going from existing size of {current} to size of {new_size} would shrink the "
                                  "volume.Need to sign off by supplying the shrinkok parameter with value of true.")
        volume["size"] = new_size
        if new_offering is not None:
            volume.update(diskofferingid=new_offering["id"], diskofferingname=new_offering["name"],
                          diskofferingdisplaytext=new_offering["displaytext"])
        devices.resized(ctx.sim, volume)
        return render(ctx, volume)
    return ctx.job(result_key="volume", work=work, operation="resize", instance_type="Volume",
                   instance_id=volume["id"], vm_queue=volume.get("virtualmachineid"))   # VmWorkResizeVolume


list_command("listVolumes", ListShape(kind="volume", equal=same("virtualmachineid", "diskofferingid"),
                                      text=same("type", "state"), view=lambda ctx, v, p: render(ctx, v)))
