"""Volumes: create rules, CloudStack's device ids and data-disk limit, detach, delete while attached, resize."""
from __future__ import annotations

from .compute import api_error, cloud, unique  # noqa: F401  (fixtures)

GB = 1024 ** 3


def test_create_from_fixed_and_custom_offerings(cloud):
    started = cloud.raw.createVolume(name=unique("v"), zoneid=cloud.zone()["id"],
                                     diskofferingid=cloud.disks["Small"]["id"])
    assert set(started) == {"id", "jobid"}
    vol = cloud.api.listVolumes(id=started["id"])["volume"][0]
    assert (vol["type"], vol["state"], vol["size"]) == ("DATADISK", "Allocated", 5 * GB)
    assert vol["diskofferingname"] == "Small" and vol["zoneid"] == cloud.zone()["id"]
    custom = cloud.volume(offering="Custom", size=3)
    assert custom["size"] == 3 * GB
    errors = [
        (dict(diskofferingid=cloud.disks["Custom"]["id"]), "This disk offering requires a custom size specified"),
        (dict(diskofferingid=cloud.disks["Small"]["id"], size=7), "This disk offering does not allow custom size"),
        (dict(diskofferingid=cloud.disks["Custom"]["id"], size=5000),
         "Volume size: 5000GB is out of allowed range. Max: 1024 Min:1"),
        (dict(), "At least one of disk Offering ID or snapshot ID must be passed whilst creating volume"),
    ]
    for params, text in errors:
        err = api_error(lambda: cloud.api.createVolume(name="v", zoneid=cloud.zone()["id"], **params))
        assert (err["errorcode"], err["errortext"]) == (431, text)


