"""Simulator-independent pieces: cloud_properties (both vocabularies), device hints, network plans, settings."""
from __future__ import annotations

import base64
import json

import pytest

from cpi import agent_settings, devices
from cpi.config import AgentOptions, parse_config
from cpi.networks import Zone, enrich_networks, match_nics, plan_networks
from cpi.properties import disk_properties, network_properties, vm_properties, vm_resources
from cpi.protocol import CloudError, CpiError

BASIC = Zone("z1", "Sim-Basic", basic=True, security_groups=True)
ADVANCED = Zone("z2", "Sim-Advanced", basic=False, security_groups=False)
ADVANCED_SG = Zone("z3", "Adv-SG", basic=False, security_groups=True)


def test_ruby_and_go_names_mean_the_same() -> None:
    ruby = vm_properties({"instance_type": "Small Instance", "ephemeral_volume": "Small", "key_name": "k",
                          "availability_zone": "Sim-Basic"})
    assert (ruby.compute_offering, ruby.ephemeral_disk_offering, ruby.key_name, ruby.zone) == (
        "Small Instance", "Small", "k", "Sim-Basic")
    assert ruby.wants_ephemeral_disk
    assert not vm_properties({"instance_type": "Small Instance"}).wants_ephemeral_disk
    go = vm_properties({"compute_offering": "Custom", "cpu": 2, "ram": 2048, "disk": 25000,
                        "ephemeral_disk_offering": "Custom", "root_disk_size": 15000, "affinity_group": "ag"})
    assert (go.cpu, go.ram, go.ephemeral_disk_size, go.root_disk_size, go.affinity_groups) == (
        2, 2048, 25000, 15000, ("ag",))
    assert go.wants_ephemeral_disk
    assert vm_properties({"instance_type": "A", "compute_offering": "A"}).compute_offering == "A"


@pytest.mark.parametrize("props, fragment", [
    ({}, "need a compute offering"),
    ({"instance_type": "A", "compute_offering": "B"}, "two different compute offerings"),
    ({"cpu": 2}, "cpu and ram go together"),
    ({"compute_offering": "A", "disk": -1}, "disk must be an integer >= 1"),
    ({"compute_offering": "A", "ram": "lots", "cpu": 1}, "ram must be an integer"),
    ({"compute_offering": "A", "ephemeral_volume": "S", "ephemeral_disk_offering": "M"},
     "two different ephemeral disk offerings"),
    ({"compute_offering": 3}, "must be a string"),
])
def test_bad_vm_properties(props: dict, fragment: str) -> None:
    with pytest.raises(CpiError, match=fragment):
        vm_properties(props)


def test_disk_network_and_resources_properties() -> None:
    assert disk_properties({"disk_offering": "Large"}).disk_offering == "Large"
    assert disk_properties(None).disk_offering is None
    assert network_properties({"network_name": "n1"}, "default").network_name == "n1"
    assert network_properties({"name": "n1", "security_groups": ["a"]}, "d").security_groups == ("a",)
    with pytest.raises(CpiError, match="two different"):
        network_properties({"name": "a", "network_name": "b"}, "default")
    assert vm_resources({"cpu": 2, "ram": 1024, "ephemeral_disk_size": 0}).ram == 1024
    with pytest.raises(CpiError, match="missing 'ram'"):
        vm_resources({"cpu": 2, "ephemeral_disk_size": 0})


@pytest.mark.parametrize("hypervisor, device_id, path", [
    # KVM: the CD-ROM (device id 3) is not a virtio disk, so the guest's vdX skip it: device id 4 is vdd
    ("KVM", 0, "/dev/vda"), ("KVM", 1, "/dev/vdb"), ("KVM", 2, "/dev/vdc"), ("KVM", 4, "/dev/vdd"),
    ("KVM", 5, "/dev/vde"), ("XenServer", 1, "/dev/xvdb"), ("XenServer", 4, "/dev/xvde"),
    ("VMware", 2, "/dev/sdc"), ("VMware", 4, "/dev/sde"), ("Simulator", 1, "/dev/vdb"), ("Simulator", 4, "/dev/vdd"),
])
def test_device_paths(hypervisor: str, device_id: int, path: str) -> None:
    assert devices.device_path(hypervisor, device_id) == path


def test_device_hints() -> None:
    with pytest.raises(CloudError):
        devices.device_path("KVM", 3)  # the CD-ROM
    # the path is all bosh-agent's virtio resolver uses (the disk cid it globs by-id for never matches the serial)
    assert devices.disk_hint("KVM", 2) == {"path": "/dev/vdc", "volume_id": "2"}
    assert devices.disk_hint("XenServer", 2) == {"path": "/dev/xvdc", "volume_id": "2"}
    assert devices.system_disk("XenServer") == "/dev/xvda"


def net(kind: str, ip: str | None = None, default: list | None = None, **cloud: object) -> dict:
    spec: dict = {"type": kind, "cloud_properties": cloud}
    if ip:
        spec["ip"] = ip
    if default is not None:
        spec["default"] = default
    return spec


def test_plan_basic_zone_single_nic_with_security_groups() -> None:
    plan = plan_networks({"default": net("dynamic", security_groups=["web"])}, BASIC, ("default",))
    assert [n.bosh_name for n in plan.nics] == ["default"] and plan.security_groups == ("web",)
    assert plan_networks({"default": net("manual", "10.1.1.5")}, BASIC, ("default",)).security_groups == ("default",)
    with pytest.raises(CloudError, match="Basic zone: a VM gets exactly one NIC"):
        plan_networks({"a": net("dynamic"), "b": net("dynamic")}, BASIC)
    with pytest.raises(CloudError, match="static NAT"):
        plan_networks({"a": net("dynamic"), "v": net("vip", "1.2.3.4")}, BASIC)


