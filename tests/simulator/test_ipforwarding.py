"""IP forwarding rules (createIpForwardingRule, listIpForwardingRules, deleteIpForwardingRule): static NAT rules on
an address whose static NAT points at a VM, as CloudStack 4.18's CreateIpForwardingRuleCmd and
RulesManagerImpl.createStaticNatRule make them."""
from __future__ import annotations

import pytest

from .compute import api_error
from .netcloud import Net, net  # noqa: F401  (fixture)


@pytest.fixture()
def nat(net: Net) -> dict:
    """A VM with a static-NAT address (and a second, plain address on the same network)."""
    network = net.network()
    vm = net.vm_on(network)
    ip = net.ip_on(network)
    net.api.enableStaticNat(ipaddressid=ip["id"], virtualmachineid=vm["id"])
    return {"network": network, "vm": vm, "ip": ip, "plain": net.ip_on(network)}


def test_create_answers_id_and_jobid_and_the_rule_has_the_4_18_shape(net: Net, nat):
    start = net.raw.createIpForwardingRule(ipaddressid=nat["ip"]["id"], protocol="TCP", startport=80, endport=90)
    assert set(start) == {"id", "jobid"}
    job = net.raw.queryAsyncJobResult(jobid=start["jobid"])
    assert job["jobinstancetype"] == "FirewallRule" and job["cmd"].endswith("CreateIpForwardingRuleCmd")
    rule = job["jobresult"]["ipforwardingrule"]
    ip_dbid = rule["ipaddressid"]
    assert isinstance(ip_dbid, int)     # IpForwardingRuleResponse declares it a Long: the numeric id
    assert rule == {"id": start["id"], "protocol": "tcp", "startport": 80, "endport": 90, "state": "Active",
                    "ipaddressid": ip_dbid, "ipaddress": nat["ip"]["ipaddress"],
                    "virtualmachineid": nat["vm"]["id"], "virtualmachinename": nat["vm"]["name"],
                    "virtualmachinedisplayname": nat["vm"]["displayname"]}
    assert net.api.listIpForwardingRules(id=start["id"]) == {"count": 1, "ipforwardingrule": [rule]}
    # openfirewall (default true) opened the same ports to everyone, tied to the rule.
    opened = net.api.listFirewallRules(ipaddressid=nat["ip"]["id"])["firewallrule"]
    assert [(r["protocol"], r["startport"], r["endport"], r["cidrlist"]) for r in opened] == [
        ("tcp", 80, 90, "0.0.0.0/0")]


def test_list_filters_by_address_and_vm(net: Net, nat):
    rule = net.api.createIpForwardingRule(ipaddressid=nat["ip"]["id"], protocol="udp", startport=53,
                                          openfirewall=False)["ipforwardingrule"]
    assert (rule["startport"], rule["endport"]) == (53, 53)
    assert net.api.listFirewallRules(ipaddressid=nat["ip"]["id"]) == {}
    by_vm = net.api.listIpForwardingRules(virtualmachineid=nat["vm"]["id"])["ipforwardingrule"]
    assert [r["id"] for r in by_vm] == [rule["id"]]
    assert net.api.listIpForwardingRules(ipaddressid=nat["plain"]["id"]) == {}
    other = net.vm_on(nat["network"])
    assert net.api.listIpForwardingRules(virtualmachineid=other["id"]) == {}


def test_refused_without_static_nat_as_cloudstack_refuses(net: Net, nat):
    plain = api_error(lambda: net.api.createIpForwardingRule(ipaddressid=nat["plain"]["id"], protocol="tcp",
                                                             startport=22))
    assert plain == {**plain, "errorcode": 537,
                     "errortext": f"Can't do static nat on ip address: {nat['plain']['ipaddress']}"}
    snat = net.api.listPublicIpAddresses(associatednetworkid=nat["network"]["id"],
                                         issourcenat=True)["publicipaddress"][0]
    source = api_error(lambda: net.api.createIpForwardingRule(ipaddressid=snat["id"], protocol="tcp", startport=22))
    assert (source["errorcode"], source["errortext"]) == (537, f"Can't do static nat on ip address: "
                                                               f"{snat['ipaddress']}")


@pytest.mark.parametrize("params, code, text", [
    ({"protocol": "tcp", "startport": 22, "cidrlist": "10.0.0.0/8"}, 431,
     "Parameter cidrList is deprecated; if you need to open firewall rule for the specific CIDR, please refer to "
     "createFirewallRule command"),
    ({"protocol": "tcp", "startport": 90, "endport": 80}, 431, "Start port can't be bigger than end port"),
    ({"protocol": "tcp", "startport": 70000}, 431, "publicPort is an invalid value: 70000"),
    ({"protocol": "gre", "startport": 1}, 431, "Protocol gre is not supported in zone 2"),
])
def test_invalid_rules(net: Net, nat, params, code, text):
    err = api_error(lambda: net.api.createIpForwardingRule(ipaddressid=nat["ip"]["id"], **params))
    assert (err["errorcode"], err["errortext"]) == (code, text)
    assert net.api.listIpForwardingRules(ipaddressid=nat["ip"]["id"]) == {}
    assert net.api.listFirewallRules(ipaddressid=nat["ip"]["id"]) == {}


def test_overlapping_ranges_of_one_protocol_conflict(net: Net, nat):
    ip = nat["ip"]["id"]
    first = net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=20, endport=25,
                                           openfirewall=False)["ipforwardingrule"]
    err = api_error(lambda: net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=22,
                                                           endport=30, openfirewall=False))
    assert err["errorcode"] == 537
    assert err["errortext"].startswith("The range specified, 22-30, conflicts with rule ")
    assert err["errortext"].endswith(" which has 20-25")
    net.api.createIpForwardingRule(ipaddressid=ip, protocol="udp", startport=22, endport=30, openfirewall=False)
    # With openfirewall the firewall rule it opens can conflict too; nothing is left behind.
    net.api.createFirewallRule(ipaddressid=ip, protocol="tcp", startport=8080)
    opened = api_error(lambda: net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=8080))
    assert opened["errorcode"] == 537 and opened["errortext"].endswith(" which has 8080-8080")
    assert [r["id"] for r in net.api.listIpForwardingRules(ipaddressid=ip)["ipforwardingrule"]
            if r["protocol"] == "tcp"] == [first["id"]]


def test_delete_and_what_takes_rules_along(net: Net, nat):
    ip = nat["ip"]["id"]
    rule = net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=22)["ipforwardingrule"]
    assert net.api.deleteIpForwardingRule(id=rule["id"]) == {"success": True}
    assert net.api.listIpForwardingRules(ipaddressid=ip) == {}
    assert net.api.listFirewallRules(ipaddressid=ip) == {}       # the related firewall rule went with it
    gone = api_error(lambda: net.api.deleteIpForwardingRule(id="00000000-0000-4000-8000-000000000000"))
    assert gone["errorcode"] == 431

    net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=22)
    net.api.disableStaticNat(ipaddressid=ip)                      # revokes static NAT rules and firewall rules
    assert net.api.listIpForwardingRules(ipaddressid=ip) == {}
    assert net.api.listFirewallRules(ipaddressid=ip) == {}

    net.api.enableStaticNat(ipaddressid=ip, virtualmachineid=nat["vm"]["id"])
    net.api.createIpForwardingRule(ipaddressid=ip, protocol="tcp", startport=22)
    net.api.destroyVirtualMachine(id=nat["vm"]["id"], expunge=True)
    assert net.api.listIpForwardingRules(ipaddressid=ip) == {}
