"""Security groups with ingress and egress rules (Basic zone)."""
from __future__ import annotations

from .compute import Cloud, api_error, cloud, unique  # noqa: F401  (fixture)


def test_create_list_and_duplicate_names(cloud: Cloud):
    name = unique("sg")
    group = cloud.api.createSecurityGroup(name=name, description="web servers")["securitygroup"]
    assert (group["name"], group["description"], group["account"]) == (name, "web servers", "admin")
    err = api_error(lambda: cloud.api.createSecurityGroup(name=name))
    assert (err["errorcode"], err["errortext"]) == (
        431, f"Unable to create security group, a group with name {name} already exists.")
    assert [g["id"] for g in cloud.api.listSecurityGroups(securitygroupname=name)["securitygroup"]] == [group["id"]]
    assert [g["name"] for g in cloud.api.listSecurityGroups(id=group["id"])["securitygroup"]] == [name]
    assert cloud.api.listSecurityGroups(securitygroupname=unique("none")) == {}
    cloud.api.createTags(resourceids=group["id"], resourcetype="SecurityGroup", tags=[{"key": "tier", "value": name}])
    tagged = cloud.api.listSecurityGroups(tags=[{"key": "tier", "value": name}])["securitygroup"]
    assert [g["id"] for g in tagged] == [group["id"]]


def test_authorize_ingress_and_egress(cloud: Cloud):
    name = unique("sg")
    group = cloud.api.createSecurityGroup(name=name)["securitygroup"]
    tcp = cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="TCP", startport=22,
                                                  endport=22, cidrlist="0.0.0.0/0,10.0.0.0/8")["securitygroup"]
    assert tcp["id"] == group["id"] and tcp["name"] == name
    assert [(r["protocol"], r["startport"], r["endport"], r["cidr"]) for r in tcp["ingressrule"]] == [
        ("tcp", 22, 22, "0.0.0.0/0"), ("tcp", 22, 22, "10.0.0.0/8")]
    every = cloud.api.authorizeSecurityGroupIngress(securitygroupname=name, cidrlist="192.0.2.0/24")["securitygroup"]
    assert [r["protocol"] for r in every["ingressrule"]] == ["all"]          # only the new rule is answered
    ping = cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="icmp", icmptype=8,
                                                   icmpcode=0, cidrlist="0.0.0.0/0")["securitygroup"]
    assert [(r["icmptype"], r["icmpcode"]) for r in ping["ingressrule"]] == [(8, 0)]
    peer = cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="tcp", startport=9000,
                                                   endport=9100, usersecuritygrouplist=[
                                                       {"account": "admin", "group": "default"}])["securitygroup"]
    assert [(r["securitygroupname"], r["account"]) for r in peer["ingressrule"]] == [("default", "admin")]
    out = cloud.api.authorizeSecurityGroupEgress(securitygroupid=group["id"], protocol="udp", startport=53,
                                                 endport=53, cidrlist="0.0.0.0/0")["securitygroup"]
    assert [r["protocol"] for r in out["egressrule"]] == ["udp"] and not out.get("ingressrule")
    listed = cloud.api.listSecurityGroups(id=group["id"])["securitygroup"][0]
    assert len(listed["ingressrule"]) == 5 and len(listed["egressrule"]) == 1


