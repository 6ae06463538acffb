"""Persistent disks: create_disk, delete_disk, has_disk, attach_disk, detach_disk, get_disks, resize_disk."""
from __future__ import annotations

import logging
import uuid
from typing import Any

from cpi import devices
from cpi.cloudstack.errors import CloudStackConnectionError, CloudStackError, JobTimeoutError, OutcomeUnknownError
from cpi.methods import lookup
from cpi.methods.cloud import Cloud
from cpi.methods.vm import vm_data_volumes
from cpi.properties import disk_properties
from cpi.protocol import CloudError, CpiError, DiskNotFound, NotSupported, VMNotFound

log = logging.getLogger("cpi.disk")

DISK_PREFIX = "disk-"
GiB = 1 << 30


def _vm(cloud: Cloud, vm_cid: str) -> dict[str, Any]:
    vm = cloud.vm(vm_cid)
    if vm is None:
        raise VMNotFound(f"VM {vm_cid} not found")
    return vm


def _volume(cloud: Cloud, disk_cid: str) -> dict[str, Any]:
    volume = cloud.volume(disk_cid)
    if volume is None:
        raise DiskNotFound(f"disk {disk_cid} not found")
    return volume


def create_disk(cloud: Cloud, size: int, cloud_properties: dict[str, Any] | None, vm_cid: str | None) -> str:
    if size < 1:
        raise CpiError(f"create_disk: size must be a positive number of MiB, got {size}")
    props = disk_properties(cloud_properties)
    vm = cloud.vm(vm_cid) if vm_cid else None  # locality hint: the disk goes where the VM is
    zone = cloud.zone_by_id(vm["zoneid"]) if vm else cloud.zone()
    offering, gib = lookup.disk_offering_for(cloud, size, props.disk_offering or cloud.config.default_disk_offering,
                                             zone)
    name = DISK_PREFIX + str(uuid.uuid4())
    params: dict[str, Any] = {"name": name, "zoneid": zone.id, "diskofferingid": offering["id"]}
    if gib is not None:
        params["size"] = gib
    volume = cloud.create_settled("createVolume", "create_volume", "volume",
                                  lambda: cloud.client.find_one("listVolumes", name=name, zoneid=zone.id),
                                  again="delete_volume", leftover=f"volume {name}", **params)
    log.info("created disk %s (%s, offering %s) in zone %s", volume["id"], name, offering.get("name"), zone.name)
    return volume["id"]


def delete_disk(cloud: Cloud, disk_cid: str) -> None:
    volume = cloud.volume(disk_cid)
    if volume is None:
        log.info("disk %s is already gone", disk_cid)
        return
    if volume.get("virtualmachineid"):
        raise CloudError(f"disk {disk_cid} is attached to VM {volume['virtualmachineid']}; detach it first")
    cloud.client.call("deleteVolume", id=disk_cid)


def has_disk(cloud: Cloud, disk_cid: str) -> bool:
    return cloud.volume(disk_cid) is not None


def attach_disk(cloud: Cloud, vm_cid: str, disk_cid: str) -> Any:
    vm = _vm(cloud, vm_cid)
    volume = _volume(cloud, disk_cid)
    holder = volume.get("virtualmachineid")
    if holder and holder != vm_cid:
        raise CloudError(f"disk {disk_cid} is attached to another VM ({holder})")
    if not holder:
        volume = cloud.run("attachVolume", "attach_volume", id=disk_cid, virtualmachineid=vm_cid)["volume"]
    hint = devices.disk_hint(vm.get("hypervisor"), int(volume["deviceid"]))
    log.info("disk %s attached to VM %s as %s", disk_cid, vm_cid, hint)
    return hint if cloud.request.api_version >= 2 else None


def detach_disk(cloud: Cloud, vm_cid: str, disk_cid: str) -> None:
    """Detach; a disk that is not attached to the VM is success, as in every other CPI (the Director repeats a
    detach after a failure, e.g. in `bosh cck` or a retried update). A disk held by another VM is left alone."""
    _vm(cloud, vm_cid)
    volume = _volume(cloud, disk_cid)
    holder = volume.get("virtualmachineid")
    if holder != vm_cid:
        where = f"attached to another VM ({holder})" if holder else "not attached"
        log.info("disk %s is %s, not to VM %s: nothing to detach", disk_cid, where, vm_cid)
        return
    cloud.run("detachVolume", "detach_volume", id=disk_cid)


def get_disks(cloud: Cloud, vm_cid: str) -> list[str]:
    _vm(cloud, vm_cid)
    return [v["id"] for v in vm_data_volumes(cloud, vm_cid)[1]]


def resize_disk(cloud: Cloud, disk_cid: str, new_size: int) -> None:
    """Grow a disk to exactly the size asked: through a custom offering with that size (see lookup.resize_offering).
    What CloudStack cannot do answers NotSupported, on which the Director falls back to a new disk and a copy
    (cloudfoundry/bosh director disk_manager.rb rescues Bosh::Clouds::NotImplemented and NotSupported): shrinking,
    no offering of that size, a refused resizeVolume or a failed resize job. A timeout or a lost answer stays a
    CloudError: the resize may still be going on, and copying the disk meanwhile could not be trusted."""
    volume = _volume(cloud, disk_cid)
    current_gib = int(volume.get("size") or 0) // GiB
    wanted_gib = lookup.size_gib(new_size)
    if wanted_gib == current_gib:
        log.info("disk %s already has %d GiB", disk_cid, current_gib)
        return
    if wanted_gib < current_gib:
        raise NotSupported(f"disk {disk_cid} has {current_gib} GiB; shrinking to {wanted_gib} GiB is not supported")
    zone = cloud.zone_by_id(volume["zoneid"]) if volume.get("zoneid") else None
    choice = lookup.resize_offering(cloud, volume, wanted_gib, zone)
    if choice is None:
        raise NotSupported(f"no custom disk offering (nor one of exactly {wanted_gib} GiB) to resize disk {disk_cid} "
                           f"to {wanted_gib} GiB")
    offering, gib = choice
    params: dict[str, Any] = {"id": disk_cid}
    if gib is not None:
        params["size"] = gib
    if offering["id"] != volume.get("diskofferingid"):
        params["diskofferingid"] = offering["id"]
    try:
        cloud.run("resizeVolume", "resize_volume", **params)
    except (JobTimeoutError, OutcomeUnknownError, CloudStackConnectionError):
        raise  # the outcome is unknown: not a refusal
    except CloudStackError as exc:  # the job failed, or CloudStack refused the command
        raise NotSupported(f"CloudStack could not resize disk {disk_cid} to {wanted_gib} GiB ({exc}); the Director "
                           "copies it to a new disk instead") from exc
    log.info("disk %s resized from %d to %d GiB (offering %s)", disk_cid, current_gib, wanted_gib, offering.get("name"))
