"""Accounts and resource limits: listAccounts, listResourceLimits, updateResourceLimit, and the refusals CloudStack
4.18 answers when an account would go over a limit (through the real `cs` client over HTTP)."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from cs import CloudStack

from simulator.process import RunningSimulator

from .compute import api_error, unique

USERS = ("vms", "store", "ips", "nets", "plain")
DOMAIN_ID = 1   # ROOT, as CloudStack numbers it in messages


class Tenant:
    """One seeded user account: its client and the admin's, plus the seeded zones and offerings."""

    def __init__(self, sim: RunningSimulator, name: str) -> None:
        self.name = name
        self.api: CloudStack = sim.cs(name, fetch_result=True)
        self.admin: CloudStack = sim.cs(fetch_result=True)
        self.zones = {z["name"]: z for z in self.api.listZones()["zone"]}
        self.offering = self.api.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
        self.disk = self.api.listDiskOfferings(name="Small")["diskoffering"][0]
        self.domain_id = self.api.listAccounts()["account"][0]["domainid"]

    def limit(self, resourcetype: int, top: int) -> dict[str, Any]:
        return self.admin.updateResourceLimit(account=self.name, domainid=self.domain_id,
                                              resourcetype=resourcetype, max=top)["resourcelimit"]

    def me(self) -> dict[str, Any]:
        return self.api.listAccounts()["account"][0]

    def template(self, zone: str) -> str:
        found = self.api.listTemplates(templatefilter="featured", zoneid=self.zones[zone]["id"])["template"]
        return found[0]["id"]

    def deploy(self, zone: str = "Sim-Basic", **params: Any) -> dict[str, Any]:
        return self.api.deployVirtualMachine(zoneid=self.zones[zone]["id"], templateid=self.template(zone),
                                             serviceofferingid=self.offering["id"], name=unique("vm"),
                                             **params)["virtualmachine"]

    def network(self) -> dict[str, Any]:
        offering = self.api.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
        name = unique("net")
        return self.api.createNetwork(name=name, displaytext=name, networkofferingid=offering["id"],
                                      zoneid=self.zones["Sim-Advanced"]["id"])["network"]


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    directory = tmp_path_factory.mktemp("sim-accounts")
    seed = directory / "seed.json"
    seed.write_text(json.dumps({"accounts": [{"name": n} for n in USERS]}))
    running = RunningSimulator(directory / "state", {"seed_file": seed}).start()
    yield running
    running.stop()


def exceeded(name: str, account: str, limit: int, current: int, requested: int) -> str:
    return (f"Maximum amount of resources of Type = '{name}' for Account Name = {account} in Domain Id = {DOMAIN_ID} "
            f"is exceeded: Account Resource Limit = {limit}, Current Account Resource Amount = {current}, "
            f"Requested Resource Amount = {requested}.")


def test_a_user_sees_its_own_account_with_the_default_limits(sim: RunningSimulator) -> None:
    me = Tenant(sim, "plain").api.listAccounts(listall=True)["account"]
    assert [a["name"] for a in me] == ["plain"]         # listall means nothing to a user
    account = me[0]
    assert account["accounttype"] == 0 and account["domain"] == "ROOT" and account["state"] == "enabled"
    assert (account["vmlimit"], account["vmtotal"], account["vmavailable"]) == ("20", 0, "20")
    assert (account["iplimit"], account["iptotal"], account["ipavailable"]) == ("20", 0, "20")
    assert (account["cpulimit"], account["memorylimit"]) == ("40", "40960")
    assert (account["volumelimit"], account["networklimit"], account["snapshotlimit"]) == ("20", "20", "20")
    assert (account["primarystoragelimit"], account["secondarystoragelimit"], account["projectlimit"]) == \
        ("200", "400", "10")
    assert account["user"][0]["username"] == "plain"


def test_the_root_admin_is_unlimited_and_lists_every_account_with_listall(sim: RunningSimulator) -> None:
    admin = sim.cs(fetch_result=True)
    own = admin.listAccounts()["account"]
    assert [a["name"] for a in own] == ["admin"]
    assert own[0]["accounttype"] == 1
    assert {own[0][f] for f in ("vmlimit", "vmavailable", "iplimit", "ipavailable", "networkavailable")} == \
        {"Unlimited"}
    every = {a["name"] for a in admin.listAccounts(listall=True)["account"]}
    assert every == {"admin", *USERS}
    limits = admin.listResourceLimits()["resourcelimit"]
    assert {lim["max"] for lim in limits} == {-1}


