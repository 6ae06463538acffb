"""Config-file runs of up / plan / status / destroy against a simulator, for a basic and an advanced zone."""
from __future__ import annotations

import json
from collections import Counter

import pytest
import requests
import yaml

from tests.inception.conftest import advanced_config, basic_config


@pytest.fixture(scope="module")
def cloud(request: pytest.FixtureRequest):  # one simulator for the module; each test uses its own env name
    from simulator.process import RunningSimulator

    tmp = request.config._tmp_path_factory.mktemp("inception-sim")  # type: ignore[attr-defined]
    sim = RunningSimulator(tmp).start()
    yield sim
    sim.stop()


def _resource_counts(env) -> Counter:
    return Counter({kind: len(items) for kind, items in env.leftovers().items()})


def test_basic_zone_up_status_destroy(cloud, make_env) -> None:
    env = make_env(cloud, basic_config("bz1"))
    first = env.run("up", "--cloud-only", "--non-interactive")
    assert "created  security group bz1-bosh" in first.stdout
    assert "created  VM bz1-inception" in first.stdout
    groups = [g for g in cloud.resources()["securitygroup"] if g["name"] == "bz1-bosh"]
    assert len(groups) == 1
    rules = {(r["protocol"], r["startport"], r.get("cidr") or r.get("securitygroupname")) for r in groups[0]["ingressrule"]}
    for port in (22, 6868, 25555, 4222, 25250, 25777):
        assert ("tcp", port, "0.0.0.0/0") in rules
    assert ("tcp", 1, "bz1-bosh") in rules and ("udp", 1, "bz1-bosh") in rules
    vm = next(v for v in cloud.resources()["virtualmachine"] if v["name"] == "bz1-inception")
    assert vm["state"] == "Running" and {g["name"] for g in vm["securitygroup"]} == {"bz1-bosh"}
    assert vm["keypairs"] == "bz1-bosh"
    # its cloud-init user-data, as the VM reads it from the metadata service: what create-env needs, volume
    # hot-plug for the CPI's volume copy, and the host key generated here (its public half pinned in the state)
    user_data = yaml.safe_load(requests.get(cloud.url(f"/_sim/metadata/{vm['id']}/latest/user-data"), timeout=10).text)
    assert {"python3", "ruby", "curl"} <= set(user_data["packages"])
    assert ["modprobe", "acpiphp"] in user_data["runcmd"]
    pinned = json.loads((env.state_dir / "state.json").read_text())["outputs"]["inception_host_key"]
    host_private = (env.state_dir / "secrets" / "inception-vm-host-key").read_text()
    assert user_data["ssh_keys"]["ed25519_public"].split()[:2] == pinned.split()[:2]
    assert user_data["ssh_keys"]["ed25519_private"] == host_private
    assert user_data["ssh_deletekeys"] is True
    assert set(env.tagged()) == {"SecurityGroup", "UserVm"}

    before = _resource_counts(env)
    again = env.run("up", "--cloud-only", "--non-interactive")
    assert "created" not in again.stdout and again.stdout.count("reused") == 11
    assert _resource_counts(env) == before

    status = env.run("status")
    assert "Running" in status.stdout and "bz1-inception" in status.stdout

    assert {p.name for p in (env.state_dir / "secrets").iterdir()} == {"inception-vm-host-key", "keypair-bz1-bosh.pem"}
    gone = env.run("destroy", "--yes")
    assert env.leftovers() == {}
    saved = json.loads((env.state_dir / "state.json").read_text())
    assert saved["resources"] == [] and saved["outputs"] == {}
    # the private keys of the deleted keypair and VM are dead: not left lying around
    assert list((env.state_dir / "secrets").iterdir()) == []
    assert "inception-vm-host-key, keypair-bz1-bosh.pem" in " ".join(gone.stdout.split())


