"""Host-VM block devices: attached volumes are real files named like the guest's devices; bytes are kept."""
from __future__ import annotations

import requests

from .compute import Cloud, sha256

DATA = b"bosh persistent disk\n" * 1000


def test_host_vm_volumes_are_files_whose_writes_are_kept(sim_factory, tmp_path):
    devdir = tmp_path / "dev"
    sim = sim_factory(host_vm_device_dir=devdir)
    cloud = Cloud(sim)
    vm = cloud.deploy()
    assert requests.get(sim.url("/_sim/host-vm"), timeout=5).json() == {"id": None, "device_dir": str(devdir)}
    marked = requests.post(sim.url("/_sim/host-vm"), json={"id": vm["id"]}, timeout=5)
    assert marked.json()["id"] == vm["id"]
    assert requests.get(sim.url("/latest/meta-data/vm-id"), timeout=5).text == vm["id"]

    vols = [cloud.volume(offering="Custom", size=1) for _ in range(3)]
    for vol in vols:
        cloud.api.attachVolume(id=vol["id"], virtualmachineid=vm["id"])
    assert sorted(p.name for p in devdir.iterdir()) == ["vdb", "vdc", "vdd"]  # device ids 1, 2, 4: the KVM guest skips the CD-ROM slot
    vdb = devdir / "vdb"
    assert vdb.stat().st_size == 1024 ** 3 and vdb.stat().st_blocks == 0   # sparse
    with open(vdb, "r+b") as dev:
        dev.write(DATA)

    snap = cloud.api.createSnapshot(volumeid=vols[0]["id"])["snapshot"]
    assert cloud.resource("snapshot", snap["id"])["sha256"] == sha256(DATA)
    tpl = cloud.api.createTemplate(name="from-disk", displaytext="x", ostypeid=cloud.template()["ostypeid"],
                                   snapshotid=snap["id"])["template"]
    assert cloud.resource("template", tpl["id"])["sha256"] == sha256(DATA)

    cloud.api.detachVolume(id=vols[0]["id"])
    assert not vdb.exists()
    assert cloud.resource("volume", vols[0]["id"])["content"] == sha256(DATA)
    cloud.api.attachVolume(id=vols[0]["id"], virtualmachineid=vm["id"])
    assert vdb.read_bytes()[:len(DATA)] == DATA

    other = cloud.deploy()
    copy = cloud.api.createVolume(name="copy", snapshotid=snap["id"], virtualmachineid=other["id"])["volume"]
    assert copy["virtualmachineid"] == other["id"]          # not the host VM: no device file
    assert sorted(p.name for p in devdir.iterdir()) == ["vdb", "vdc", "vdd"]

    requests.post(sim.url("/_sim/host-vm"), json={"id": None}, timeout=5)   # unmark: bytes go to blobs
    assert list(devdir.iterdir()) == []
    assert cloud.resource("volume", vols[0]["id"])["content"] == sha256(DATA)
    assert requests.post(sim.url("/_sim/host-vm"), json={"id": "nope"}, timeout=5).status_code == 404


def test_resize_and_expunge_of_the_host_vm(sim_factory, tmp_path):
    devdir = tmp_path / "dev"
    sim = sim_factory(host_vm_device_dir=devdir)
    cloud = Cloud(sim)
    vm = cloud.deploy()
    requests.post(sim.url("/_sim/host-vm"), json={"id": vm["id"]}, timeout=5)
    vol = cloud.volume(offering="Custom", size=1)
    cloud.api.attachVolume(id=vol["id"], virtualmachineid=vm["id"])
    cloud.api.resizeVolume(id=vol["id"], size=2)
    assert (devdir / "vdb").stat().st_size == 2 * 1024 ** 3
    (devdir / "vdb").open("r+b").write(b"kept")
    cloud.api.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert list(devdir.iterdir()) == []
    assert cloud.resource("volume", vol["id"])["content"] == sha256(b"kept")