def test_authorize_errors(cloud: Cloud):
    name = unique("sg")
    group = cloud.api.createSecurityGroup(name=name)["securitygroup"]
    both = api_error(lambda: cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"],
                                                                     securitygroupname=name, cidrlist="0.0.0.0/0"))
    assert (both["errorcode"], both["errortext"]) == (
        431, "securityGroupId and securityGroupName parameters are mutually exclusive")
    missing = api_error(lambda: cloud.api.authorizeSecurityGroupIngress(securitygroupname=unique("nosuch"),
                                                                        cidrlist="0.0.0.0/0"))
    assert missing["errortext"].startswith("Unable to find security group nosuch-")
    ports = api_error(lambda: cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], startport=1,
                                                                      endport=2, cidrlist="0.0.0.0/0"))
    assert (ports["errorcode"], ports["errortext"]) == (
        431, "Cannot specify startPort or endPort without specifying protocol")
    nothing = api_error(lambda: cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="tcp",
                                                                        startport=1, endport=2))
    assert nothing["errortext"] == "At least one cidr or at least one security group needs to be specified"
    cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="tcp", startport=80, endport=80,
                                            cidrlist="0.0.0.0/0")
    duplicate = api_error(lambda: cloud.api.authorizeSecurityGroupIngress(
        securitygroupid=group["id"], protocol="tcp", startport=80, endport=80, cidrlist="0.0.0.0/0"))
    assert (duplicate["errorcode"], duplicate["errortext"]) == (
        530, "Failed to authorize security group ingress rule(s)")


def test_revoke_rules(cloud: Cloud):
    group = cloud.api.createSecurityGroup(name=unique("sg"))["securitygroup"]
    rule = cloud.api.authorizeSecurityGroupIngress(securitygroupid=group["id"], protocol="tcp", startport=443,
                                                   endport=443, cidrlist="0.0.0.0/0")["securitygroup"]["ingressrule"][0]
    wrong = api_error(lambda: cloud.api.revokeSecurityGroupEgress(id=rule["ruleid"]))
    assert wrong["errorcode"] == 431 and wrong["errortext"].startswith("Mismatch in rule type for security rule")
    assert cloud.api.revokeSecurityGroupIngress(id=rule["ruleid"]) == {"success": True}
    # Real CloudStack keeps the empty list ("ingressrule":[] in libcloud's listSecurityGroups fixture).
    assert cloud.api.listSecurityGroups(id=group["id"])["securitygroup"][0]["ingressrule"] == []
    assert api_error(lambda: cloud.api.revokeSecurityGroupIngress(id=rule["ruleid"]))["errorcode"] == 431


def test_delete_rules(cloud: Cloud):
    default = cloud.api.listSecurityGroups(securitygroupname="default")["securitygroup"][0]
    reserved = api_error(lambda: cloud.api.deleteSecurityGroup(id=default["id"]))
    assert (reserved["errorcode"], reserved["errortext"]) == (431, "The network group default is reserved")

    used, referenced, holder = (unique("sg") for _ in range(3))
    for name in (used, referenced, holder):
        cloud.api.createSecurityGroup(name=name)
    vm = cloud.deploy(securitygroupnames=used)
    assert [g["name"] for g in vm["securitygroup"]] == [used]
    listed = cloud.api.listSecurityGroups(virtualmachineid=vm["id"])["securitygroup"]
    assert [g["name"] for g in listed] == [used] and listed[0]["virtualmachineids"] == [vm["id"]]
    in_use = api_error(lambda: cloud.api.deleteSecurityGroup(name=used))
    assert (in_use["errorcode"], in_use["errortext"]) == (536, "Cannot delete group when it's in use by virtual machines")
    cloud.api.authorizeSecurityGroupIngress(securitygroupname=holder, protocol="tcp", startport=1, endport=1,
                                            usersecuritygrouplist=[{"account": "admin", "group": referenced}])
    allowed = api_error(lambda: cloud.api.deleteSecurityGroup(name=referenced))
    assert (allowed["errorcode"], allowed["errortext"]) == (
        536, "Cannot delete group when there are security rules that allow this group")

    cloud.api.destroyVirtualMachine(id=vm["id"], expunge=True)
    assert cloud.api.deleteSecurityGroup(name=used) == {"success": "true"}
    assert cloud.api.listSecurityGroups(securitygroupname=used) == {}
    unknown = api_error(lambda: cloud.api.deleteSecurityGroup(name=used))
    assert unknown["errorcode"] == 431 and unknown["errortext"].startswith(f"Unable to find security group by name {used}")
    neither = api_error(lambda: cloud.api.deleteSecurityGroup())
    assert neither["errortext"] == "Either id or name parameter is required by deleteSecurityGroup command"
