"""Conformance with real CloudStack answers: Apache libcloud ships JSON captured from real clouds; for every
command both the fixtures and the simulator cover, the simulator's answer must have the same keys (those 4.18
still documents) with values of the same types. Compared programmatically, fixture by fixture."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import libcloud
import pytest
import requests
from cs import CloudStack, CloudStackApiException

import simulator.commands  # noqa: F401  (registers the handlers)
from simulator.registry import COMMANDS
from simulator.spec import load_spec
from simulator.process import RunningSimulator
from tests.conformance.shapes import compare, merge, shape

FIXTURES = Path(libcloud.__file__).parent / "test" / "compute" / "fixtures" / "cloudstack"

# Keys a fixture shows that our scenario legitimately does not produce, and why.
SCENARIO_DEPENDENT = {
    "password": "only for templates with passwordenabled",
    "publicip": "only while static NAT points at the VM",
    "publicipid": "only while static NAT points at the VM",
    "isoid": "only for VMs booted from an ISO", "isoname": "ISO boots", "isodisplaytext": "ISO boots",
    "hostid": "admin-only field", "hostname": "admin-only field", "instancename": "admin-only field",
    "storage": "admin-only field", "storageid": "admin-only field",
    "project": "project resources only", "projectid": "project resources only",
    "group": "only when the VM was put in an instance group",
    "groupid": "only when the VM was put in an instance group",
    "keypair": "only when a keypair was given (older clouds)",
    "vpcid": "VPC networks only", "vpcname": "VPC networks only",
    "networkdomain": "only when the network has a domain",
    "ip6address": "IPv6 only", "ip6cidr": "IPv6 only", "ip6gateway": "IPv6 only",
    "jobid": "set on an object only while a job acts on it (the fixture caught a pending job)",
    "jobstatus": "set on an object only while a job acts on it",
}
# (command, key): keys missing for a reason that holds for that command only.
COMMAND_SPECIFIC = {
    ("createTags", "id"): "CreateTagsCmd is not a create command in 4.x: its start answer is {jobid}",
    ("deleteTags", "id"): "DeleteTagsCmd has no object id: its start answer is {jobid}",
    ("listServiceOfferings", "domainid"): "the fixture's offerings were domain-scoped; the seeded ones are public",
    ("listServiceOfferings", "domain"): "the fixture's offerings were domain-scoped; the seeded ones are public",
    ("listNetworkOfferings", "tags"): "set only on offerings with storage/host tags; the seeded one has none",
    ("queryAsyncJobResult", "jobresult.virtualmachine.affinitygroup[].type"):
        "the fixture is hand-made from a group answer; UserVmJoinDaoImpl gives a VM's groups id, name, description "
        "and account, no type",
}


def fixture_files() -> dict[str, list[Path]]:
    by_command: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(FIXTURES.glob("*.json")):
        by_command[path.name.split("_", 1)[0]].append(path)
    return by_command


class Recorder:
    """Every answer the simulator gives, by command (queryAsyncJobResult by the job result's key)."""

    def __init__(self) -> None:
        self.answers: dict[str, list[Any]] = defaultdict(list)
        recorder = self

        class RecordingSession(requests.Session):
            # cs calls Session.send directly, which skips session-level hooks.
            def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
                response = super().send(request, **kwargs)
                recorder.record(response)
                return response

        self.session = RecordingSession()

    def record(self, response: requests.Response) -> None:
        body = response.request.body or ""
        params = parse_qs(body if isinstance(body, str) else body.decode())
        command = params.get("command", [""])[0]
        data = response.json()
        value = next(iter(data.values()))
        if command == "queryAsyncJobResult" and value.get("jobstatus") == 1:
            result = value.get("jobresult", {})
            command = "queryAsyncJobResult:" + next(iter(result), "")
        elif command == "queryAsyncJobResult" and value.get("jobstatus") == 2:
            command = "queryAsyncJobResult:failed"
        self.answers[command].append(value)


def run_scenario(sim: RunningSimulator, recorder: Recorder) -> None:
    """Drive every command the CPI and the inception tool use, in both zone types."""
    client = CloudStack(endpoint=sim.endpoint, key=sim.api_key, secret=sim.secret_key, method="post",
                        session=recorder.session, poll_interval=0.01, fetch_result=True)

    def zone(name: str) -> dict:
        return client.listZones(name=name)["zone"][0]

    basic, advanced = zone("Sim-Basic"), zone("Sim-Advanced")
    offering = client.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    disk = client.listDiskOfferings(name="Small")["diskoffering"][0]
    client.listOsTypes()
    client.listNetworkOfferings()
    client.listSecurityGroups(securitygroupname="conformance-none")
    sg = client.createSecurityGroup(name="conformance-sg")["securitygroup"]
    client.authorizeSecurityGroupIngress(securitygroupid=sg["id"], protocol="TCP", startport=22, endport=22,
                                         cidrlist="0.0.0.0/0")
    by_group = client.authorizeSecurityGroupIngress(
        securitygroupid=sg["id"], protocol="TCP", startport=9200, endport=9300,
        usersecuritygrouplist=[{"account": "admin", "group": "conformance-sg"}])["securitygroup"]
    group_rule = next(r for r in by_group["ingressrule"] if r.get("securitygroupname"))
    client.listSecurityGroups()
    client.createSSHKeyPair(name="conformance-key")
    client.registerSSHKeyPair(name="conformance-key2", publickey=(FIXTURES / "dummy_rsa.pub").read_text())
    with pytest.raises(CloudStackApiException):
        client.registerSSHKeyPair(name="conformance-bad", publickey="garbage")
    client.listSSHKeyPairs()
    client.listAccounts()
    client.listResourceLimits()

    project = client.createProject(name="conformance-project", displaytext="conformance")["project"]
    client.listProjects()
    client.deleteProject(id=project["id"])

    client.listAffinityGroupTypes()
    affinity = client.createAffinityGroup(name="conformance-ag", type="host anti-affinity")["affinitygroup"]
    client.listAffinityGroups()
    template = client.listTemplates(templatefilter="featured", zoneid=basic["id"])["template"][0]
    with pytest.raises(CloudStackApiException):
        client.deployVirtualMachine(zoneid=basic["id"], templateid=template["id"],
                                    serviceofferingid="00000000-0000-4000-8000-000000000000")
    vm = client.deployVirtualMachine(zoneid=basic["id"], templateid=template["id"], serviceofferingid=offering["id"],
                                     securitygroupids=sg["id"], keypair="conformance-key",
                                     affinitygroupids=affinity["id"], name="conformance-vm")["virtualmachine"]
    client.deployVirtualMachine(zoneid=basic["id"], templateid=template["id"], serviceofferingid=offering["id"],
                                name="conformance-stopped", startvm=False)
    client.listVirtualMachines()
    client.stopVirtualMachine(id=vm["id"])
    client.updateVMAffinityGroup(id=vm["id"], affinitygroupids=affinity["id"])
    client.listAffinityGroups(virtualmachineid=vm["id"])
    client.startVirtualMachine(id=vm["id"])
    client.rebootVirtualMachine(id=vm["id"])
    volume = client.createVolume(name="conformance-vol", zoneid=basic["id"], diskofferingid=disk["id"])["volume"]
    with pytest.raises(CloudStackApiException):  # device id 3 is the CD-ROM's: the attach job fails
        client.attachVolume(id=volume["id"], virtualmachineid=vm["id"], deviceid=3)
    client.attachVolume(id=volume["id"], virtualmachineid=vm["id"])
    client.listVolumes()
    client.detachVolume(id=volume["id"])
    client.deleteVolume(id=volume["id"])
    root = client.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    snapshot = client.createSnapshot(volumeid=root["id"])["snapshot"]
    client.listSnapshots()
    os_type = client.listOsTypes(description="Ubuntu 22.04")["ostype"][0]
    made = client.createTemplate(name="conformance-tpl", displaytext="conformance", snapshotid=snapshot["id"],
                                 ostypeid=os_type["id"])["template"]
    client.deleteSnapshot(id=snapshot["id"])
    client.createTags(resourceids=vm["id"], resourcetype="UserVm", tags=[{"key": "k", "value": "v"}])
    client.listTags()
    client.listVirtualMachines(id=vm["id"])
    client.deleteTags(resourceids=vm["id"], resourcetype="UserVm")
    client.destroyVirtualMachine(id=vm["id"], expunge=True)
    client.deleteAffinityGroup(id=affinity["id"])
    client.deleteTemplate(id=made["id"])

    net_offering = client.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
    network = client.createNetwork(name="conformance-net", displaytext="conformance", zoneid=advanced["id"],
                                   networkofferingid=net_offering["id"])["network"]
    client.listNetworks()
    adv_template = client.listTemplates(templatefilter="featured", zoneid=advanced["id"])["template"][0]
    vm2 = client.deployVirtualMachine(zoneid=advanced["id"], templateid=adv_template["id"],
                                      serviceofferingid=offering["id"], networkids=network["id"],
                                      name="conformance-adv")["virtualmachine"]
    ip = client.associateIpAddress(networkid=network["id"])["ipaddress"]
    client.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=vm2["id"])
    client.listPublicIpAddresses()
    icmp = client.createFirewallRule(ipaddressid=ip["id"], protocol="ICMP", icmptype=-1, icmpcode=-1,
                                     cidrlist="0.0.0.0/0")["firewallrule"]
    client.listFirewallRules()
    client.deleteFirewallRule(id=icmp["id"])
    forward = client.createIpForwardingRule(ipaddressid=ip["id"], protocol="TCP", startport=80,
                                            endport=81)["ipforwardingrule"]
    client.listIpForwardingRules()
    client.deleteIpForwardingRule(id=forward["id"])
    client.disableStaticNat(ipaddressid=ip["id"])
    rule = client.createFirewallRule(ipaddressid=ip["id"], protocol="TCP", startport=22, endport=22,
                                     cidrlist="0.0.0.0/0")["firewallrule"]
    client.listFirewallRules()
    pf = client.createPortForwardingRule(ipaddressid=ip["id"], protocol="TCP", privateport=22, publicport=2222,
                                         virtualmachineid=vm2["id"], openfirewall=False)["portforwardingrule"]
    client.listPortForwardingRules()
    egress = client.createEgressFirewallRule(networkid=network["id"], protocol="TCP", startport=80, endport=80,
                                             cidrlist="0.0.0.0/0")["firewallrule"]
    client.listEgressFirewallRules()
    client.deletePortForwardingRule(id=pf["id"])
    client.deleteFirewallRule(id=rule["id"])
    client.deleteEgressFirewallRule(id=egress["id"])
    client.disassociateIpAddress(id=ip["id"])
    client.destroyVirtualMachine(id=vm2["id"], expunge=True)
    client.deleteNetwork(id=network["id"])
    client.revokeSecurityGroupIngress(id=group_rule["ruleid"])  # a group its own rules allow cannot go
    client.deleteSecurityGroup(id=sg["id"])
    client.deleteSSHKeyPair(name="conformance-key")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Any]]:
    sim = RunningSimulator(tmp_path_factory.mktemp("conformance")).start()
    recorder = Recorder()
    try:
        run_scenario(sim, recorder)
    finally:
        sim.stop()
    return recorder.answers


