"""Public IP addresses and static NAT."""
from __future__ import annotations

import json

from .compute import api_error
from .netcloud import Net, net  # noqa: F401  (fixture)


def test_associate_answers_id_and_jobid_and_the_first_address_is_source_nat(net: Net):
    network = net.network()
    start = net.raw.associateIpAddress(networkid=network["id"])
    assert set(start) == {"id", "jobid"}
    job = net.raw.queryAsyncJobResult(jobid=start["jobid"])
    first = job["jobresult"]["ipaddress"]
    assert job["jobstatus"] == 1 and first["id"] == start["id"] and first["state"] == "Allocated"
    assert first["issourcenat"] is True and first["associatednetworkid"] == network["id"]
    second = net.ip_on(network)
    assert second["issourcenat"] is False and second["isstaticnat"] is False
    assert second["ipaddress"] != first["ipaddress"] and second["zonename"] == "Sim-Advanced"


def test_associate_needs_a_zone_or_network(net: Net):
    err = api_error(lambda: net.api.associateIpAddress())
    assert (err["errorcode"], err["errortext"]) == (431, "Unable to figure out zone to assign ip to. Please specify "
                                                         "either zoneId, or networkId, or vpcId in the call")
    basic = api_error(lambda: net.api.associateIpAddress(zoneid=net.zone("Sim-Basic")["id"]))
    assert basic["errorcode"] == 431 and basic["errortext"].startswith("Associate IP address can only be called")


def test_exhausted_public_range(sim_factory, tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"zones": [{
        "name": "Tiny", "networktype": "Advanced", "hypervisor": "KVM", "guest_cidr": "10.5.0.0/24",
        "public_range": {"gateway": "198.51.100.1", "netmask": "255.255.255.0",
                         "start": "198.51.100.10", "end": "198.51.100.11"}}]}))
    tiny = Net(sim_factory(seed_file=seed))
    network = tiny.api.createNetwork(name="n", displaytext="n", networkofferingid=tiny.offering_id,
                                     zoneid=tiny.zone("Tiny")["id"])["network"]
    got = [tiny.ip_on(network)["ipaddress"] for _ in range(2)]
    assert sorted(got) == ["198.51.100.10", "198.51.100.11"]
    err = api_error(lambda: tiny.ip_on(network))
    assert (err["errorcode"], err["errortext"]) == (533, "Insufficient address capacity")
    requested = api_error(lambda: tiny.api.associateIpAddress(networkid=network["id"], ipaddress="198.51.100.10"))
    assert requested["errorcode"] == 533


def test_disassociate_rules(net: Net):
    network = net.network()
    net.vm_on(network)                      # implements the network: a source NAT address exists
    snat = net.api.listPublicIpAddresses(associatednetworkid=network["id"], issourcenat=True)["publicipaddress"][0]
    err = api_error(lambda: net.api.disassociateIpAddress(id=snat["id"]))
    assert (err["errorcode"], err["errortext"]) == (
        530, "ip address is used for source nat purposes and can not be disassociated.")
    extra = net.ip_on(network)
    net.api.createFirewallRule(ipaddressid=extra["id"], protocol="tcp", startport=443)
    assert net.api.disassociateIpAddress(id=extra["id"]) == {"success": True}
    assert net.api.listPublicIpAddresses(id=extra["id"]) == {}
    assert net.api.listFirewallRules(ipaddressid=extra["id"]) == {}


def test_list_filters(net: Net):
    network = net.network()
    ip = net.ip_on(network)
    other = net.ip_on(network)
    assert [i["id"] for i in net.api.listPublicIpAddresses(ipaddress=ip["ipaddress"])["publicipaddress"]] == [ip["id"]]
    mine = net.api.listPublicIpAddresses(associatednetworkid=network["id"])["publicipaddress"]
    assert {i["id"] for i in mine} == {ip["id"], other["id"]}
    non_snat = net.api.listPublicIpAddresses(associatednetworkid=network["id"], issourcenat=False)
    assert [i["id"] for i in non_snat["publicipaddress"]] == [other["id"]]
    net.api.createTags(resourceids=other["id"], resourcetype="PublicIpAddress", tags=[{"key": "use", "value": "lb"}])
    tagged = net.api.listPublicIpAddresses(tags=[{"key": "use", "value": "lb"}])["publicipaddress"]
    assert [i["id"] for i in tagged] == [other["id"]]
    assert net.api.listPublicIpAddresses(id=ip["id"], isstaticnat=True) == {}