def test_advanced_zone_up_and_destroy(cloud, make_env) -> None:
    env = make_env(cloud, advanced_config("az1", allowed_cidrs=["198.51.100.0/24"]))
    out = env.run("up", "--cloud-only", "--non-interactive").stdout
    for label in ("network az1-net", "public IP inception VM", "static NAT inception VM",
                  "firewall rule TCP 22-22 from 198.51.100.0/24", "egress rule TCP to 0.0.0.0/0", "VM az1-inception"):
        assert f"created  {label}" in out
    resources = cloud.resources()
    network = next(n for n in resources["network"] if n["name"] == "az1-net")
    assert network["cidr"] == "10.7.0.0/24"
    vm = next(v for v in resources["virtualmachine"] if v["name"] == "az1-inception")
    ip = next(i for i in resources["publicipaddress"] if i.get("virtualmachineid") == vm["id"])
    assert ip["isstaticnat"] and not ip["issourcenat"]
    state = json.loads((env.state_dir / "state.json").read_text())
    assert state["outputs"]["inception_address"] == ip["ipaddress"]
    assert {"Network", "PublicIpAddress", "UserVm"} <= set(env.tagged())

    env.run("destroy", "--yes")
    assert env.leftovers() == {}
    assert not [i for i in cloud.resources()["publicipaddress"] if i.get("associatednetworkid") == network["id"]]


def test_advanced_zone_sequential_deploys_before_acquiring_the_ip(cloud, make_env) -> None:
    """Concurrently the public IP waits for the network's source NAT address (its VM deploy's doing); one step
    at a time, the VM comes first, so nothing waits and the IP is still not the source NAT one."""
    env = make_env(cloud, advanced_config("az3"))
    out = env.run("up", "--cloud-only", "--non-interactive", "--sequential", timeout=60).stdout
    assert out.index("created  VM az3-inception") < out.index("created  public IP inception VM")
    network = next(n for n in cloud.resources()["network"] if n["name"] == "az3-net")
    ips = [i for i in cloud.resources()["publicipaddress"] if i.get("associatednetworkid") == network["id"]]
    assert sorted((i["issourcenat"], i["isstaticnat"]) for i in ips) == [(False, True), (True, False)]
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_plan_is_read_only_and_shows_changes(cloud, make_env) -> None:
    env = make_env(cloud, advanced_config("az2"))
    calls_before = len(cloud.calls())
    plan = json.loads(env.run("plan", "--cloud-only", "--json").stdout)
    made = [c for c in cloud.calls()[calls_before:] if not c["command"].startswith(("list", "query"))]
    assert made == []
    assert {r["action"] for r in plan["resources"]} == {"create"}
    assert plan["counts"]["create"] == len(plan["resources"]) == 9

    env.run("up", "--cloud-only", "--non-interactive")
    changed = advanced_config("az2", public_access="port-forwarding")
    env.write(changed)
    actions = {r["label"]: r["action"] for r in json.loads(env.run("plan", "--cloud-only", "--json").stdout)["resources"]}
    assert actions["static NAT inception VM"] == "delete"
    assert actions["port forwarding TCP 22 to the inception VM"] == "create"
    assert actions["VM az2-inception"] == "reuse"
    refused = env.run("up", "--cloud-only", "--non-interactive", check=False)
    assert refused.returncode == 1 and "pass --yes" in refused.stderr + refused.stdout
    env.run("up", "--cloud-only", "--non-interactive", "--yes")
    rules = [r for r in cloud.resources().get("portforwardingrule", []) if r["publicport"] in (22, "22")]
    assert len(rules) == 1

    changed["inception"]["offering"] = "Medium Instance"
    env.write(changed)
    table = env.run("plan", "--cloud-only", check=False)
    assert table.returncode == 1 and "refuse" in table.stdout and "offering changed" in table.stdout
    refused = env.run("up", "--cloud-only", "--non-interactive", "--yes", check=False)
    assert refused.returncode == 1 and "offering changed from 'Small Instance' to 'Medium Instance'" in refused.stderr
    assert refused.stderr == table.stderr    # `plan` refuses exactly as `up` does
    changed["inception"]["offering"] = "Small Instance"
    env.write(changed)
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_no_secret_in_state_or_output(cloud, make_env) -> None:
    env = make_env(cloud, basic_config("bz2"))
    outputs = [env.run("up", "--cloud-only", "--non-interactive"), env.run("plan", "--cloud-only"), env.run("status")]
    shareable = [(env.state_dir / "state.json").read_text()]
    private_keys = [p.read_text() for p in (env.state_dir / "secrets").iterdir()]   # destroy deletes them
    assert len(private_keys) == 2   # the keypair's and the VM's host key
    outputs.append(env.run("destroy", "--yes"))
    shareable.append((env.state_dir / "state.json").read_text())
    for text in [*shareable, *(o.stdout + o.stderr for o in outputs)]:
        assert cloud.secret_key not in text and cloud.api_key not in text
        assert "PRIVATE KEY" not in text
        for key in private_keys:
            assert key.strip().splitlines()[1] not in text