def our_shape(answers: list[Any], errors: bool) -> Any:
    merged = None
    for answer in answers:
        if ("errorcode" in answer) == errors:
            merged = merge(merged, shape(answer))
    return merged


def response_fields(command: str) -> dict[str, Any]:
    return load_spec().raw[command]["response_fields"]


def job_result_fields(result_key: str) -> dict[str, Any]:
    """The fields of the object a job result carries: those of the command producing that object."""
    return response_fields(JOB_RESULT_PRODUCERS[result_key]) if result_key != "success" else {}


# Job results by the object they carry, and the simulator's command producing each.
JOB_RESULT_PRODUCERS = {"virtualmachine": "deployVirtualMachine", "volume": "createVolume",
                        "snapshot": "createSnapshot", "template": "createTemplate", "ipaddress": "associateIpAddress",
                        "firewallrule": "createFirewallRule", "portforwardingrule": "createPortForwardingRule",
                        "securitygroup": "authorizeSecurityGroupIngress", "affinitygroup": "createAffinityGroup",
                        "ipforwardingrule": "createIpForwardingRule", "project": "createProject",
                        "success": "deleteTags"}


def comparable_fixtures() -> list[tuple[str, Path]]:
    """Fixtures of commands the simulator implements; job results only for objects its commands produce
    (not the VPC and VPN jobs libcloud also has)."""
    cases = []
    for command, paths in fixture_files().items():
        if command.lower() not in COMMANDS:
            continue
        for path in paths:
            if command == "queryAsyncJobResult":
                result = json.loads(path.read_text())["queryasyncjobresultresponse"].get("jobresult") or {}
                key = next(iter(result), None)
                if key is not None and JOB_RESULT_PRODUCERS.get(key, "").lower() not in COMMANDS:
                    continue
            cases.append((command, path))
    return cases