def test_list_resource_limits_by_type_number_and_name(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "plain")
    limits = tenant.api.listResourceLimits()["resourcelimit"]
    assert [(lim["resourcetype"], lim["resourcetypename"], lim["max"]) for lim in limits] == [
        ("0", "user_vm", 20), ("1", "public_ip", 20), ("2", "volume", 20), ("3", "snapshot", 20),
        ("4", "template", 20), ("5", "project", 10), ("6", "network", 20), ("7", "vpc", 20), ("8", "cpu", 40),
        ("9", "memory", 40960), ("10", "primary_storage", 200), ("11", "secondary_storage", 400)]
    assert tenant.api.listResourceLimits(resourcetype=1)["resourcelimit"] == [limits[1]]
    assert tenant.api.listResourceLimits(resourcetypename="network")["resourcelimit"] == [limits[6]]


def test_update_resource_limit_is_for_admins_and_checks_its_values(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "plain")
    denied = api_error(lambda: tenant.api.updateResourceLimit(resourcetype=0, max=100))
    assert (denied["errorcode"], denied["errortext"]) == (432, "The given command does not exist or it is not "
                                                               "available for user")
    low = api_error(lambda: tenant.limit(0, -2))
    assert (low["errorcode"], low["errortext"]) == (431, "Please specify either '-1' for an infinite limit, or a "
                                                         "limit that is at least '0'.")
    assert api_error(lambda: tenant.limit(12, 1))["errortext"] == "Please specify valid resource type"
    root = api_error(lambda: tenant.admin.updateResourceLimit(account="admin", domainid=tenant.domain_id,
                                                              resourcetype=0, max=5))
    assert root["errortext"] == "Only -1 limit is supported for Root Admin accounts"
    assert tenant.limit(3, 7) == {"account": "plain", "domainid": tenant.domain_id, "domain": "ROOT",
                                  "resourcetype": "3", "resourcetypename": "snapshot", "max": 7}
    assert tenant.me()["snapshotlimit"] == "7"
    assert tenant.api.listResourceLimits()["resourcelimit"][0]["resourcetypename"] == "snapshot"  # set rows first
    tenant.limit(3, -1)
    assert tenant.me()["snapshotavailable"] == "Unlimited"


def test_deploy_is_refused_over_the_vm_limit_and_the_volume_limit(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "vms")
    tenant.limit(0, 1)
    first = tenant.deploy()
    assert first["account"] == "vms"
    me = tenant.me()
    assert (me["vmtotal"], me["vmavailable"], me["volumetotal"], me["cputotal"], me["memorytotal"]) == \
        (1, "0", 1, 1, 1024)
    err = api_error(lambda: tenant.deploy())
    assert err == {"uuidList": [], "errorcode": 535, "cserrorcode": 9999,
                   "errortext": exceeded("user_vm", "vms", 1, 1, 1)}
    tenant.limit(0, -1)
    tenant.limit(2, 2)      # a VM with a data disk needs two volumes; one (the first VM's ROOT) is held
    disk = api_error(lambda: tenant.deploy(diskofferingid=tenant.disk["id"]))
    assert disk["errortext"] == exceeded("volume", "vms", 2, 1, 2)
    def create_volume() -> dict[str, Any]:
        return tenant.api.createVolume(name=unique("vol"), zoneid=tenant.zones["Sim-Basic"]["id"],
                                       diskofferingid=tenant.disk["id"])
    create_volume()          # the second of two
    volume = api_error(create_volume)
    assert (volume["errorcode"], volume["cserrorcode"]) == (535, 4370)   # ApiServer wraps it with its cause
    assert volume["errortext"] == exceeded("volume", "vms", 2, 2, 1)
    assert len(tenant.api.listVirtualMachines()["virtualmachine"]) == 1   # nothing left behind by the refusals
    tenant.limit(2, -1)
    tenant.api.destroyVirtualMachine(id=first["id"])       # a Destroyed VM no longer counts...
    tenant.limit(0, 1)
    second = tenant.deploy()
    recovered = api_error(lambda: tenant.api.recoverVirtualMachine(id=first["id"]))   # ...until it is recovered
    assert (recovered["errorcode"], recovered["errortext"]) == (535, exceeded("user_vm", "vms", 1, 1, 1))
    assert second["state"] == "Running"


