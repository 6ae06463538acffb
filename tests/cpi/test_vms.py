"""VMs through the executable against the simulator: Basic and Advanced zones, ephemeral disks (in the deploy job for
one NIC, a separate volume for several), settings in user-data, several NICs, manual IPs, vip static NAT, persistent
disks and snapshots, failures and cleanup."""
from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own

SMALL = {"compute_offering": "Small Instance"}


@pytest.fixture(scope="module")
def env(sim, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A config for each zone and one stemcell usable in both."""
    tmp = tmp_path_factory.mktemp("cpi-vms")
    basic = write_config(tmp / "basic.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                         stemcell_upload="upload")
    advanced = write_config(tmp / "advanced.json", sim, default_zone="Sim-Advanced", stemcell_upload="upload")
    image, _ = make_image(tmp, seed=21)
    stemcell = ok(basic, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    yield {"basic": basic, "advanced": advanced, "stemcell": stemcell}
    ok(basic, "delete_stemcell", stemcell)


def userdata(sim, vm_cid: str) -> dict[str, Any]:
    data = sim.cs().getVirtualMachineUserData(virtualmachineid=vm_cid)["virtualmachineuserdata"]["userdata"]
    return json.loads(base64.b64decode(data))


def volumes_of(sim, vm_cid: str) -> list[dict[str, Any]]:
    return [v for v in own(sim.resources(), "volume") if v.get("virtualmachineid") == vm_cid]


def dynamic(**cloud_properties: Any) -> dict[str, Any]:
    return {"type": "dynamic", "dns": ["8.8.8.8"], "default": ["dns", "gateway"], "cloud_properties": cloud_properties}


def commands(sim, since: int) -> list[str]:
    return [c["command"] for c in sim.calls()[since:] if c["command"] != "queryAsyncJobResult"]


def test_basic_zone_lifecycle(sim, env: dict[str, Any]) -> None:
    config, before = env["basic"], len(sim.calls())
    agent_id = str(uuid.uuid4())
    vm_cid, networks = ok(config, "create_vm", agent_id, env["stemcell"], {**SMALL, "disk": 2048},
                          {"default": dynamic(security_groups=["default"])}, [], {"bosh": {"group": "g"}})
    vm = sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]
    assert vm["state"] == "Running" and [g["name"] for g in vm["securitygroup"]] == ["default"]
    assert networks["default"]["ip"] == vm["nic"][0]["ipaddress"]
    assert networks["default"]["mac"] == vm["nic"][0]["macaddress"]

    settings = userdata(sim, vm_cid)
    [ephemeral] = [v for v in volumes_of(sim, vm_cid) if v["type"] == "DATADISK"]
    assert settings["agent_id"] == agent_id and settings["vm"]["name"] == vm["name"]
    assert settings["disks"]["system"] == "/dev/vda"
    assert settings["disks"]["ephemeral"] == {"path": "/dev/vdb", "volume_id": "1"}  # made in the deploy job
    assert ephemeral["deviceid"] == 1 and ephemeral["size"] == 5 << 30  # smallest fixed offering >= 2 GiB
    assert settings["env"] == {"bosh": {"group": "g"}} and settings["mbus"].startswith("https://mbus:")
    assert settings["networks"]["default"]["type"] == "dynamic" and settings["server"] == {"name": vm["name"]}

    assert ok(config, "has_vm", vm_cid) is True
    ok(config, "set_vm_metadata", vm_cid, {"director": "d", "deployment": "dep", "name": "web/0", "index": "0"})
    vm = sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]
    assert vm["displayname"] == "web/0" and {"key": "deployment", "value": "dep"} in [
        {"key": t["key"], "value": t["value"]} for t in vm["tags"]]
    ok(config, "reboot_vm", vm_cid)

    disk = ok(config, "create_disk", 1024, {}, vm_cid)
    hint = ok(config, "attach_disk", vm_cid, disk)
    assert hint == {"path": "/dev/vdc", "volume_id": "2"}
    assert ok(config, "attach_disk", vm_cid, disk) == hint  # attached already: same answer
    assert ok(config, "get_disks", vm_cid) == [disk]
    snapshot = ok(config, "snapshot_disk", disk, {"deployment": "dep", "index": 0})
    assert any(s["id"] == snapshot for s in own(sim.resources(), "snapshot"))
    ok(config, "delete_snapshot", snapshot)
    ok(config, "detach_disk", vm_cid, disk)
    since = len(sim.calls())
    ok(config, "detach_disk", vm_cid, disk)  # detached already: success, as in every other CPI; nothing sent
    assert "detachVolume" not in commands(sim, since)
    assert ok(config, "get_disks", vm_cid) == []
    assert ok(config, "attach_disk", vm_cid, disk, api_version=1) is None

    ok(config, "delete_vm", vm_cid)  # with the persistent disk still attached: it survives, detached
    assert ok(config, "has_vm", vm_cid) is False
    assert not [v for v in own(sim.resources(), "volume") if v["id"] == ephemeral["id"]]
    survivor = [v for v in own(sim.resources(), "volume") if v["id"] == disk]
    assert survivor and not survivor[0].get("virtualmachineid")
    ok(config, "delete_vm", vm_cid)  # already gone
    ok(config, "delete_disk", disk)
    assert not [vm for vm in own(sim.resources(), "virtualmachine") if vm["id"] == vm_cid]
    assert failed_calls(sim.calls(), before) == [], "every API call the CPI made must be valid"


def test_v1_create_vm_returns_only_the_cid_and_ruby_names_work(sim, env: dict[str, Any]) -> None:
    vm_cid = ok(env["basic"], "create_vm", "agent", env["stemcell"],
                {"instance_type": "Small Instance", "ephemeral_volume": "Small", "availability_zone": "Sim-Basic"},
                {"default": dynamic()}, None, None, api_version=1)
    assert isinstance(vm_cid, str)
    data = [v for v in volumes_of(sim, vm_cid) if v["type"] == "DATADISK"]
    assert len(data) == 1 and data[0]["deviceid"] == 1  # the disk offering given at deploy time
    assert userdata(sim, vm_cid)["disks"]["ephemeral"] == {"path": "/dev/vdb", "volume_id": "1"}
    assert ok(env["basic"], "get_disks", vm_cid) == []  # the ephemeral disk is no persistent disk
    ok(env["basic"], "delete_vm", vm_cid)
    assert not [v for v in own(sim.resources(), "volume") if v["id"] == data[0]["id"]]  # deleted with its VM


def test_single_nic_vm_gets_its_ephemeral_disk_in_one_deploy_job(sim, env: dict[str, Any]) -> None:
    config, before = env["basic"], len(sim.calls())
    vm_cid, _ = ok(config, "create_vm", "agent", env["stemcell"],
                   {**SMALL, "ephemeral_disk_offering": "Custom", "disk": 3000}, {"d": dynamic()}, [], {})
    made = commands(sim, before)
    assert made.count("deployVirtualMachine") == 1
    assert not {"createVolume", "attachVolume", "startVirtualMachine", "updateVirtualMachine"} & set(made), made
    jobs = [c["command"] for c in sim.calls()[before:] if c.get("jobid") and c["command"] != "queryAsyncJobResult"]
    assert jobs == ["deployVirtualMachine"]  # the only async job of create_vm
    vm = sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]
    [root] = [v for v in volumes_of(sim, vm_cid) if v["type"] == "ROOT"]
    [ephemeral] = [v for v in volumes_of(sim, vm_cid) if v["type"] == "DATADISK"]
    assert vm["state"] == "Running" and ephemeral["deviceid"] == 1
    assert ephemeral["size"] == 3 << 30 and ephemeral["diskofferingname"] == "Custom"  # custom offering + size
    assert ephemeral["name"] == "DATA-" + root["name"][len("ROOT-"):]  # CloudStack's name for the deploy's disk
    assert userdata(sim, vm_cid)["disks"]["ephemeral"] == {"path": "/dev/vdb", "volume_id": "1"}

    disk = ok(config, "create_disk", 1024, {}, vm_cid)
    assert ok(config, "attach_disk", vm_cid, disk)["path"] == "/dev/vdc"
    assert ok(config, "get_disks", vm_cid) == [disk]
    ok(config, "delete_vm", vm_cid)  # the persistent disk survives, detached; the ephemeral one is deleted
    volumes = {v["id"]: v for v in own(sim.resources(), "volume")}
    assert ephemeral["id"] not in volumes and not volumes[disk].get("virtualmachineid")
    ok(config, "delete_disk", disk)
    assert failed_calls(sim.calls(), before) == []


def _network(sim, name: str) -> dict[str, Any]:
    cs = sim.cs()
    zone = next(z for z in cs.listZones()["zone"] if z["name"] == "Sim-Advanced")
    offering = cs.listNetworkOfferings(name="DefaultIsolatedNetworkOfferingWithSourceNatService")["networkoffering"][0]
    return cs.createNetwork(name=name, displaytext=name, zoneid=zone["id"], networkofferingid=offering["id"],
                            gateway="10.9.%d.1" % (abs(hash(name)) % 200), netmask="255.255.255.0")["network"]


def test_advanced_zone_several_nics_manual_ip_and_vip(sim, env: dict[str, Any]) -> None:
    config, before = env["advanced"], len(sim.calls())
    suffix = uuid.uuid4().hex[:6]
    front, back = _network(sim, f"front-{suffix}"), _network(sim, f"back-{suffix}")
    source_nat = sim.cs().associateIpAddress(networkid=front["id"], fetch_result=True)["ipaddress"]
    assert source_nat["issourcenat"]  # the network's first address: no static NAT on it
    err = error(config, "create_vm", "agent", env["stemcell"], SMALL,
                {"front": dynamic(name=front["name"]), "public": {"type": "vip", "ip": source_nat["ipaddress"]}}, [], {})
    assert "source NAT address" in err["message"]
    public = sim.cs().associateIpAddress(networkid=front["id"], fetch_result=True)["ipaddress"]
    manual_ip = back["gateway"].rsplit(".", 1)[0] + ".20"
    networks = {
        "back": {"type": "manual", "ip": manual_ip, "netmask": "255.255.255.0", "gateway": back["gateway"],
                 "cloud_properties": {"name": back["name"]}},
        "front": dynamic(network_name=front["name"]),
        "public": {"type": "vip", "ip": public["ipaddress"], "cloud_properties": {}},
    }
    started = len(sim.calls())
    vm_cid, result = ok(config, "create_vm", "agent-a", env["stemcell"], {**SMALL, "disk": 1024}, networks, [], {})
    made = commands(sim, started)  # several NICs: the MACs go into the user-data before the first boot
    assert [c for c in made if c in ("createVolume", "deployVirtualMachine", "attachVolume", "updateVirtualMachine",
                                     "startVirtualMachine")] == [
        "createVolume", "deployVirtualMachine", "attachVolume", "updateVirtualMachine", "startVirtualMachine"]
    vm = sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]
    nics = {n["networkid"]: n for n in vm["nic"]}
    assert nics[front["id"]]["isdefault"] and not nics[back["id"]]["isdefault"]  # default gateway -> eth0
    assert nics[back["id"]]["ipaddress"] == manual_ip
    assert result["back"]["mac"] == nics[back["id"]]["macaddress"] and result["back"]["ip"] == manual_ip
    assert result["front"]["ip"] == nics[front["id"]]["ipaddress"]
    settings = userdata(sim, vm_cid)
    assert settings["networks"]["front"]["mac"] == nics[front["id"]]["macaddress"]  # MACs reach the agent
    assert settings["networks"]["back"]["mac"] == nics[back["id"]]["macaddress"]
    [ephemeral] = [v for v in volumes_of(sim, vm_cid) if v["type"] == "DATADISK"]
    assert ephemeral["name"] == "ephemeral-" + vm["name"] and ephemeral["deviceid"] == 1
    assert settings["disks"]["ephemeral"] == {"path": "/dev/vdb", "volume_id": "1"}
    assert ok(config, "get_disks", vm_cid) == []
    ip = sim.cs().listPublicIpAddresses(id=public["id"])["publicipaddress"][0]
    assert ip["isstaticnat"] and ip["virtualmachineid"] == vm_cid

    # a second VM taking the same vip (the director recreating a VM): the static NAT moves to it
    vm2, _ = ok(config, "create_vm", "agent-b", env["stemcell"], SMALL,
                {"front": dynamic(name=front["name"]), "public": networks["public"]}, [], {})
    ip = sim.cs().listPublicIpAddresses(id=public["id"])["publicipaddress"][0]
    assert ip["virtualmachineid"] == vm2
    ok(config, "delete_vm", vm_cid)
    assert not [v for v in own(sim.resources(), "volume") if v["id"] == ephemeral["id"]]
    ok(config, "delete_vm", vm2)
    ip = sim.cs().listPublicIpAddresses(id=public["id"])["publicipaddress"][0]
    assert not ip["isstaticnat"]
    assert failed_calls(sim.calls(), before) == []


def test_failure_after_a_one_job_deploy_removes_the_vm_and_its_ephemeral_disk(sim, env: dict[str, Any]) -> None:
    config = env["advanced"]
    suffix = uuid.uuid4().hex[:6]
    home, elsewhere = _network(sim, f"home-{suffix}"), _network(sim, f"away-{suffix}")
    sim.cs().associateIpAddress(networkid=elsewhere["id"], fetch_result=True)  # its source NAT address
    public = sim.cs().associateIpAddress(networkid=elsewhere["id"], fetch_result=True)["ipaddress"]
    volumes_before = {v["id"] for v in own(sim.resources(), "volume")}
    vms_before = {vm["id"] for vm in own(sim.resources(), "virtualmachine")}
    before = len(sim.calls())
    # a vip of a network the VM is not on: CloudStack refuses the static NAT after the VM (and its disk) exist
    err = error(config, "create_vm", "agent", env["stemcell"], {**SMALL, "disk": 1024},
                {"home": dynamic(name=home["name"]), "public": {"type": "vip", "ip": public["ipaddress"]}}, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed" and err["ok_to_retry"] is False, err
    assert "different network" in err["message"]
    made = commands(sim, before)
    assert made.count("deployVirtualMachine") == 1 and "createVolume" not in made
    assert [c["command"] for c in failed_calls(sim.calls(), before)] == ["enableStaticNat"]
    assert {v["id"] for v in own(sim.resources(), "volume")} == volumes_before  # no DATA disk left behind
    assert {vm["id"] for vm in own(sim.resources(), "virtualmachine")} == vms_before


@pytest.mark.parametrize("props, networks, fragment", [
    ({"compute_offering": "Huge"}, {"d": dynamic()}, "compute offering 'Huge' not found in zone Sim-Basic; available: Custom"),
    ({**SMALL, "key_name": "nokey"}, {"d": dynamic()}, "SSH key pair 'nokey' not found"),
    ({**SMALL, "availability_zone": "Mars"}, {"d": dynamic()}, "zone 'Mars' not found"),
    (SMALL, {"d": dynamic(security_groups=["nope"])}, "security group 'nope' not found; available: default"),
    ({**SMALL, "ephemeral_disk_offering": "Gold", "disk": 1024}, {"d": dynamic()}, "disk offering 'Gold' not found"),
])
def test_unknown_names_are_cloud_errors_listing_what_exists(sim, env: dict[str, Any], props: dict, networks: dict,
                                                             fragment: str) -> None:
    err = error(env["basic"], "create_vm", "agent", env["stemcell"], props, networks, [], {})
    assert err["type"] == "Bosh::Clouds::CloudError" and fragment in err["message"], err


def test_unknown_network_in_advanced_zone(sim, env: dict[str, Any]) -> None:
    err = error(env["advanced"], "create_vm", "agent", env["stemcell"], SMALL,
                {"a": dynamic(name="nowhere"), "b": {"type": "dynamic", "cloud_properties": {"name": "neither"}}}, [], {})
    assert "network in zone Sim-Advanced 'nowhere' not found" in err["message"]


def test_failed_deploy_cleans_up_and_is_vm_creation_failed(sim, env: dict[str, Any]) -> None:
    holder, networks = ok(env["basic"], "create_vm", "agent-1", env["stemcell"], SMALL, {"d": dynamic()}, [], {})
    taken_ip = networks["d"]["ip"]
    volumes_before = {v["id"] for v in own(sim.resources(), "volume")}
    vms_before = {vm["id"] for vm in own(sim.resources(), "virtualmachine")}
    # the address is in use: CloudStack refuses the deploy (which would have made the ephemeral disk)
    err = error(env["basic"], "create_vm", "agent-2", env["stemcell"], {**SMALL, "disk": 1024},
                {"d": {"type": "manual", "ip": taken_ip, "cloud_properties": {}}}, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed", err
    assert {v["id"] for v in own(sim.resources(), "volume")} == volumes_before  # the ephemeral volume is gone
    assert {vm["id"] for vm in own(sim.resources(), "virtualmachine")} == vms_before
    ok(env["basic"], "delete_vm", holder)


def test_stemcell_missing_from_the_vms_zone_names_the_fix(sim, env: dict[str, Any], tmp_path: Path) -> None:
    """A VM placed (availability_zone) in a zone the config does not list: the template is not there."""
    only_basic = write_config(tmp_path / "only-basic.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    image, _ = make_image(tmp_path, seed=22)
    stemcell = ok(only_basic, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    err = error(only_basic, "create_vm", "agent", stemcell, {**SMALL, "availability_zone": "Sim-Advanced"},
                {"d": dynamic()}, [], {})
    assert err["type"] == "Bosh::Clouds::CloudError", err
    assert "not in zone Sim-Advanced, only in Sim-Basic" in err["message"] and "cloudstack.zones" in err["message"]
    ok(only_basic, "delete_stemcell", stemcell)


def test_missing_vm_errors(sim, env: dict[str, Any]) -> None:
    missing = str(uuid.uuid4())
    for method, args in (("reboot_vm", [missing]), ("set_vm_metadata", [missing, {}]), ("get_disks", [missing]),
                         ("attach_disk", [missing, missing])):
        assert error(env["basic"], method, *args)["type"] == "Bosh::Clouds::VMNotFound", method
    assert ok(env["basic"], "has_vm", missing) is False
    ok(env["basic"], "delete_vm", missing)
    err = error(env["basic"], "create_vm", "a", missing, SMALL, {"d": dynamic()}, [], {})
    assert "stemcell" in err["message"] and "not found" in err["message"]


def test_calculate_vm_cloud_properties_and_custom_offering(sim, env: dict[str, Any]) -> None:
    props = ok(env["basic"], "calculate_vm_cloud_properties", {"cpu": 2, "ram": 3000, "ephemeral_disk_size": 4096})
    assert props == {"compute_offering": "Medium Instance", "disk": 4096}
    big = ok(env["basic"], "calculate_vm_cloud_properties", {"cpu": 16, "ram": 65536, "ephemeral_disk_size": 0})
    assert big == {"compute_offering": "Custom", "cpu": 16, "ram": 65536}
    vm_cid, _ = ok(env["basic"], "create_vm", "agent", env["stemcell"],
                   {"compute_offering": "Custom", "cpu": 2, "ram": 2048, "root_disk_size": 10240},
                   {"d": dynamic()}, [], {})
    vm = sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]
    assert (vm["cpunumber"], vm["memory"]) == (2, 2048)
    ok(env["basic"], "delete_vm", vm_cid)


def test_bosh_tags_are_on_the_vm_from_create_vm_on(sim, env: dict[str, Any]) -> None:
    """environment.bosh.tags (the deployment's tags) are CloudStack tags of the VM when create_vm answers, before
    the Director's first set_vm_metadata."""
    environment = {"bosh": {"group": "dep-web", "tags": {"team": "payments", "cost-center": 42, "empty": ""}}}
    vm_cid, _ = ok(env["basic"], "create_vm", "agent", env["stemcell"], SMALL, {"d": dynamic()}, [], environment)
    tags = {t["key"]: t["value"] for t in sim.cs().listTags(resourceid=vm_cid, resourcetype="UserVm").get("tag", [])}
    assert tags == {"team": "payments", "cost-center": "42"}
    ok(env["basic"], "delete_vm", vm_cid)


def test_detach_disk_attached_to_another_vm_leaves_it_there(sim, env: dict[str, Any]) -> None:
    config = env["basic"]
    holder, _ = ok(config, "create_vm", "agent-a", env["stemcell"], SMALL, {"d": dynamic()}, [], {})
    other, _ = ok(config, "create_vm", "agent-b", env["stemcell"], SMALL, {"d": dynamic()}, [], {})
    disk = ok(config, "create_disk", 1024, {}, holder)
    ok(config, "attach_disk", holder, disk)
    ok(config, "detach_disk", other, disk)
    assert [v for v in volumes_of(sim, holder) if v["id"] == disk]
    ok(config, "detach_disk", holder, disk)
    for vm_cid in (holder, other):
        ok(config, "delete_vm", vm_cid)
    ok(config, "delete_disk", disk)


def test_disk_migration_hint_names_the_disk_as_the_kvm_guest_does(sim, env: dict[str, Any]) -> None:
    """A VM with an ephemeral disk (device id 1) and its persistent disk (2) gets the new persistent disk of a
    migration at device id 4; the KVM guest, whose CD-ROM is no virtio disk, calls it vdd (not libvirt's vde)."""
    config = env["basic"]
    vm_cid, _ = ok(config, "create_vm", "agent", env["stemcell"], {**SMALL, "disk": 1024}, {"d": dynamic()}, [], {})
    old = ok(config, "create_disk", 1024, {}, vm_cid)
    new = ok(config, "create_disk", 2048, {}, vm_cid)
    assert ok(config, "attach_disk", vm_cid, old) == {"path": "/dev/vdc", "volume_id": "2"}
    assert ok(config, "attach_disk", vm_cid, new) == {"path": "/dev/vdd", "volume_id": "4"}
    for disk in (old, new):
        ok(config, "detach_disk", vm_cid, disk)
        ok(config, "delete_disk", disk)
    ok(config, "delete_vm", vm_cid)
