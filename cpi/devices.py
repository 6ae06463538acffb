"""Guest device names and BOSH disk hints from CloudStack volume device ids.

CloudStack numbers a VM's volumes with `deviceid`: 0 is ROOT, 3 is reserved for the CD-ROM, data disks take
1, 2, 4, 5, ... The device is named after the slot, `<prefix><'a' + deviceid>` (deviceid 4 -> vde, vdd unused):
XenServer honours the slot (`/dev/xvdX`, what the Ruby/Java/Go CPIs on Xen use); for KVM (`/dev/vdX`, virtio) the
slot is libvirt's target name (cloudstack-api.md §10) and VMware (`/dev/sdX`) follows the same numbering.
Guests may name hot-plugged disks in order instead, so the KVM hint also carries `id`, the volume uuid without
dashes: CloudStack sets it as the virtio serial and bosh-agent's virtio resolver looks for
`/dev/disk/by-id/*<first 20 chars>` before it falls back to the path.
"""
from __future__ import annotations

from typing import Any

from cpi.protocol import CloudError

CDROM_DEVICE_ID = 3
EPHEMERAL_DEVICE_ID = 1

_PREFIX = {"kvm": "/dev/vd", "xenserver": "/dev/xvd", "xen": "/dev/xvd", "vmware": "/dev/sd"}


def _family(hypervisor: str | None) -> str:
    name = (hypervisor or "kvm").strip().lower()
    if name in _PREFIX:
        return name
    if name.startswith("xen"):
        return "xenserver"
    return "kvm"  # KVM, LXC, the Simulator hypervisor: virtio naming


def device_path(hypervisor: str | None, device_id: int) -> str:
    if device_id < 0 or device_id == CDROM_DEVICE_ID:
        raise CloudError(f"CloudStack device id {device_id} cannot be a disk")
    if device_id >= 26:
        raise CloudError(f"too many disks: no device name for CloudStack device id {device_id}")
    return _PREFIX[_family(hypervisor)] + chr(ord("a") + device_id)


def system_disk(hypervisor: str | None) -> str:
    return device_path(hypervisor, 0)


def disk_hint(hypervisor: str | None, device_id: int, volume_id: str | None = None) -> dict[str, Any]:
    """The attach_disk (v2) / settings hint: path + CloudStack device id, plus the virtio serial on KVM."""
    hint: dict[str, Any] = {"path": device_path(hypervisor, device_id), "volume_id": str(device_id)}
    if volume_id and _family(hypervisor) == "kvm":
        hint["id"] = volume_id.replace("-", "")[:20]
    return hint
