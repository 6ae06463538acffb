"""The CPI in an Advanced zone with security groups (a simulator seeded with such a zone): VMs on the zone's shared
security-group network with the groups BOSH asks for, persistent disks, deletion, nothing left behind."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from simulator.process import RunningSimulator
from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own

ZONE = {"name": "Adv-SG", "networktype": "Advanced", "securitygroupsenabled": True, "hypervisor": "KVM",
        "pod_cidr": "198.18.0.0/24", "guest_cidr": "10.2.0.0/24"}
SMALL = {"compute_offering": "Small Instance"}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("cpi-advsg")
    (tmp / "zones.yml").write_text(yaml.safe_dump({"zones": [ZONE]}))
    sim = RunningSimulator(tmp / "state", {"seed_file": tmp / "zones.yml"}).start()
    cs = sim.cs(fetch_result=True)
    for name in ("bosh", "web"):
        cs.createSecurityGroup(name=name)
    config = write_config(tmp / "cpi.json", sim, default_zone="Adv-SG", default_security_groups=["bosh"],
                          stemcell_upload="upload")
    image, _ = make_image(tmp, seed=41)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    yield {"sim": sim, "config": config, "stemcell": stemcell}
    ok(config, "delete_stemcell", stemcell)
    sim.stop()


def _vm(sim: RunningSimulator, vm_cid: str) -> dict[str, Any]:
    return sim.cs().listVirtualMachines(id=vm_cid)["virtualmachine"][0]


def test_lifecycle_with_a_dynamic_network_and_security_groups(env: dict[str, Any]) -> None:
    sim, config = env["sim"], env["config"]
    before = len(sim.calls())
    networks = {"default": {"type": "dynamic", "default": ["dns", "gateway"],
                            "cloud_properties": {"security_groups": ["web", "bosh"]}}}
    vm_cid, result = ok(config, "create_vm", "agent-sg", env["stemcell"], {**SMALL, "disk": 1024}, networks, [], {})
    vm = _vm(sim, vm_cid)
    [nic] = vm["nic"]
    assert vm["state"] == "Running" and vm["zonename"] == "Adv-SG"
    assert (nic["networkname"], nic["type"]) == ("defaultGuestNetwork", "Shared")
    assert sorted(g["name"] for g in vm["securitygroup"]) == ["bosh", "web"]
    assert result["default"]["ip"] == nic["ipaddress"] and result["default"]["mac"] == nic["macaddress"]
    settings = json.loads(base64.b64decode(
        sim.cs().getVirtualMachineUserData(virtualmachineid=vm_cid)["virtualmachineuserdata"]["userdata"]))
    assert settings["disks"]["ephemeral"]["path"] == "/dev/vdb"

    disk = ok(config, "create_disk", 2048, {}, vm_cid)
    hint = ok(config, "attach_disk", vm_cid, disk)
    assert hint["path"] == "/dev/vdc"
    assert ok(config, "get_disks", vm_cid) == [disk]
    ok(config, "detach_disk", vm_cid, disk)
    assert ok(config, "get_disks", vm_cid) == []
    ok(config, "delete_disk", disk)
    ok(config, "delete_vm", vm_cid)
    assert ok(config, "has_vm", vm_cid) is False
    assert not [v for v in own(sim.resources(), "volume") if v.get("virtualmachineid") == vm_cid or v["id"] == disk]
    assert failed_calls(sim.calls(), before) == [], "every API call the CPI made must be valid"


def test_manual_ip_on_the_named_network_gets_the_default_groups(env: dict[str, Any]) -> None:
    sim, config = env["sim"], env["config"]
    networks = {"default": {"type": "manual", "ip": "198.18.0.150", "netmask": "255.255.255.0",
                            "gateway": "198.18.0.1", "cloud_properties": {"name": "defaultGuestNetwork"}}}
    vm_cid, _ = ok(config, "create_vm", "agent-manual", env["stemcell"], SMALL, networks, [], {})
    vm = _vm(sim, vm_cid)
    assert vm["nic"][0]["ipaddress"] == "198.18.0.150"
    assert [g["name"] for g in vm["securitygroup"]] == ["bosh"]   # cloudstack.default_security_groups
    # the address is taken now: a second VM asking for it fails cleanly
    err = error(config, "create_vm", "agent-dup", env["stemcell"], SMALL, networks, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed"
    ok(config, "delete_vm", vm_cid)
    assert [vm["id"] for vm in own(sim.resources(), "virtualmachine")] == []


def test_unknown_security_group_is_a_cloud_error(env: dict[str, Any]) -> None:
    networks = {"default": {"type": "dynamic", "cloud_properties": {"security_groups": ["nope"]}}}
    err = error(env["config"], "create_vm", "agent", env["stemcell"], SMALL, networks, [], {})
    assert err["type"] == "Bosh::Clouds::CloudError" and "security group 'nope' not found" in err["message"]