def test_the_scenario_covers_what_the_cpi_and_inception_need(recorded):
    needed = {"listZones", "listServiceOfferings", "listDiskOfferings", "listOsTypes", "listTemplates",
              "deployVirtualMachine", "listVirtualMachines", "destroyVirtualMachine", "startVirtualMachine",
              "stopVirtualMachine", "rebootVirtualMachine", "createVolume", "attachVolume", "detachVolume",
              "deleteVolume", "listVolumes", "createSnapshot", "deleteSnapshot", "listSnapshots", "createTemplate",
              "createTags", "deleteTags", "createSecurityGroup", "deleteSecurityGroup", "listSecurityGroups",
              "authorizeSecurityGroupIngress", "createSSHKeyPair", "registerSSHKeyPair", "deleteSSHKeyPair",
              "listSSHKeyPairs", "createNetwork", "deleteNetwork", "listNetworks", "listNetworkOfferings",
              "associateIpAddress", "disassociateIpAddress", "listPublicIpAddresses", "createFirewallRule",
              "deleteFirewallRule", "listFirewallRules", "createEgressFirewallRule", "deleteEgressFirewallRule",
              "listEgressFirewallRules", "createPortForwardingRule", "deletePortForwardingRule",
              "listPortForwardingRules", "createAffinityGroup", "listAffinityGroups", "deleteAffinityGroup",
              "listAffinityGroupTypes", "updateVMAffinityGroup", "listIpForwardingRules", "listProjects"}
    assert needed <= set(recorded), sorted(needed - set(recorded))