def test_static_nat_lifecycle(net: Net):
    network = net.network()
    vm, other_vm = net.vm_on(network), net.vm_on(network)
    ip = net.ip_on(network)                 # the network is implemented: this one is not source NAT
    assert net.api.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=vm["id"]) == {"success": "true"}
    listed = net.api.listPublicIpAddresses(id=ip["id"])["publicipaddress"][0]
    assert listed["isstaticnat"] is True and listed["virtualmachineid"] == vm["id"]
    assert listed["virtualmachinename"] == vm["name"] and listed["vmipaddress"] == vm["nic"][0]["ipaddress"]
    shown = net.api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert shown["publicip"] == ip["ipaddress"] and shown["publicipid"] == ip["id"]

    taken = api_error(lambda: net.api.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=other_vm["id"]))
    assert taken["errorcode"] == 537
    assert taken["errortext"].startswith(f"Failed to enable static for the ip address Ip[{ip['ipaddress']}-")
    assert taken["errortext"].endswith("as it's already assigned to antoher vm")
    second = net.ip_on(network)
    twice = api_error(lambda: net.api.enableStaticNat(ipaddressid=second["id"], virtualmachineid=vm["id"]))
    assert twice["errorcode"] == 431 and "is already associated with ip id=" in twice["errortext"]
    snat = net.api.listPublicIpAddresses(associatednetworkid=network["id"], issourcenat=True)["publicipaddress"][0]
    source = api_error(lambda: net.api.enableStaticNat(ipaddressid=snat["id"], virtualmachineid=other_vm["id"]))
    assert source["errorcode"] == 431 and source["errortext"].endswith("is a sourceNat ip address")
    elsewhere = net.vm_on(net.network(gateway="10.40.0.1", netmask="255.255.255.0"))
    foreign = api_error(lambda: net.api.enableStaticNat(ipaddressid=second["id"], virtualmachineid=elsewhere["id"]))
    assert foreign["errortext"] == "Vm doesn't belong to the network with specified id"

    net.api.createFirewallRule(ipaddressid=ip["id"], protocol="tcp", startport=22)
    assert net.api.disableStaticNat(ipaddressid=ip["id"]) == {"success": True}
    cleared = net.api.listPublicIpAddresses(id=ip["id"])["publicipaddress"][0]
    assert cleared["isstaticnat"] is False and "virtualmachineid" not in cleared
    assert net.api.listFirewallRules(ipaddressid=ip["id"]) == {}      # revoked with the static NAT
    assert "publicip" not in net.api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    again = api_error(lambda: net.api.disableStaticNat(ipaddressid=ip["id"]))
    assert (again["errorcode"], again["errortext"]) == (431, "One to one nat is not enabled for the specified ip id")
    # The address can be re-pointed once disabled (what a CPI does to move it).
    assert net.api.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=other_vm["id"]) == {"success": "true"}


def test_expunging_a_vm_releases_static_nat_and_port_forwarding(net: Net):
    network = net.network()
    vm = net.vm_on(network)
    nat_ip, pf_ip = net.ip_on(network), net.ip_on(network)
    net.api.enableStaticNat(ipaddressid=nat_ip["id"], virtualmachineid=vm["id"])
    net.api.createPortForwardingRule(ipaddressid=pf_ip["id"], protocol="tcp", publicport=2222, privateport=22,
                                     virtualmachineid=vm["id"])
    net.api.destroyVirtualMachine(id=vm["id"])                # destroyed, not expunged: nothing released yet
    assert net.api.listPublicIpAddresses(id=nat_ip["id"])["publicipaddress"][0]["isstaticnat"] is True
    net.api.expungeVirtualMachine(id=vm["id"])
    assert net.api.listPublicIpAddresses(id=nat_ip["id"])["publicipaddress"][0]["isstaticnat"] is False
    assert net.api.listPortForwardingRules(ipaddressid=pf_ip["id"]) == {}
    assert net.api.listFirewallRules(ipaddressid=pf_ip["id"]) == {}
