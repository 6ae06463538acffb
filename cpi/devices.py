"""Guest device names and BOSH disk hints from CloudStack volume device ids.

CloudStack numbers a VM's volumes with `deviceid`: 0 is ROOT, 3 is reserved for the CD-ROM, data disks take the
lowest free of 1, 2, 4, 5, ... (VolumeApiServiceImpl). What the guest calls them:
- XenServer: the VBD's userdevice is the device id and the PV guest names it after it, `/dev/xvd<'a' + deviceid>`
  (xvdd is the CD-ROM slot); the Ruby, Java and Go CPIs on Xen use this.
- KVM: the CD-ROM is an IDE/SATA device, not virtio, and the guest kernel names virtio disks in its own order:
  at boot in PCI order (libvirt defines them by device id), a hot-plugged disk takes the lowest free index
  (virtio_blk's index allocator). Both sides hand out the lowest free number, so the guest's index is the device
  id with the CD-ROM slot left out: deviceid 4 is `/dev/vdd`, not libvirt's target name `vde`. This is what keeps
  a second persistent disk right while the first is still attached (the Director's disk migration: ROOT vda,
  ephemeral vdb, old disk vdc at device id 2, new disk at device id 4 = vdd).
- VMware: `/dev/sd<'a' + deviceid>` (SCSI unit numbers; not checked against a real guest).

How the agent finds a disk: the CloudStack stemcell's agent.json (cloudfoundry/bosh-linux-stemcell-builder
stemcell_builder/stages/bosh_cloudstack_agent_settings/apply.sh) sets `"DevicePathResolutionType": "virtio"`: the
virtio resolver (cloudfoundry/bosh-agent infrastructure/devicepathresolver/virtio_device_path_resolver.go) first
globs /dev/disk/by-id/*<DiskSettings.ID>, where the ID is the disk cid, the volume uuid *with* dashes
(settings/settings.go: a hint's `id` goes to DeviceID, which that resolver does not read; an ephemeral disk has no
ID at all), and CloudStack's KVM virtio serial is the uuid without dashes cut to 20 characters
(LibvirtComputingResource.diskUuidToSerial), so the glob never matches; it then falls back to the mapped
resolver, which waits for the hint's `path`. So the `path` alone decides, and the hints carry no `id`.
"""
from __future__ import annotations

from typing import Any

from cpi.protocol import CloudError

CDROM_DEVICE_ID = 3
EPHEMERAL_DEVICE_ID = 1
MAX_DEVICE_ID = 25

_PREFIX = {"kvm": "/dev/vd", "xenserver": "/dev/xvd", "xen": "/dev/xvd", "vmware": "/dev/sd"}


def _family(hypervisor: str | None) -> str:
    name = (hypervisor or "kvm").strip().lower()
    if name in _PREFIX:
        return name
    if name.startswith("xen"):
        return "xenserver"
    return "kvm"  # KVM, LXC, the Simulator hypervisor: virtio naming


def device_path(hypervisor: str | None, device_id: int) -> str:
    """The guest's name for the disk at CloudStack device id `device_id`."""
    if device_id < 0 or device_id == CDROM_DEVICE_ID:
        raise CloudError(f"CloudStack device id {device_id} cannot be a disk")
    if device_id > MAX_DEVICE_ID:
        raise CloudError(f"too many disks: no device name for CloudStack device id {device_id}")
    family = _family(hypervisor)
    index = device_id - 1 if family == "kvm" and device_id > CDROM_DEVICE_ID else device_id
    return _PREFIX[family] + chr(ord("a") + index)


def system_disk(hypervisor: str | None) -> str:
    return device_path(hypervisor, 0)


def disk_hint(hypervisor: str | None, device_id: int) -> dict[str, Any]:
    """The attach_disk (v2) / settings hint: the guest path (what the agent uses) and the CloudStack device id."""
    return {"path": device_path(hypervisor, device_id), "volume_id": str(device_id)}
