"""An Advanced zone with security groups, described by a seed file: the zone wizard's shared security-group
network, VMs placed on it with security groups, no isolated networks."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from simulator.process import RunningSimulator

from .compute import Cloud, api_error, unique

ZONES = [
    {"name": "Adv-SG", "networktype": "Advanced", "securitygroupsenabled": True, "hypervisor": "KVM",
     "pod_cidr": "198.18.0.0/24", "guest_cidr": "10.2.0.0/24"},
    # a guest range with room for one VM (its gateway takes the other address)
    {"name": "Adv-SG-Tiny", "networktype": "Advanced", "securitygroupsenabled": True, "pod_cidr": "198.18.9.0/30"},
]


def write_seed(directory: Path) -> Path:
    path = directory / "zones.yml"
    path.write_text(yaml.safe_dump({"zones": ZONES}))
    return path


@pytest.fixture(scope="module")
def sg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    tmp = tmp_path_factory.mktemp("sim-advsg")
    running = RunningSimulator(tmp / "state", {"seed_file": write_seed(tmp)}).start()
    yield Cloud(running)
    running.stop()


def test_the_zone_and_its_security_group_network(sg: Cloud):
    zone = sg.zone("Adv-SG")
    assert (zone["networktype"], zone["securitygroupsenabled"]) == ("Advanced", True)
    [network] = sg.api.listNetworks(zoneid=zone["id"])["network"]
    assert (network["name"], network["type"], network["cidr"]) == ("defaultGuestNetwork", "Shared", "198.18.0.0/24")
    assert "SecurityGroup" in {s["name"] for s in network["service"]}
    assert network["networkofferingname"] == "DefaultSharedNetworkOfferingWithSGService"
    assert [g["name"] for g in sg.api.listSecurityGroups()["securitygroup"]] == ["default"]


def test_vms_go_on_the_shared_network_with_security_groups(sg: Cloud):
    zone = sg.zone("Adv-SG")
    [network] = sg.api.listNetworks(zoneid=zone["id"])["network"]
    plain = sg.deploy("Adv-SG")
    assert [n["networkid"] for n in plain["nic"]] == [network["id"]]
    assert plain["nic"][0]["type"] == "Shared" and plain["nic"][0]["ipaddress"].startswith("198.18.0.")
    assert [g["name"] for g in plain["securitygroup"]] == ["default"]   # the account's default group

    web = sg.api.createSecurityGroup(name=unique("web"))["securitygroup"]
    chosen = sg.deploy("Adv-SG", networkids=network["id"], securitygroupids=web["id"], ipaddress="198.18.0.77")
    assert [g["id"] for g in chosen["securitygroup"]] == [web["id"]]
    assert chosen["nic"][0]["ipaddress"] == "198.18.0.77"
    by_map = sg.deploy("Adv-SG", iptonetworklist=[{"networkid": network["id"], "ip": "198.18.0.78"}],
                       securitygroupnames=web["name"])
    assert by_map["nic"][0]["ipaddress"] == "198.18.0.78"
    taken = api_error(lambda: sg.deploy("Adv-SG", networkids=network["id"], ipaddress="198.18.0.77"))
    assert taken["errorcode"] == 533

    in_use = api_error(lambda: sg.api.deleteSecurityGroup(id=web["id"]))
    assert (in_use["errorcode"], in_use["errortext"]) == (
        536, "Cannot delete group when it's in use by virtual machines")
    for vm in (chosen, by_map):
        sg.api.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert sg.api.deleteSecurityGroup(id=web["id"])["success"] in (True, "true")


def test_no_isolated_networks_in_a_security_group_zone(sg: Cloud):
    offering = sg.api.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
    err = api_error(lambda: sg.api.createNetwork(name=unique("net"), displaytext="x", networkofferingid=offering["id"],
                                                 zoneid=sg.zone("Adv-SG")["id"]))
    assert (err["errorcode"], err["errortext"]) == (
        431, "Only shared guest network can be created in security group enabled zone")


def test_no_security_group_network_with_free_addresses(sg: Cloud):
    tiny = sg.zone("Adv-SG-Tiny")
    first = sg.deploy("Adv-SG-Tiny")
    assert first["nic"][0]["ipaddress"] == "198.18.9.2"
    err = api_error(lambda: sg.deploy("Adv-SG-Tiny"))
    assert (err["errorcode"], err["errortext"]) == (
        431, f"No network with security enabled is found in zone id={tiny['id']}")


def test_a_security_group_zone_needs_its_guest_range(tmp_path: Path):
    seed = tmp_path / "zones.yml"
    seed.write_text(yaml.safe_dump({"zones": [{"name": "No-Range", "networktype": "Advanced",
                                               "securitygroupsenabled": True}]}))
    with pytest.raises(RuntimeError, match="seed zone 'No-Range' uses security groups: give its pod_cidr"):
        RunningSimulator(tmp_path / "state", {"seed_file": seed}).start()
