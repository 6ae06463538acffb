"""Real block devices for the simulator's *host VM*: the VM the calling code (a CPI, a BOSH agent) runs on.

One VM at a time may be marked as the host VM (`POST /_sim/host-vm` with `{"id": "<vm uuid>"}`; `{"id": null}`
unmarks; `GET /_sim/host-vm` tells which). With `--host-vm-device-dir DIR`, every DATA volume attached to that
VM is a sparse file `DIR/<device>` of the volume's size, named as the guest would see it: XenServer
`xvd<letter>` and VMware `sd<letter>` with the letter 'a' + deviceid (3 is the CD-ROM slot); KVM `vd<letter>` in the
guest kernel's order, where the CD-ROM is no virtio disk: deviceid 1 -> vdb, 2 -> vdc, 4 -> vdd, 5 -> vde. Writes to the file are the volume's data: on detach the content (bytes up to the
last non-zero one) goes into the blob store and the file is removed; snapshots and templates made while it is
attached read the file. The host VM's ROOT disk is the host's own disk and gets no file.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .blobs import blobs_of
from .registry import HttpRequest, HttpResponse, route

if TYPE_CHECKING:
    from .context import SimContext

PREFIXES = {"KVM": "vd", "XenServer": "xvd", "VMware": "sd"}
GB = 1024 ** 3


def device_name(hypervisor: str, deviceid: int) -> str:
    prefix = PREFIXES.get(hypervisor, "vd")
    index = deviceid - 1 if prefix == "vd" and deviceid > 3 else deviceid
    return prefix + chr(ord("a") + index)


def host_vm(sim: "SimContext") -> dict[str, Any] | None:
    for vm in sim.store.find("virtualmachine", _host_vm=True):
        if not vm.get("_removed"):
            return vm
    return None


def device_path(sim: "SimContext", volume: dict[str, Any]) -> Path | None:
    """Where an attached volume's bytes live as a device file, or None when they live in the blob store."""
    root = sim.options.host_vm_device_dir
    vm_id = volume.get("virtualmachineid")
    if root is None or vm_id is None or not volume.get("deviceid"):
        return None
    vm = sim.store.get("virtualmachine", vm_id)
    if vm is None or not vm.get("_host_vm"):
        return None
    return Path(root) / device_name(vm.get("hypervisor", "KVM"), int(volume["deviceid"]))


def plug(sim: "SimContext", volume: dict[str, Any]) -> None:
    """After an attach: make the device file when the volume went to the host VM."""
    path = device_path(sim, volume)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        blobs_of(sim).write_into(volume.get("_content"), path, int(volume["size"]))


def unplug(sim: "SimContext", volume: dict[str, Any]) -> None:
    """Before a detach: keep the device file's content and remove the file."""
    path = device_path(sim, volume)
    if path is not None and path.exists():
        volume["_content"] = blobs_of(sim).put_content_of(path)[0]
        path.unlink()


def content_of(sim: "SimContext", volume: dict[str, Any]) -> tuple[str, int]:
    """(sha256, byte count) of a volume's current content, reading its device file when it has one."""
    path = device_path(sim, volume)
    blobs = blobs_of(sim)
    if path is not None and path.exists():
        return blobs.put_content_of(path)
    sha = volume.get("_content") or blobs.put_bytes(b"")
    return sha, blobs.size(sha)


def resized(sim: "SimContext", volume: dict[str, Any]) -> None:
    """A resize of an attached host-VM volume changes its device file's length (shrinking cuts the data)."""
    path = device_path(sim, volume)
    if path is not None and path.exists():
        with open(path, "r+b") as fh:
            fh.truncate(int(volume["size"]))


def set_host_vm(sim: "SimContext", vm_id: str | None) -> None:
    """Mark a VM (or none) as the host VM, moving attached volumes' bytes between blobs and device files."""
    target = sim.store.get("virtualmachine", vm_id) if vm_id is not None else None
    if vm_id is not None and (target is None or target.get("_removed")):
        raise KeyError(vm_id)
    for vm in sim.store.find("virtualmachine", _host_vm=True):
        for volume in _data_volumes(sim, vm["id"]):
            unplug(sim, volume)
        vm.pop("_host_vm", None)
    if target is not None:
        target["_host_vm"] = True
        for volume in _data_volumes(sim, target["id"]):
            plug(sim, volume)


def _data_volumes(sim: "SimContext", vm_id: str) -> list[dict[str, Any]]:
    return [v for v in sim.store.find("volume", virtualmachineid=vm_id) if v.get("deviceid")]


def _json(status: int, value: Any) -> HttpResponse:
    return HttpResponse(status, json.dumps(value).encode())


@route("GET", "/_sim/host-vm")
def get_host_vm(sim: "SimContext", request: HttpRequest) -> HttpResponse:
    with sim.store.lock:
        vm = host_vm(sim)
        root = sim.options.host_vm_device_dir
        return _json(200, {"id": vm["id"] if vm else None, "device_dir": str(root) if root else None})


@route("POST", "/_sim/host-vm")
def post_host_vm(sim: "SimContext", request: HttpRequest) -> HttpResponse:
    try:
        wanted = json.loads(request.body or b"{}").get("id")
    except (ValueError, AttributeError):
        return _json(400, {"error": 'expected a JSON body {"id": "<vm uuid>"} or {"id": null}'})
    with sim.store.lock:
        try:
            set_host_vm(sim, wanted)
        except KeyError:
            return _json(404, {"error": f"no virtual machine with id {wanted}"})
        sim.store.save()
    return get_host_vm(sim, request)
