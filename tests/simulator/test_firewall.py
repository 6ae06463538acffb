"""Firewall rules (ingress), egress firewall rules and port forwarding rules."""
from __future__ import annotations

import pytest

from .compute import api_error
from .netcloud import Net, net  # noqa: F401  (fixture)


@pytest.fixture(scope="module")
def site(net: Net) -> dict:
    """One implemented network with a VM and a spare public IP for the rule tests."""
    network = net.network()
    vm = net.vm_on(network)
    return {"network": network, "vm": vm, "ip": net.ip_on(network)}


def test_create_firewall_rule_envelope_and_fields(net: Net, site):
    start = net.raw.createFirewallRule(ipaddressid=site["ip"]["id"], protocol="TCP", startport=8000, endport=8010,
                                       cidrlist="10.0.0.0/8,192.168.0.0/16")
    assert set(start) == {"id", "jobid"}
    rule = net.raw.queryAsyncJobResult(jobid=start["jobid"])["jobresult"]["firewallrule"]
    assert rule["id"] == start["id"] and rule["protocol"] == "tcp" and rule["state"] == "Active"
    assert (rule["startport"], rule["endport"]) == (8000, 8010)
    assert rule["cidrlist"] == "10.0.0.0/8,192.168.0.0/16" and rule["ipaddress"] == site["ip"]["ipaddress"]
    single = net.api.createFirewallRule(ipaddressid=site["ip"]["id"], protocol="udp", startport=53)["firewallrule"]
    assert (single["startport"], single["endport"], single["cidrlist"]) == (53, 53, "0.0.0.0/0")
    listed = net.api.listFirewallRules(ipaddressid=site["ip"]["id"])["firewallrule"]
    assert {r["id"] for r in listed} >= {rule["id"], single["id"]}


def test_overlapping_rules_conflict(net: Net, site):
    ip = site["ip"]["id"]
    net.api.createFirewallRule(ipaddressid=ip, protocol="tcp", startport=22)
    err = api_error(lambda: net.api.createFirewallRule(ipaddressid=ip, protocol="tcp", startport=20, endport=25))
    assert err["errorcode"] == 537
    assert err["errortext"].startswith("The range specified, 20-25, conflicts with rule ")
    assert err["errortext"].endswith(" which has 22-22")
    # Another protocol or other source CIDRs do not conflict.
    net.api.createFirewallRule(ipaddressid=ip, protocol="udp", startport=22)
    net.api.createFirewallRule(ipaddressid=ip, protocol="tcp", startport=22, cidrlist="10.1.2.0/24")
    net.api.createFirewallRule(ipaddressid=ip, protocol="icmp", icmptype=8, icmpcode=0)
    icmp = api_error(lambda: net.api.createFirewallRule(ipaddressid=ip, protocol="icmp", icmptype=8, icmpcode=0))
    assert icmp["errorcode"] == 431 and icmp["errortext"].startswith("New rule conflicts with existing rule")


@pytest.mark.parametrize("params, text", [
    ({"protocol": "icmp", "startport": 1}, "Can't specify start/end port when protocol is ICMP"),
    ({"protocol": "tcp", "startport": 1, "icmptype": 8}, "Can specify icmpCode and icmpType for ICMP protocol only"),
    ({"protocol": "tcp", "startport": 90, "endport": 80}, "Start port can't be bigger than end port"),
    ({"protocol": "tcp", "startport": 70000}, "publicPort is an invalid value: 70000"),
    ({"protocol": "gre"}, "Protocol gre is not supported in zone 2"),
    ({"protocol": "tcp", "startport": 1, "cidrlist": "300.1.1.0/24"}, "Source CIDRs formatting error 300.1.1.0/24"),
])
def test_invalid_firewall_rules(net: Net, site, params, text):
    err = api_error(lambda: net.api.createFirewallRule(ipaddressid=site["ip"]["id"], **params))
    assert (err["errorcode"], err["errortext"]) == (431, text)


def test_delete_firewall_rule(net: Net, site):
    rule = net.api.createFirewallRule(ipaddressid=site["ip"]["id"], protocol="tcp", startport=5000)["firewallrule"]
    assert net.api.deleteFirewallRule(id=rule["id"]) == {"success": True}
    assert net.api.listFirewallRules(id=rule["id"]) == {}
    err = api_error(lambda: net.api.deleteFirewallRule(id=rule["id"]))
    assert err["errorcode"] == 431