def test_device_ids_skip_the_cdrom_slot_and_are_checked(cloud):
    vm = cloud.deploy()
    ids = []
    for _ in range(3):
        attached = cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"])["volume"]
        assert attached["state"] == "Ready" and attached["virtualmachineid"] == vm["id"]
        assert attached["vmstate"] == "Running"
        ids.append(attached["deviceid"])
    assert ids == [1, 2, 4]
    err = api_error(lambda: cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"], deviceid=3))
    assert (err["errorcode"], err["errortext"]) == (530, "deviceId should be 0,1,2,4-7")
    err = api_error(lambda: cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"], deviceid=2))
    assert err["errortext"] == f"deviceId 2 is used by vm {vm['id']}"
    err = api_error(lambda: cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"], deviceid=0))
    assert err["errortext"] == "Root volume detach can happen only when vm is in states: Stopped or Destroyed"
    chosen = cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"], deviceid=6)["volume"]
    assert chosen["deviceid"] == 6


def test_the_data_disk_limit_per_vm(cloud):
    vm = cloud.deploy(diskofferingid=cloud.disks["Small"]["id"])
    for _ in range(5):
        cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"])
    err = api_error(lambda: cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=vm["id"]))
    assert (err["errorcode"], err["errortext"]) == (
        431, "The specified VM already has the maximum number of data disks (6) attached. Please specify another VM.")


def test_attach_rules_for_vm_state_zone_and_attached_volumes(cloud):
    vm = cloud.deploy()
    vol = cloud.volume()
    cloud.api.attachVolume(id=vol["id"], virtualmachineid=vm["id"])
    other = cloud.deploy()
    err = api_error(lambda: cloud.api.attachVolume(id=vol["id"], virtualmachineid=other["id"]))
    assert err["errortext"] == "Please specify a volume that is not attached to any VM."
    far = cloud.volume("Sim-Advanced")
    err = api_error(lambda: cloud.api.attachVolume(id=far["id"], virtualmachineid=vm["id"]))
    assert err["errortext"] == "Please specify a VM that is in the same zone as the volume."
    cloud.api.destroyVirtualMachine(id=other["id"])
    err = api_error(lambda: cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=other["id"]))
    assert err["errortext"] == "Please specify a VM that is either running or stopped."
    stopped = cloud.deploy(startvm=False)
    assert cloud.api.attachVolume(id=cloud.volume()["id"], virtualmachineid=stopped["id"])["volume"]["vmstate"] == \
        "Stopped"


def test_detach_delete_and_root_rules(cloud):
    vm = cloud.deploy()
    vol = cloud.volume()
    cloud.api.attachVolume(id=vol["id"], virtualmachineid=vm["id"])
    err = api_error(lambda: cloud.api.deleteVolume(id=vol["id"]))
    assert (err["errorcode"], err["errortext"]) == (431, "Please specify a volume that is not attached to any VM.")
    detached = cloud.api.detachVolume(id=vol["id"])["volume"]
    assert "virtualmachineid" not in detached and "deviceid" not in detached and detached["state"] == "Ready"
    err = api_error(lambda: cloud.api.detachVolume(id=vol["id"]))
    assert err["errortext"] == "The specified volume is not attached to a VM."
    assert cloud.raw.deleteVolume(id=vol["id"]) == {"success": "true"}
    assert cloud.api.listVolumes(id=vol["id"]) == {}
    second = cloud.volume()
    cloud.api.attachVolume(id=second["id"], virtualmachineid=vm["id"])
    by_slot = cloud.api.detachVolume(virtualmachineid=vm["id"], deviceid=1)["volume"]
    assert by_slot["id"] == second["id"]
    err = api_error(lambda: cloud.api.detachVolume(id=second["id"], deviceid=1))
    assert err["errortext"] == "Please provide either a volume id, or a tuple(device id, instance id)"
    root = cloud.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    err = api_error(lambda: cloud.api.detachVolume(id=root["id"]))
    assert err["errortext"] == "Root volume detach can happen only when vm is in states: Stopped or Destroyed"


def test_resize_grows_custom_volumes_and_shrinks_only_when_asked(cloud):
    vol = cloud.volume(offering="Custom", size=2)
    assert cloud.api.resizeVolume(id=vol["id"], size=4)["volume"]["size"] == 4 * GB
    err = api_error(lambda: cloud.api.resizeVolume(id=vol["id"], size=1))
    assert err["errortext"] == (f"Going from existing size of {4 * GB} to size of {GB} would shrink the volume."
                                "Need to sign off by supplying the shrinkok parameter with value of true.")
    assert cloud.api.resizeVolume(id=vol["id"], size=1, shrinkok=True)["volume"]["size"] == GB
    fixed = cloud.volume()
    err = api_error(lambda: cloud.api.resizeVolume(id=fixed["id"], size=9))
    assert err["errortext"].startswith("To change a volume's size without providing a new disk offering")
    bigger = cloud.api.resizeVolume(id=fixed["id"], diskofferingid=cloud.disks["Medium"]["id"])["volume"]
    assert (bigger["size"], bigger["diskofferingname"]) == (20 * GB, "Medium")


def test_list_filters(cloud):
    vm = cloud.deploy()
    vol = cloud.volume(name=unique("named"))
    cloud.api.attachVolume(id=vol["id"], virtualmachineid=vm["id"])
    mine = cloud.api.listVolumes(virtualmachineid=vm["id"])["volume"]
    assert {v["type"] for v in mine} == {"ROOT", "DATADISK"}
    assert cloud.api.listVolumes(name=vol["name"])["volume"][0]["id"] == vol["id"]
    data = cloud.api.listVolumes(virtualmachineid=vm["id"], type="DATADISK")["volume"]
    assert [v["id"] for v in data] == [vol["id"]] and data[0]["vmname"] == vm["name"]


def test_the_tags_filter_matches_any_of_its_pairs_as_cloudstack_does(cloud):
    # Every list command joins resource_tags with (key0 AND value0) OR (key1 AND value1)...: pairs are OR'ed.
    prefix = unique("tf")
    first, second = cloud.volume(name=f"{prefix}-1"), cloud.volume(name=f"{prefix}-2")
    cloud.api.createTags(resourceids=first["id"], resourcetype="Volume", tags=[{"key": prefix, "value": "a"}])
    cloud.api.createTags(resourceids=second["id"], resourcetype="Volume",
                         tags=[{"key": prefix, "value": "b"}, {"key": f"{prefix}-role", "value": "data"}])
    either = cloud.api.listVolumes(tags=[{"key": prefix, "value": "a"}, {"key": f"{prefix}-role", "value": "data"}])
    assert {v["id"] for v in either["volume"]} == {first["id"], second["id"]}
    one = cloud.api.listVolumes(tags=[{"key": prefix, "value": "b"}])["volume"]
    assert [v["id"] for v in one] == [second["id"]]
    assert cloud.api.listVolumes(tags=[{"key": prefix, "value": "c"}]) == {}
    err = api_error(lambda: cloud.api.listVolumes(**{"tags[0].key": prefix}))
    assert (err["errorcode"], err["errortext"]) == (431, f"No value is passed in for key {prefix}")
