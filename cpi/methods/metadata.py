"""set_vm_metadata and set_disk_metadata: CloudStack tags; the VM's display name follows BOSH's `name`."""
from __future__ import annotations

from typing import Any

from cpi.methods.cloud import Cloud
from cpi.methods.tags import MAX_TAG_LENGTH, set_tags
from cpi.protocol import DiskNotFound, VMNotFound


def set_vm_metadata(cloud: Cloud, vm_cid: str, metadata: dict[str, Any]) -> None:
    vm = cloud.vm(vm_cid)
    if vm is None:
        raise VMNotFound(f"VM {vm_cid} not found")
    set_tags(cloud, "UserVm", vm_cid, metadata)
    name = metadata.get("name")
    if isinstance(name, str) and name and vm.get("displayname") != name[:MAX_TAG_LENGTH]:
        cloud.client.call("updateVirtualMachine", id=vm_cid, displayname=name[:MAX_TAG_LENGTH])


def set_disk_metadata(cloud: Cloud, disk_cid: str, metadata: dict[str, Any]) -> None:
    if cloud.volume(disk_cid) is None:
        raise DiskNotFound(f"disk {disk_cid} not found")
    set_tags(cloud, "Volume", disk_cid, metadata)
