"""Capacity pre-flight against the simulator over HTTP: an account's limits (set by the admin with
updateResourceLimit), Free public addresses, static addresses other VMs hold and room in a network's dynamic part.
`plan` and `up` refuse alike, before anything is created."""
from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cpi.cloudstack.client import CloudStackClient
from inception.cloud.preflight import preflight
from inception.config.loader import validate_config
from simulator.process import RunningSimulator
from simulator.seed import DEFAULT_ZONES
from tests.inception.conftest import Env, advanced_config, basic_config, bootstrappable

ACCOUNTS = ("cap1", "cap2", "cap3", "cap4", "cap5", "cap6", "cap7", "cap8")
TINY = {"name": "Tiny", "networktype": "Advanced", "hypervisor": "KVM", "guest_cidr": "10.5.0.0/24",
        "public_range": {"gateway": "198.51.100.1", "netmask": "255.255.255.0",
                         "start": "198.51.100.10", "end": "198.51.100.10"}}


class AsAccount:
    """The simulator as one of its seeded user accounts sees it (what `Env` runs `inception` with)."""

    def __init__(self, sim: RunningSimulator, account: str) -> None:
        self.sim, self.account = sim, account

    def env(self) -> dict[str, str]:
        return self.sim.env(self.account)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sim, name)


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    directory = tmp_path_factory.mktemp("sim-capacity")
    seed = directory / "seed.json"
    seed.write_text(json.dumps({"zones": [*DEFAULT_ZONES, TINY], "accounts": [{"name": n} for n in ACCOUNTS]}))
    running = RunningSimulator(directory / "state", {"seed_file": seed}).start()
    yield running
    running.stop()


def _limit(cloud: RunningSimulator, account: str, resourcetype: int, top: int) -> None:
    admin = cloud.cs()
    domain = admin.listAccounts(name=account, listall=True)["account"][0]["domainid"]
    admin.updateResourceLimit(account=account, domainid=domain, resourcetype=resourcetype, max=top)


def _mutations(cloud: RunningSimulator, since: int) -> list[str]:
    return [c["command"] for c in cloud.calls()[since:] if not c["command"].startswith(("list", "query"))]


def _owned(cloud: RunningSimulator, account: str) -> list[str]:
    return [f"{kind}:{item.get('name')}" for kind, items in cloud.resources().items() for item in items
            if item.get("account") == account and not item.get("seed")]


def _state_resources(env: Env) -> list[Any]:
    path = env.state_dir / "state.json"
    return json.loads(path.read_text()).get("resources", []) if path.exists() else []


def _client(cloud: RunningSimulator, account: str) -> CloudStackClient:
    return CloudStackClient(cloud.endpoint, *cloud.keys(account))


def test_a_vm_limit_makes_plan_and_up_refuse_before_anything_is_created(cloud, make_env) -> None:
    _limit(cloud, "cap1", 0, 1)     # the inception VM fits; the CPI check's VM does not
    env = make_env(AsAccount(cloud, "cap1"), bootstrappable(basic_config("cap1")))
    before = len(cloud.calls())
    plan = env.run("plan", check=False)
    up = env.run("up", "--non-interactive", "--yes", check=False)
    assert plan.returncode == up.returncode == 1, plan.stdout + plan.stderr
    line = " ".join(plan.stderr.split())
    domain = cloud.cs("cap1").listAccounts()["account"][0]["domainid"]
    assert ("account cap1: VMs: `up` creates 2 (the inception VM, the CPI check's VM), the account may create 1 "
            "more (limit 1, 0 in use) (fix: free 1 of them, or ask the cloud admin to raise the limit: "
            f"updateResourceLimit account=cap1 domainid={domain} resourcetype=0 max=2)") in line
    assert plan.stderr == up.stderr and "nothing was changed" in up.stderr
    assert _mutations(cloud, before) == [] and _owned(cloud, "cap1") == [] and _state_resources(env) == []
    assert env.run("plan", "--cloud-only").returncode == 0     # the CloudStack side alone needs one VM