def test_snapshots_and_templates_over_their_limits(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "store")
    tenant.limit(3, 0)
    tenant.limit(4, 0)
    vm = tenant.deploy()
    root = tenant.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    snap = api_error(lambda: tenant.api.createSnapshot(volumeid=root["id"]))
    assert (snap["errorcode"], snap["cserrorcode"], snap["errortext"]) == (535, 4370,
                                                                           exceeded("snapshot", "store", 0, 0, 1))
    os_type = tenant.api.listOsTypes(description="Ubuntu 22.04 (64-bit)")["ostype"][0]
    template = api_error(lambda: tenant.api.registerTemplate(
        name="t", displaytext="t", format="QCOW2", hypervisor="KVM", ostypeid=os_type["id"],
        zoneid=tenant.zones["Sim-Basic"]["id"], url="http://127.0.0.1:9/image.qcow2"))
    assert template["errortext"] == exceeded("template", "store", 0, 0, 1)
    assert "snapshot" not in tenant.api.listSnapshots() and "template" not in tenant.api.listTemplates(
        templatefilter="self")


def test_public_ips_count_the_source_nat_address(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "ips")
    tenant.limit(1, 1)
    network = tenant.network()
    tenant.deploy("Sim-Advanced", networkids=network["id"])    # implements the network: its source NAT address
    assert tenant.me()["iptotal"] == 1
    err = api_error(lambda: tenant.api.associateIpAddress(networkid=network["id"]))
    assert err == {"uuidList": [], "errorcode": 532, "cserrorcode": 4280,
                   "errortext": "Maximum number of public IP addresses for account: ips has been exceeded."}
    tenant.limit(1, 0)
    other = tenant.network()
    nat = api_error(lambda: tenant.deploy("Sim-Advanced", networkids=other["id"]))
    assert nat["errorcode"] == 532          # the new network's source NAT address is over the limit too


def test_create_network_is_refused_over_the_network_limit(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "nets")
    tenant.limit(6, 1)
    tenant.network()
    err = api_error(lambda: tenant.network())
    assert (err["errorcode"], err["cserrorcode"], err["errortext"]) == (535, 4370, exceeded("network", "nets", 1, 1, 1))
    assert tenant.me()["networkavailable"] == "0"


def test_lists_show_the_callers_resources_and_listall_shows_an_admin_everyones(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "plain")
    mine = tenant.deploy()
    theirs = tenant.admin.deployVirtualMachine(zoneid=tenant.zones["Sim-Basic"]["id"],
                                               templateid=tenant.template("Sim-Basic"),
                                               serviceofferingid=tenant.offering["id"])["virtualmachine"]
    assert [vm["id"] for vm in tenant.api.listVirtualMachines()["virtualmachine"]] == [mine["id"]]
    assert mine["id"] not in {vm["id"] for vm in tenant.admin.listVirtualMachines()["virtualmachine"]}
    assert {mine["id"], theirs["id"]} <= {vm["id"] for vm in tenant.admin.listVirtualMachines(listall=True)
                                          ["virtualmachine"]}
    own_default = tenant.api.listSecurityGroups(securitygroupname="default")["securitygroup"]
    assert [g["account"] for g in own_default] == ["plain"]
    assert [g["id"] for g in mine["securitygroup"]] == [own_default[0]["id"]]    # its own default group


def test_allocatedonly_false_lists_the_zones_free_addresses(sim: RunningSimulator) -> None:
    tenant = Tenant(sim, "plain")
    zone = tenant.zones["Sim-Advanced"]["id"]
    assert "publicipaddress" not in tenant.api.listPublicIpAddresses(zoneid=zone, state="Free")
    free = tenant.api.listPublicIpAddresses(zoneid=zone, allocatedonly=False, state="Free")["publicipaddress"]
    first = free[0]
    assert first["state"] == "Free" and "account" not in first and first["forvirtualnetwork"] is True
    again = tenant.api.listPublicIpAddresses(id=first["id"], allocatedonly=False)["publicipaddress"]
    assert again == [first]                                      # a stable id
    network = tenant.network()
    tenant.deploy("Sim-Advanced", networkids=network["id"])
    source_nat = tenant.api.listPublicIpAddresses(associatednetworkid=network["id"])["publicipaddress"][0]
    seen = tenant.api.listPublicIpAddresses(ipaddress=source_nat["ipaddress"], allocatedonly=False)
    assert [ip["state"] for ip in seen["publicipaddress"]] == ["Allocated"]
    # another account's address is neither Free nor the caller's: a user does not see it at all
    other = Tenant(sim, "nets")
    assert "publicipaddress" not in other.api.listPublicIpAddresses(ipaddress=source_nat["ipaddress"],
                                                                   allocatedonly=False)


def test_account_keys_survive_a_restart(sim_factory, tmp_path) -> None:
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"accounts": [{"name": "ops"}]}))
    running = sim_factory(seed_file=seed)
    key = running.keys("ops")
    running.restart()
    assert running.keys("ops") == key
    assert running.cs("ops").listAccounts()["account"][0]["name"] == "ops"
