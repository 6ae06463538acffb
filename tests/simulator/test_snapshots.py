"""Snapshots: create (BackedUp), list, delete, and volumes created from them."""
from __future__ import annotations

from .compute import api_error, cloud, unique  # noqa: F401  (fixtures)


def test_snapshot_lifecycle_and_volume_from_snapshot(cloud):
    vm = cloud.deploy()
    root = cloud.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    started = cloud.raw.createSnapshot(volumeid=root["id"])
    assert set(started) == {"id", "jobid"}
    snap = cloud.api.listSnapshots(id=started["id"])["snapshot"][0]
    assert snap["state"] == "BackedUp" and snap["volumeid"] == root["id"] and snap["volumetype"] == "ROOT"
    assert snap["snapshottype"] == "MANUAL" and snap["name"].startswith(f"{vm['instancename']}_{root['name']}_")
    assert started["id"] in {s["id"] for s in cloud.api.listSnapshots(volumeid=root["id"])["snapshot"]}
    vol = cloud.api.createVolume(name=unique("fromsnap"), snapshotid=snap["id"])["volume"]
    assert vol["state"] == "Ready" and vol["size"] == root["size"] and vol["zoneid"] == root["zoneid"]
    assert cloud.resource("volume", vol["id"])["content"] == cloud.resource("snapshot", snap["id"])["sha256"]
    assert cloud.api.deleteSnapshot(id=snap["id"]) == {"success": True}
    assert cloud.api.listSnapshots(id=snap["id"]) == {}


def test_snapshots_need_a_ready_volume(cloud):
    vol = cloud.volume()
    err = api_error(lambda: cloud.api.createSnapshot(volumeid=vol["id"]))
    assert (err["errorcode"], err["errortext"]) == (
        431, f"VolumeId: {vol['id']} is not in Ready state but Allocated. Cannot take snapshot.")


def test_snapshot_names_and_tags(cloud):
    vm = cloud.deploy()
    root = cloud.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    name = unique("snap")
    snap = cloud.api.createSnapshot(volumeid=root["id"], name=name, tags=[{"key": "owner", "value": "me"}])
    listed = cloud.api.listSnapshots(tags=[{"key": "owner", "value": "me"}], name=name)["snapshot"]
    assert [s["id"] for s in listed] == [snap["snapshot"]["id"]]
    assert listed[0]["tags"][0]["key"] == "owner"