def test_plan_advanced_zone_orders_default_gateway_first() -> None:
    plan = plan_networks({
        "backend": net("manual", "10.0.2.5", name="net-b"),
        "frontend": net("dynamic", default=["dns", "gateway"], name="net-a"),
        "public": net("vip", "203.0.113.7"),
    }, ADVANCED)
    assert [n.bosh_name for n in plan.nics] == ["frontend", "backend"]
    assert plan.vip == ("public", "203.0.113.7") and plan.nics[1].ip == "10.0.2.5"
    with pytest.raises(CloudError, match="no security groups"):
        plan_networks({"a": net("dynamic", security_groups=["x"])}, ADVANCED)
    assert plan_networks({"a": net("dynamic", security_groups=["x"])}, ADVANCED_SG).security_groups == ("x",)


def test_default_security_groups_apply_only_where_the_zone_has_them() -> None:
    # cloudstack.default_security_groups set for a Basic zone must not break VMs placed in an Advanced zone
    assert plan_networks({"a": net("dynamic")}, ADVANCED, ("bosh",)).security_groups == ()
    assert plan_networks({"a": net("dynamic")}, ADVANCED_SG, ("bosh",)).security_groups == ("bosh",)


@pytest.mark.parametrize("networks, fragment", [
    ({}, "non-empty"),
    ({"a": net("manual")}, "manual network a needs an ip"),
    ({"a": net("bogus")}, "is not one of manual, dynamic, vip"),
    ({"v": net("vip", "1.2.3.4")}, "at least one manual or dynamic"),
    ({"a": net("dynamic", name="n"), "v": net("vip")}, "needs an ip"),
    ({"a": net("dynamic", name="n"), "b": net("dynamic")}, "need cloud_properties.name"),
    ({"a": net("dynamic", name="n", default=["gateway"]), "b": net("dynamic", name="m", default=["gateway"])},
     "only one network may carry the default gateway"),
    ({"a": net("dynamic", name="n"), "b": net("dynamic", name="n")}, "same CloudStack network n"),
])
def test_bad_network_plans(networks: dict, fragment: str) -> None:
    with pytest.raises((CpiError, CloudError), match=fragment):
        plan_networks(networks, ADVANCED)


def test_nics_are_matched_and_reported() -> None:
    networks = {"a": net("dynamic", default=["gateway"], name="n1"), "b": net("manual", "10.0.2.5", name="n2")}
    plan = plan_networks(networks, ADVANCED)
    vm_nics = [{"networkid": "id2", "macaddress": "02:00:00:00:00:02", "ipaddress": "10.0.2.5"},
               {"networkid": "id1", "macaddress": "02:00:00:00:00:01", "ipaddress": "10.0.1.9",
                "netmask": "255.255.255.0", "gateway": "10.0.1.1"}]
    matched = match_nics(plan, vm_nics, {"a": "id1", "b": "id2"})
    result = enrich_networks(networks, matched)
    assert result["a"]["mac"] == "02:00:00:00:00:01" and result["a"]["ip"] == "10.0.1.9"
    assert result["a"]["gateway"] == "10.0.1.1"
    assert result["b"] == {**networks["b"], "mac": "02:00:00:00:00:02"}
    assert "mac" not in networks["a"]  # the input is not modified


def test_agent_settings_document() -> None:
    networks = {"default": {"type": "manual", "ip": "10.0.0.6", "dns": ["8.8.8.8"], "default": ["dns", "gateway"]}}
    settings = agent_settings.build_settings(
        agent_id="agent-1", vm_name="vm-x", vm_id="uuid-1",
        agent=AgentOptions(mbus="nats://10.0.0.6:4222", ntp=["ntp1"], blobstore={"provider": "dav"}),
        networks=networks, system_disk="/dev/vda", ephemeral_disk={"path": "/dev/vdb"},
        environment={"bosh": {"password": "*"}},
    )
    decoded = json.loads(base64.b64decode(agent_settings.encode_userdata(settings)))
    assert decoded["agent_id"] == "agent-1" and decoded["vm"] == {"name": "vm-x", "id": "uuid-1"}
    assert decoded["disks"] == {"system": "/dev/vda", "ephemeral": {"path": "/dev/vdb"}, "persistent": {},
                                "raw_ephemeral": None}
    assert decoded["server"] == {"name": "vm-x"} and decoded["dns"] == {"nameserver": ["8.8.8.8"]}
    assert decoded["mbus"] == "nats://10.0.0.6:4222" and decoded["blobstore"] == {"provider": "dav"}
    assert decoded["env"] == {"bosh": {"password": "*"}} and "registry" not in decoded
    with pytest.raises(CloudError, match="user-data limit"):
        agent_settings.encode_userdata({**settings, "env": {"x": "y" * agent_settings.MAX_USERDATA}})


def test_config_defaults_and_timeouts() -> None:
    config = parse_config({"cloud": {"properties": {"cloudstack": {
        "endpoint": "https://cs.example/client/api", "api_key": "k", "secret_access_key": "s",
        "default_zone": "z1", "zones": ["z2"], "state_timeout": 30, "timeouts": {"attach_volume": 5}}}}})
    assert config.stemcell_upload == "auto" and config.expunge is True
    assert config.timeout("attach_volume") == 5 and config.timeout("create_vm") == 30
    assert config.timeout("create_template") == 30  # state_timeout_volume defaults to state_timeout
    assert config.template_zones == ("z1", "z2")
    assert "secret_access_key" not in repr(config)