def test_cleanup_leftovers_without_state(cloud, make_env) -> None:
    env = make_env(cloud, basic_config("bz3"))
    env.run("up", "--cloud-only", "--non-interactive")
    (env.state_dir / "state.json").unlink()
    listed = env.run("cleanup-leftovers", "--dry-run").stdout
    assert "bz3-inception" in listed and "bz3-bosh" in listed
    env.run("cleanup-leftovers", "--yes")
    assert env.leftovers() == {}


def test_foreign_resource_is_refused_not_taken(cloud, make_env) -> None:
    cs = cloud.cs()
    cs.createSecurityGroup(name="bz4-bosh")
    group = cs.listSecurityGroups(securitygroupname="bz4-bosh")["securitygroup"][0]
    cs.createTags(resourceids=group["id"], resourcetype="SecurityGroup",
                  tags=[{"key": "inception-environment", "value": "someone-else"}], fetch_result=True)
    env = make_env(cloud, basic_config("bz4"))
    result = env.run("up", "--cloud-only", "--non-interactive", check=False)
    assert result.returncode == 1
    assert "belongs to environment 'someone-else'" in result.stderr
    assert env.leftovers().keys() <= {"securitygroup"}   # nothing created before refusing


def test_two_environments_on_one_network_each_get_their_own_public_ip(cloud, make_env) -> None:
    """Two environments use one isolated network the operator made (an existing network is used, never taken
    over): each finds its own public IP by its tags (CloudStack ORs tag filters), never the other's."""
    cs = cloud.cs()
    zone = cs.listZones(name="Sim-Advanced")["zone"][0]
    offering = next(o for o in cs.listNetworkOfferings(guestiptype="Isolated", state="Enabled")["networkoffering"]
                    if any(s["name"] == "SourceNat" for s in o["service"]))
    cs.createNetwork(name="shared-net", displaytext="shared-net", zoneid=zone["id"], networkofferingid=offering["id"],
                     gateway="10.7.0.1", netmask="255.255.255.0")
    envs = []
    for name, subdir in (("sh1", "first"), ("sh2", "second")):
        config = advanced_config(name)
        config["networks"][0]["cloudstack_network"] = "shared-net"
        envs.append(make_env(cloud, config, subdir))
        out = " ".join(envs[-1].run("up", "--cloud-only", "--non-interactive").stdout.split())
        assert "created public IP" in out and "network shared-net" in out, out
    ips = {tag["value"]: tag["resourceid"] for tag in cloud.resources()["tag"]
           if tag["resourcetype"] == "PublicIpAddress" and tag["key"] == "inception-environment"}
    assert set(ips) == {"sh1", "sh2"} and ips["sh1"] != ips["sh2"]
    for env in envs:   # each finds its own again
        assert "created" not in env.run("up", "--cloud-only", "--non-interactive").stdout
    for env in reversed(envs):
        env.run("destroy", "--yes")
        assert env.leftovers() == {}