def test_public_ip_and_network_limits_are_reported_together(cloud, make_env) -> None:
    _limit(cloud, "cap2", 1, 1)     # the inception VM's address and the new network's source NAT need two
    _limit(cloud, "cap2", 6, 0)
    env = make_env(AsAccount(cloud, "cap2"), advanced_config("cap2"))
    before = len(cloud.calls())
    result = env.run("up", "--cloud-only", "--non-interactive", "--yes", check=False)
    assert result.returncode == 1
    text = " ".join(result.stderr.split())
    assert ("account cap2: public IPs: `up` creates 2 (the inception VM's public IP, the source NAT address of "
            "network cap2-net), the account may create 1 more (limit 1, 0 in use)") in text
    assert "resourcetype=1 max=2" in text
    assert ("account cap2: networks: `up` creates 1 (network cap2-net), the account may create 0 more (limit 0, 0 "
            "in use)") in text and "resourcetype=6 max=1" in text
    assert _mutations(cloud, before) == [] and _owned(cloud, "cap2") == [] and _state_resources(env) == []


def test_what_the_environment_already_has_is_not_counted_again(cloud, make_env) -> None:
    _limit(cloud, "cap3", 0, 1)
    _limit(cloud, "cap3", 2, 1)
    env = make_env(AsAccount(cloud, "cap3"), basic_config("cap3"))
    env.run("up", "--cloud-only", "--non-interactive")
    assert cloud.cs("cap3").listAccounts()["account"][0]["vmavailable"] == "0"
    assert env.run("plan", "--cloud-only").returncode == 0     # its VM is in the state: nothing new to create
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_a_director_public_ip_another_account_holds_is_refused(cloud, make_env) -> None:
    admin = cloud.cs(fetch_result=True)
    zone = admin.listZones(name="Sim-Advanced")["zone"][0]
    offering = admin.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
    network = admin.createNetwork(name="admins-net", displaytext="x", zoneid=zone["id"],
                                  networkofferingid=offering["id"])["network"]
    taken = admin.associateIpAddress(networkid=network["id"])["ipaddress"]["ipaddress"]
    config = advanced_config("cap4")
    config["director"]["public_ip"] = taken
    env = make_env(AsAccount(cloud, "cap4"), config)
    before = len(cloud.calls())
    plan = env.run("plan", "--cloud-only", check=False)
    assert plan.returncode == 1
    assert (f"director.public_ip: {taken} is not a Free public address of zone Sim-Advanced: another account or "
            "network holds it") in " ".join(plan.stderr.split())
    assert _mutations(cloud, before) == []
    free = cloud.cs("cap4").listPublicIpAddresses(zoneid=zone["id"], allocatedonly=False,
                                                  state="Free")["publicipaddress"]
    config["director"]["public_ip"] = free[-1]["ipaddress"]
    env.write(config)
    assert env.run("plan", "--cloud-only").returncode == 0


def test_no_free_public_address_in_the_zone(cloud, tmp_path: Path) -> None:
    data = advanced_config("cap5")
    data["cloudstack"]["zone"] = "Tiny"
    problems = preflight(validate_config(data, str(tmp_path / "inception.yml")), _client(cloud, "cap5"),
                         bootstrap=False)
    assert [str(p) for p in problems] == [
        "cloudstack.zone: zone Tiny has 1 Free public address(es); `up` acquires 2 (the inception VM's public IP, "
        "the source NAT address of network cap5-net) (fix: release public IPs that are not used, or ask the cloud "
        "admin for more public addresses)"]


def test_static_addresses_other_vms_hold_and_a_full_dynamic_part(cloud, tmp_path: Path) -> None:
    api = cloud.cs("cap6", fetch_result=True)
    zone = api.listZones(name="Sim-Basic")["zone"][0]
    template = api.listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    offering = api.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    api.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=offering["id"],
                             name="squatter", ipaddress="192.0.2.33")
    data = bootstrappable(basic_config("cap6"))
    client = _client(cloud, "cap6")
    problems = preflight(validate_config(data, str(tmp_path / "inception.yml")), client, remote=False)
    assert [str(p) for p in problems] == [
        "networks[0].static: 192.0.2.33 inside the static range held by VM squatter (fix: take them out of "
        "networks[].static (BOSH gives static addresses to its instances), or free them)"]
    data["networks"][0].update(reserved=["192.0.2.2-192.0.2.200"], static=["192.0.2.201-192.0.2.250"])
    data["director"]["ip"] = "192.0.2.201"
    problems = preflight(validate_config(data, str(tmp_path / "inception.yml")), client, remote=False)
    assert [str(p) for p in problems] == [
        "networks[0]: the dynamic part of 192.0.2.0/24 (not gateway, reserved, static or held) has 4 address(es); "
        "5 go there: 4 compilation workers (cloud-config), the inception VM (CloudStack gives it any free address) "
        "(fix: shrink networks[0].reserved or .static, or free addresses)"]