@pytest.mark.parametrize("command,path", comparable_fixtures(), ids=lambda v: v.name if isinstance(v, Path) else v)
def test_answer_matches_the_real_fixture(recorded, command, path):
    fixture = next(iter(json.loads(path.read_text()).values()))
    if command == "queryAsyncJobResult" and fixture.get("jobstatus") == 2:
        answers = recorded.get("queryAsyncJobResult:failed")
        assert answers, "the scenario recorded no failed job"
        ours = our_shape(answers, errors=False)
        fields = load_spec().raw["queryAsyncJobResult"]["response_fields"]
        problems = compare(shape(fixture), ours, fields, "", set())
        assert not problems, "\n".join(problems)
        assert all(a["jobresultcode"] != 0 and {"errorcode", "errortext"} <= set(a["jobresult"]) for a in answers)
        return
    if command == "queryAsyncJobResult":
        key = next(iter(fixture["jobresult"]))
        answers = recorded.get(f"queryAsyncJobResult:{key}")
        assert answers, f"the scenario recorded no finished job carrying {key}"
        fields = {"jobresult": {"fields": {key: {"fields": job_result_fields(key)}}}}
        fields |= {k: v for k, v in load_spec().raw["queryAsyncJobResult"]["response_fields"].items()
                   if k != "jobresult"}
    else:
        answers = recorded.get(command)
        assert answers, f"the scenario never called {command}"
        fields = response_fields(command)
    errors = "errorcode" in fixture
    ours = our_shape(answers, errors)
    assert ours is not None, f"the scenario recorded no {'error' if errors else 'success'} answer for {command}"
    fixture_shape = shape(fixture)
    if not errors:
        list_key = next((k for k, v in fixture_shape.items() if isinstance(v, tuple)), None)
        if list_key is not None and "count" in fixture_shape or isinstance(fixture_shape.get(list_key), tuple):
            fields = {list_key: {"fields": fields}, "count": {}}
        elif len(fixture_shape) == 1 and isinstance(next(iter(fixture_shape.values())), dict) \
                and command != "queryAsyncJobResult":
            fields = {next(iter(fixture_shape)): {"fields": fields}}
        else:
            fields = {**fields, "jobid": {}, "id": {}, "success": {}}
    else:
        fields = {"uuidList": {}, "errorcode": {}, "errortext": {}, "cserrorcode": {}}
    allowed = set(SCENARIO_DEPENDENT) | {key for (cmd, key) in COMMAND_SPECIFIC if cmd == command}
    problems = compare(fixture_shape, ours, fields, "", allowed)
    assert not problems, "\n".join(problems)
