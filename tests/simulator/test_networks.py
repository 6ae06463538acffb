"""Guest networks and the NIC rules of deployVirtualMachine per zone type (simulator/networking.py)."""
from __future__ import annotations

from .compute import api_error, unique
from .netcloud import Net, net  # noqa: F401  (fixture)


def test_first_deploy_without_networks_creates_the_account_network(sim_factory):
    net = Net(sim_factory())           # a fresh cloud: the account has no network yet
    vm = net.deploy("Sim-Advanced")
    networks = net.api.listNetworks(zoneid=net.zone("Sim-Advanced")["id"])["network"]
    assert [n["name"] for n in networks] == ["admin-network"]
    auto = networks[0]
    assert vm["nic"][0]["networkid"] == auto["id"] and auto["state"] == "Implemented"
    assert auto["cidr"] == "10.1.1.0/24" and vm["nic"][0]["ipaddress"] == "10.1.1.2"
    # With a second isolated network the default is ambiguous, as in CloudStack.
    net.network()
    err = api_error(lambda: net.deploy("Sim-Advanced"))
    assert err["errorcode"] == 431
    assert err["errortext"].startswith("More than 1 default Isolated networks are found for Account Acct[")
    assert err["errortext"].endswith("-admin]; please specify networkIds")


def test_create_network_fields_and_implementation_by_the_first_vm(net: Net):
    created = net.network(gateway="10.9.0.1", netmask="255.255.255.0")
    assert created["state"] == "Allocated" and created["type"] == "Isolated" and created["cidr"] == "10.9.0.0/24"
    assert created["gateway"] == "10.9.0.1" and created["netmask"] == "255.255.255.0"
    assert {"SourceNat", "StaticNat", "Firewall", "PortForwarding"} <= {s["name"] for s in created["service"]}
    assert "broadcasturi" not in created
    assert not net.api.listPublicIpAddresses(associatednetworkid=created["id"])
    vm = net.vm_on(created)
    nic = vm["nic"][0]
    assert nic["ipaddress"] == "10.9.0.2" and nic["gateway"] == "10.9.0.1" and nic["type"] == "Isolated"
    listed = net.api.listNetworks(id=created["id"])["network"][0]
    assert listed["state"] == "Implemented" and listed["broadcasturi"].startswith("vlan://")
    assert nic["broadcasturi"] == listed["broadcasturi"]
    snat = net.api.listPublicIpAddresses(associatednetworkid=created["id"])["publicipaddress"]
    assert len(snat) == 1 and snat[0]["issourcenat"] is True and snat[0]["ipaddress"].startswith("203.0.113.")
    # Default gateway/netmask come from the zone's guest CIDR.
    assert net.network()["cidr"] == "10.1.1.0/24"


def test_list_networks_filters(net: Net):
    created = net.network()
    assert [n["id"] for n in net.api.listNetworks(id=created["id"])["network"]] == [created["id"]]
    assert all(n["type"] == "Isolated" for n in net.api.listNetworks(type="isolated")["network"])
    assert created["id"] in {n["id"] for n in net.api.listNetworks(canusefordeploy=True)["network"]}
    assert net.api.listNetworks(id=created["id"], issystem=True) == {}
    shared = net.api.listNetworks(zoneid=net.zone("Sim-Basic")["id"])["network"]
    assert [(n["name"], n["type"], n["cidr"]) for n in shared] == [("guestNetworkForBasicZone", "Shared",
                                                                    "192.0.2.0/24")]
    net.api.createTags(resourceids=created["id"], resourcetype="Network", tags=[{"key": "role", "value": "t"}])
    tagged = net.api.listNetworks(tags=[{"key": "role", "value": "t"}])["network"]
    assert [n["id"] for n in tagged] == [created["id"]] and tagged[0]["tags"][0]["key"] == "role"


def test_create_network_is_refused_in_a_basic_zone(net: Net):
    err = api_error(lambda: net.api.createNetwork(name="x", displaytext="x", networkofferingid=net.offering_id,
                                                  zoneid=net.zone("Sim-Basic")["id"]))
    assert (err["errorcode"], err["errortext"]) == (
        431, "Only AclType=Domain can be specified for network creation in Basic zone")


