"""Apache Libcloud's CloudStack driver, a real client, against the simulator: `list_nodes` calls
listVirtualMachines, listPublicIpAddresses, listPortForwardingRules and listIpForwardingRules on every call, and its
IP forwarding and project calls read the 4.18 answers' fields (`ipforwardingrule`, `startport`, `endport`, ...)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from libcloud.compute.drivers.cloudstack import CloudStackNodeDriver

from simulator.process import RunningSimulator


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSimulator]:
    sim = RunningSimulator(tmp_path_factory.mktemp("libcloud")).start()
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def driver(running: RunningSimulator) -> CloudStackNodeDriver:
    return CloudStackNodeDriver(running.api_key, running.secret_key, secure=False, url=running.endpoint)


def test_list_nodes_shows_ip_forwarding_rules(running: RunningSimulator, driver: CloudStackNodeDriver):
    api = running.cs(fetch_result=True)
    zone = api.listZones(name="Sim-Advanced")["zone"][0]
    offering = api.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
    network = api.createNetwork(name="lc-net", displaytext="lc-net", zoneid=zone["id"],
                                networkofferingid=offering["id"])["network"]
    template = api.listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    small = api.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    # Deployed with cs: libcloud's list_sizes reads `cpunumber` of every offering, which a customised offering
    # (the seeded "Custom", as on a real cloud) does not have.
    vm = api.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=small["id"],
                                  networkids=network["id"], name="lc-node")["virtualmachine"]
    node = next(n for n in driver.list_nodes() if n.id == vm["id"])
    location = next(loc for loc in driver.list_locations() if loc.id == zone["id"])
    address = driver.ex_allocate_public_ip(location=location)
    api.enableStaticNat(ipaddressid=address.id, virtualmachineid=node.id)   # libcloud has no call for it

    rule = driver.ex_create_ip_forwarding_rule(node, address, "TCP", 22, 23)
    nodes = {n.id: n for n in driver.list_nodes()}
    listed = nodes[node.id].extra["ip_forwarding_rules"]
    assert [(r.id, r.protocol, r.start_port, r.end_port, r.address.address) for r in listed] == [
        (rule.id, "TCP", 22, 23, address.address)]
    assert address.address in nodes[node.id].public_ips
    assert [(r.id, r.start_port) for r in driver.ex_list_ip_forwarding_rules(virtualmachine_id=node.id)] == [
        (rule.id, 22)]

    assert driver.ex_delete_ip_forwarding_rule(nodes[node.id], listed[0])
    assert driver.list_nodes()[0].extra["ip_forwarding_rules"] == []


def test_projects(running: RunningSimulator, driver: CloudStackNodeDriver):
    running.cs(fetch_result=True).createProject(name="lc-project", displaytext="Libcloud project")
    projects = driver.ex_list_projects()
    assert [(p.name, p.display_text) for p in projects] == [("lc-project", "Libcloud project")]
    assert projects[0].extra["vmlimit"] == 20     # libcloud turns the 4.18 string limit into a number