def test_egress_rules_are_kept_apart_from_ingress(net: Net, site):
    network = site["network"]
    rule = net.api.createEgressFirewallRule(networkid=network["id"], protocol="tcp", startport=443,
                                            destcidrlist="0.0.0.0/0")["firewallrule"]
    assert rule["cidrlist"] == network["cidr"] and rule["destcidrlist"] == "0.0.0.0/0"
    assert rule["networkid"] == network["id"] and "ipaddressid" not in rule
    allproto = net.api.createEgressFirewallRule(networkid=network["id"], protocol="all")["firewallrule"]
    assert allproto["protocol"] == "all"
    listed = net.api.listEgressFirewallRules(networkid=network["id"])["firewallrule"]
    assert {r["id"] for r in listed} == {rule["id"], allproto["id"]}
    assert rule["id"] not in {r["id"] for r in (net.api.listFirewallRules().get("firewallrule") or [])}
    dup = api_error(lambda: net.api.createEgressFirewallRule(networkid=network["id"], protocol="tcp",
                                                             startport=443, destcidrlist="0.0.0.0/0"))
    assert dup["errorcode"] == 537
    assert api_error(lambda: net.api.deleteFirewallRule(id=rule["id"]))["errorcode"] == 431
    assert net.api.deleteEgressFirewallRule(id=rule["id"]) == {"success": True}
    assert [r["id"] for r in net.api.listEgressFirewallRules(networkid=network["id"])["firewallrule"]] == [
        allproto["id"]]


def test_port_forwarding_opens_the_firewall(net: Net, site):
    ip, vm = site["ip"], site["vm"]
    start = net.raw.createPortForwardingRule(ipaddressid=ip["id"], protocol="tcp", publicport=2022, privateport=22,
                                             virtualmachineid=vm["id"])
    assert set(start) == {"id", "jobid"}
    rule = net.raw.queryAsyncJobResult(jobid=start["jobid"])["jobresult"]["portforwardingrule"]
    assert (rule["publicport"], rule["publicendport"], rule["privateport"], rule["privateendport"]) == (
        "2022", "2022", "22", "22")
    assert rule["virtualmachineid"] == vm["id"] and rule["vmguestip"] == vm["nic"][0]["ipaddress"]
    assert rule["state"] == "Active" and rule["protocol"] == "tcp"
    opened = [r for r in net.api.listFirewallRules(ipaddressid=ip["id"])["firewallrule"] if r.get("startport") == 2022]
    assert len(opened) == 1 and opened[0]["cidrlist"] == "0.0.0.0/0"
    assert [r["id"] for r in net.api.listPortForwardingRules(id=rule["id"])["portforwardingrule"]] == [rule["id"]]
    assert net.api.deletePortForwardingRule(id=rule["id"]) == {"success": True}
    assert not [r for r in net.api.listFirewallRules(ipaddressid=ip["id"]).get("firewallrule", [])
                if r.get("startport") == 2022]


def test_port_forwarding_rules_and_conflicts(net: Net, site):
    ip, vm = site["ip"], site["vm"]
    closed = net.api.createPortForwardingRule(ipaddressid=ip["id"], protocol="tcp", publicport=3000,
                                              privateport=3000, virtualmachineid=vm["id"],
                                              openfirewall=False)["portforwardingrule"]
    assert not [r for r in net.api.listFirewallRules(ipaddressid=ip["id"]).get("firewallrule", [])
                if r.get("startport") == 3000]
    clash = api_error(lambda: net.api.createPortForwardingRule(ipaddressid=ip["id"], protocol="tcp",
                                                               publicport=3000, privateport=3001,
                                                               virtualmachineid=vm["id"], openfirewall=False))
    assert clash["errorcode"] == 537 and clash["errortext"].startswith("The range specified, 3000-3000, conflicts")
    udp = net.api.createPortForwardingRule(ipaddressid=ip["id"], protocol="udp", publicport=3000, privateport=3000,
                                           virtualmachineid=vm["id"])["portforwardingrule"]
    assert udp["protocol"] == "udp" and closed["protocol"] == "tcp"
    sizes = api_error(lambda: net.api.createPortForwardingRule(
        ipaddressid=ip["id"], protocol="tcp", publicport=4000, publicendport=4001, privateport=4000,
        virtualmachineid=vm["id"]))
    assert sizes["errortext"] == "Source port and destination port ranges should be of equal sizes."
    stranger = net.vm_on(net.network(gateway="10.50.0.1", netmask="255.255.255.0"))
    foreign = api_error(lambda: net.api.createPortForwardingRule(ipaddressid=ip["id"], protocol="tcp",
                                                                 publicport=5000, privateport=22,
                                                                 virtualmachineid=stranger["id"]))
    assert foreign["errortext"] == "Vm doesn't belong to network associated with ipAddress"
    nat_ip = net.ip_on(site["network"])
    other_vm = net.vm_on(site["network"])
    net.api.enableStaticNat(ipaddressid=nat_ip["id"], virtualmachineid=other_vm["id"])
    on_nat = api_error(lambda: net.api.createPortForwardingRule(ipaddressid=nat_ip["id"], protocol="tcp",
                                                                publicport=22, privateport=22,
                                                                virtualmachineid=other_vm["id"]))
    assert on_nat["errorcode"] == 431 and on_nat["errortext"].endswith("has static nat enabled")