def test_advanced_zone_nic_rules(net: Net):
    first = net.network(gateway="10.20.0.1", netmask="255.255.255.248")      # hosts .2 - .6
    second = net.network(gateway="10.21.0.1", netmask="255.255.255.0")
    both = net.deploy("Sim-Advanced", networkids=f"{first['id']},{second['id']}", ipaddress="10.20.0.5")
    assert [(n["ipaddress"], n["isdefault"], n["deviceid"]) for n in both["nic"]] == [
        ("10.20.0.5", True, "0"), ("10.21.0.2", False, "1")]
    mapped = net.deploy("Sim-Advanced", iptonetworklist=[{"networkid": second["id"], "ip": "10.21.0.77"}])
    assert mapped["nic"][0]["ipaddress"] == "10.21.0.77"
    macs = [n["macaddress"] for vm in (both, mapped) for n in vm["nic"]]
    assert len(set(macs)) == len(macs) and all(m.startswith("02:00:") for m in macs)

    mixed = api_error(lambda: net.deploy("Sim-Advanced", networkids=first["id"],
                                         iptonetworklist=[{"networkid": second["id"]}]))
    assert (mixed["errorcode"], mixed["errortext"]) == (
        431, "ipToNetworkMap can't be specified along with networkIds or ipAddress")
    groups = api_error(lambda: net.deploy("Sim-Advanced", networkids=first["id"], securitygroupnames="default"))
    assert groups["errortext"] == "Can't create vm with security groups; security group feature is not enabled per zone"
    for bad_ip in ("10.20.0.5", "10.20.0.1", "10.99.0.3"):   # taken, gateway, outside the CIDR
        err = api_error(lambda: net.deploy("Sim-Advanced", networkids=first["id"], ipaddress=bad_ip))
        assert err["errorcode"] == 533
        assert err["errortext"].startswith("Unable to acquire Guest IP address for network Ntwk[")
    for _ in range(4):                                        # .2 .3 .4 .6 are left
        net.vm_on(first)
    full = api_error(lambda: net.vm_on(first))
    assert full["errorcode"] == 533


def test_delete_network_waits_for_expunged_vms_and_releases_ips(net: Net):
    network = net.network(gateway="10.30.0.1", netmask="255.255.255.0")
    vm = net.vm_on(network)
    net.api.destroyVirtualMachine(id=vm["id"])
    err = api_error(lambda: net.api.deleteNetwork(id=network["id"]))
    assert (err["errorcode"], err["errortext"]) == (530, "Failed to delete network")
    net.api.expungeVirtualMachine(id=vm["id"])
    assert net.api.deleteNetwork(id=network["id"]) == {"success": True}
    assert net.api.listNetworks(id=network["id"]) == {}
    assert not net.api.listPublicIpAddresses(associatednetworkid=network["id"])


def test_restart_and_update_network(net: Net):
    network = net.network()
    assert net.api.restartNetwork(id=network["id"]) == {"success": True}
    updated = net.api.updateNetwork(id=network["id"], name="renamed", displaytext="new text")["network"]
    assert (updated["name"], updated["displaytext"]) == ("renamed", "new text")


def test_basic_zone_nic_rules(sim):
    from .compute import Cloud
    cloud = Cloud(sim)
    err = api_error(lambda: cloud.deploy(networkids=cloud.api.listNetworks(
        zoneid=cloud.zone()["id"])["network"][0]["id"]))
    assert (err["errorcode"], err["errortext"]) == (431, "Can't specify network Ids in Basic zone")
    both = api_error(lambda: cloud.deploy(securitygroupnames="default", securitygroupids=unique("x")))
    assert both["errortext"] == "securitygroupids parameter is mutually exclusive with securitygroupnames parameter"
    unknown = api_error(lambda: cloud.deploy(securitygroupnames=unique("nosuch")))
    assert unknown["errortext"].startswith("Unable to find group by name nosuch-")
    vm = cloud.deploy(ipaddress="192.0.2.200")
    assert vm["nic"][0]["ipaddress"] == "192.0.2.200" and vm["nic"][0]["type"] == "Shared"
    assert [g["name"] for g in vm["securitygroup"]] == ["default"]
    taken = api_error(lambda: cloud.deploy(ipaddress="192.0.2.200"))
    assert taken["errorcode"] == 533