def test_cpu_and_memory_of_the_vms_up_makes(cloud, tmp_path: Path) -> None:
    _limit(cloud, "cap7", 8, 1)
    _limit(cloud, "cap7", 9, 2047)
    config = validate_config(bootstrappable(basic_config("cap7")), str(tmp_path / "inception.yml"))
    problems = [str(p) for p in preflight(config, _client(cloud, "cap7"), remote=False)]
    assert [p.split(" (fix:")[0] for p in problems] == [
        "account cap7: CPU cores: `up` creates 2 (the inception VM, the CPI check's VM), the account may create 1 "
        "more (limit 1, 0 in use)",
        "account cap7: MB of memory: `up` creates 2048 (1024 for the inception VM, 1024 for the CPI check's VM), "
        "the account may create 2047 more (limit 2047, 0 in use)"]
    assert problems[0].endswith("resourcetype=8 max=2)") and problems[1].endswith("resourcetype=9 max=2048)")


class _RoleWithoutListAccounts(CloudStackClient):
    """A role denied listAccounts: the request goes to the simulator under a name it does not serve, so the
    answer is CloudStack's own 432 for a command the caller may not call (it says the same for both)."""

    def list(self, command: str, **params: Any) -> list[dict[str, Any]]:
        return super().list("listAccountsNotPermitted" if command == "listAccounts" else command, **params)


def test_a_role_denied_list_accounts_skips_the_limits_not_the_pre_flight(cloud, tmp_path: Path) -> None:
    _limit(cloud, "cap8", 0, 0)      # would refuse, could the limits be read
    config = validate_config(bootstrappable(basic_config("cap8")), str(tmp_path / "inception.yml"))
    assert any("account cap8: VMs" in str(p) for p in preflight(config, _client(cloud, "cap8"), remote=False))
    denied = _RoleWithoutListAccounts(cloud.endpoint, *cloud.keys("cap8"))
    assert [str(p) for p in preflight(config, denied, remote=False)] == []


@pytest.mark.parametrize("cidr, addresses, ranges", [
    ("192.0.2.0/24", ["192.0.2.1", "192.0.2.33", None, "2001:db8::1"], ["192.0.2.2-192.0.2.200", "192.0.2.201-192.0.2.250"]),
    ("10.0.0.0/28", ["10.0.0.1", "10.0.0.5"], ["10.0.0.3-10.0.0.8", "10.0.0.4", "10.0.0.0-10.0.0.2", "10.0.0.14-10.0.1.9"]),
    ("10.0.0.0/31", [], ["10.0.0.1"]),
    ("10.0.0.7/32", ["10.0.0.7"], []),
    ("172.16.0.0/22", ["172.16.3.254", "172.16.0.1"], ["172.15.255.0-172.16.0.9", "172.16.1.0-172.16.1.255"]),
])
def test_the_dynamic_part_is_counted_as_a_walk_over_the_hosts_would(cidr, addresses, ranges) -> None:
    """The interval count (fast on a /8) agrees with the definition: hosts that are no given address and in no
    range; overlapping, nested and out-of-cidr ranges, /31 and /32 included."""
    import ipaddress

    from inception.cloud.capacity import _unclaimed
    from inception.config.loader import in_ranges

    network = ipaddress.IPv4Network(cidr)
    walked = sum(1 for host in network.hosts() if str(host) not in addresses and not in_ranges(host, ranges))
    assert _unclaimed(network, addresses, ranges) == walked
