"""Stemcell mode (B), volume copy, for a CPI running on a CloudStack VM (an inception VM or the director):
create a volume, attach it to this very VM, write the raw disk onto it in one streaming pass (cpi.stemcell's writer:
no temporary copy, zero ranges zeroed rather than written), detach, snapshot, createTemplate from the snapshot.
The snapshot is taken after the detach (snapshots of attached volumes are very slow in some clouds).
"""
from __future__ import annotations

import glob
import logging
import math
import os
import time
import uuid
from typing import Any

import requests

from cpi import devices
from cpi.methods import lookup
from cpi.methods.cloud import Cloud
from cpi.methods.stemcell_template import Stemcell, delete_template_quietly
from cpi.protocol import CloudError
from cpi.stemcell import StemcellImageError, write_image

log = logging.getLogger("cpi.stemcell")

GiB = 1 << 30
METADATA_PATHS = ("latest/meta-data/vm-id", "latest/meta-data/instance-id", "latest/instance-id")
DEVICE_WAIT = 60.0


def own_vm(cloud: Cloud) -> dict[str, Any] | None:
    """The VM this CPI runs on, from the metadata service (None when there is none, or it names no VM of ours)."""
    if hasattr(cloud, "_own_vm"):
        return cloud._own_vm  # type: ignore[attr-defined]
    found = None
    for base in cloud.config.metadata_urls:
        for path in METADATA_PATHS:
            try:
                response = requests.get(f"{base.rstrip('/')}/{path}", timeout=(1.0, 3.0))
            except requests.RequestException as exc:
                log.debug("metadata %s: %s", base, type(exc).__name__)
                break  # this service is not there; try the next
            if response.status_code == 200 and response.text.strip():
                found = cloud.vm(response.text.strip())
                if found:
                    break
        if found:
            break
    cloud._own_vm = found  # type: ignore[attr-defined]
    return found


def _device(cloud: Cloud, vm: dict[str, Any], volume: dict[str, Any]) -> str:
    """Where the attached volume shows up on this machine: by virtio serial on KVM, else by device name."""
    base = cloud.config.stemcell_device_dir or "/dev"
    path = os.path.join(base, os.path.basename(devices.device_path(vm.get("hypervisor"), int(volume["deviceid"]))))
    serial = volume["id"].replace("-", "")[:20]
    deadline = time.monotonic() + DEVICE_WAIT
    while True:
        if base == "/dev":
            by_id = glob.glob(f"/dev/disk/by-id/*{serial}")
            if len(by_id) == 1:
                return os.path.realpath(by_id[0])
        if os.path.exists(path):
            return path
        if time.monotonic() > deadline:
            raise CloudError(f"volume {volume['id']} attached as device id {volume['deviceid']} but {path} did not "
                             f"appear within {DEVICE_WAIT:.0f}s (is the acpiphp module loaded?)")
        time.sleep(0.2)


def create_by_volume_copy(stemcell: Stemcell) -> str:
    cloud = stemcell.cloud
    vm = own_vm(cloud)
    if vm is None:
        raise CloudError("volume copy needs the CPI to run on a CloudStack VM of this account")
    size_mib = math.ceil(stemcell.info.virtual_size / GiB) * 1024
    offering, gib = lookup.disk_offering_for(cloud, size_mib, None)
    name = f"stemcell-{uuid.uuid4().hex[:16]}"
    params: dict[str, Any] = {"name": name, "zoneid": vm["zoneid"], "diskofferingid": offering["id"]}
    if gib is not None:
        params["size"] = gib
    volume = cloud.create("createVolume", "create_volume", "volume",
                          lambda: cloud.client.find_one("listVolumes", name=name, zoneid=vm["zoneid"]), **params)
    snapshot_id = None
    attached = False
    try:
        volume = cloud.run("attachVolume", "attach_volume", id=volume["id"], virtualmachineid=vm["id"])["volume"]
        attached = True
        device = _device(cloud, vm, volume)
        log.info("writing the stemcell image onto %s (volume %s)", device, volume["id"])
        try:
            result = write_image(stemcell.image_path, device, size=stemcell.info.size)
        except StemcellImageError as exc:
            raise CloudError(str(exc)) from None
        log.info("wrote %d bytes (%s data, %s zeroed by %s, decoder %s)", result.image_size, result.data_bytes,
                 result.zeroed_bytes, result.zero_method, result.decoder)
        cloud.run("detachVolume", "detach_volume", id=volume["id"])
        attached = False
        snapshot_name = f"{name}-snap"
        snapshot = cloud.create("createSnapshot", "snapshot_volume", "snapshot",
                                lambda: cloud.client.find_one("listSnapshots", name=snapshot_name, volumeid=volume["id"]),
                                volumeid=volume["id"], name=snapshot_name)
        snapshot_id = snapshot["id"]
        template = cloud.create(
            "createTemplate", "create_template", "template",
            lambda: cloud.client.find_one("listTemplates", templatefilter="self", name=stemcell.name, zoneid=vm["zoneid"]),
            snapshotid=snapshot_id, **stemcell.template_params())
        try:
            stemcell.wait_ready(template["id"], stemcell.zone, "create_template")
        except Exception:
            delete_template_quietly(cloud, template["id"])
            raise
        return template["id"]
    finally:
        _cleanup(cloud, volume["id"], attached, snapshot_id)


def _cleanup(cloud: Cloud, volume_id: str, attached: bool, snapshot_id: str | None) -> None:
    steps = []
    if snapshot_id:
        steps.append(("deleteSnapshot", lambda: cloud.run("deleteSnapshot", "delete_snapshot", id=snapshot_id)))
    if attached:
        steps.append(("detachVolume", lambda: cloud.run("detachVolume", "detach_volume", id=volume_id)))
    steps.append(("deleteVolume", lambda: cloud.client.call("deleteVolume", id=volume_id)))
    for name, step in steps:
        for attempt in (1, 2, 3):
            try:
                step()
                break
            except Exception as exc:  # cleanup goes on; the template (or the original error) matters more
                log.warning("stemcell cleanup %s failed (attempt %d): %s", name, attempt, exc)
                time.sleep(0.2 * attempt)
