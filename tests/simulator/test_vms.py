"""Virtual machines: deploy rules per zone, lifecycle states, destroy/expunge/recover, user data, names, keys."""
from __future__ import annotations

import re

from cs import CloudStack

from .compute import api_error, b64, cloud, unique  # noqa: F401  (fixtures)


def test_deploy_in_a_basic_zone(cloud):
    started = cloud.raw.deployVirtualMachine(zoneid=cloud.zone()["id"], templateid=cloud.template()["id"],
                                             serviceofferingid=cloud.offerings["Small Instance"]["id"],
                                             name=unique("basic"), displayname="Basic VM")
    assert set(started) == {"id", "jobid"}
    job = cloud.raw.queryAsyncJobResult(jobid=started["jobid"])
    vm = job["jobresult"]["virtualmachine"]
    assert vm["id"] == started["id"] and vm["state"] == "Running" and vm["displayname"] == "Basic VM"
    assert re.fullmatch(r"i-\d+-\d+-VM", vm["instancename"])
    assert (vm["cpunumber"], vm["memory"], vm["hypervisor"]) == (1, 1024, "KVM")
    nic = vm["nic"][0]
    assert nic["isdefault"] is True and nic["ipaddress"].startswith("192.0.2.")
    assert {"macaddress", "netmask", "gateway", "networkid", "networkname", "traffictype", "type"} <= set(nic)
    assert [g["name"] for g in vm["securitygroup"]] == ["default"]
    root = cloud.api.listVolumes(virtualmachineid=vm["id"])["volume"]
    assert [(v["type"], v["deviceid"], v["vmstate"]) for v in root] == [("ROOT", 0, "Running")]


def test_deploy_in_an_advanced_zone_with_a_data_disk(cloud):
    vm = cloud.deploy_advanced(diskofferingid=cloud.disks["Small"]["id"])
    # An Advanced-zone VM shows an empty group list, as in libcloud's real queryAsyncJobResult_17164.
    assert vm["nic"][0]["ipaddress"].startswith("10.1.1.") and vm["securitygroup"] == []
    disks = {v["type"]: v for v in cloud.api.listVolumes(virtualmachineid=vm["id"])["volume"]}
    assert disks["DATADISK"]["deviceid"] == 1 and disks["DATADISK"]["size"] == 5 * 1024 ** 3
    assert disks["DATADISK"]["state"] == "Ready"


def test_startvm_false_then_start_stop_reboot_rules(cloud):
    vm = cloud.deploy(startvm=False)
    assert vm["state"] == "Stopped"
    err = api_error(lambda: cloud.api.rebootVirtualMachine(id=vm["id"]))
    assert err["errorcode"] == 431
    assert cloud.api.startVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    err = api_error(lambda: cloud.api.startVirtualMachine(id=vm["id"]))
    assert err["errortext"] == f"The virtual machine {vm['id']} ({vm['displayname']}) is already running"
    assert cloud.api.rebootVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Running"
    assert cloud.api.stopVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"
    assert cloud.api.stopVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"


def test_a_destroyed_vm_keeps_its_ip_until_expunged(cloud):
    vm = cloud.deploy_advanced()
    ip = vm["nic"][0]["ipaddress"]
    assert cloud.api.destroyVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Destroyed"
    assert cloud.api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["state"] == "Destroyed"
    taken = api_error(lambda: cloud.deploy_advanced(ipaddress=ip))
    assert taken["errorcode"] == 533
    assert cloud.api.recoverVirtualMachine(id=vm["id"])["virtualmachine"]["state"] == "Stopped"
    err = api_error(lambda: cloud.api.expungeVirtualMachine(id=vm["id"]))
    assert err["errortext"] == "Please destroy vm with specified vmId before expunge"
    cloud.api.destroyVirtualMachine(id=vm["id"])
    assert cloud.api.expungeVirtualMachine(id=vm["id"]) == {"success": True}
    assert cloud.api.listVirtualMachines(id=vm["id"]) == {}
    assert cloud.deploy_advanced(ipaddress=ip)["nic"][0]["ipaddress"] == ip


def test_destroy_with_expunge_and_volumeids(cloud):
    vm = cloud.deploy(diskofferingid=cloud.disks["Small"]["id"])
    disks = {v["type"]: v for v in cloud.api.listVolumes(virtualmachineid=vm["id"])["volume"]}
    extra = cloud.volume()
    cloud.api.attachVolume(id=extra["id"], virtualmachineid=vm["id"])
    done = cloud.api.destroyVirtualMachine(id=vm["id"], expunge=True, volumeids=disks["DATADISK"]["id"])
    assert done["virtualmachine"]["state"] == "Expunging"
    assert cloud.api.listVirtualMachines(id=vm["id"]) == {}
    assert cloud.api.listVolumes(id=disks["DATADISK"]["id"]) == {}
    assert cloud.api.listVolumes(id=disks["ROOT"]["id"]) == {}
    kept = cloud.api.listVolumes(id=extra["id"])["volume"][0]
    assert "virtualmachineid" not in kept and kept["state"] == "Ready"


def test_user_data_limits_for_get_and_post(cloud, sim):
    get_client = CloudStack(endpoint=sim.endpoint, key=sim.api_key, secret=sim.secret_key, method="get")
    base = dict(zoneid=cloud.zone()["id"], templateid=cloud.template()["id"],
                serviceofferingid=cloud.offerings["Small Instance"]["id"])
    err = api_error(lambda: get_client.deployVirtualMachine(**base, userdata="A" * 4096))
    assert err["errortext"] == "User data is too long for an http GET request"
    err = api_error(lambda: cloud.api.deployVirtualMachine(**base, userdata="A" * 32772))
    assert err["errortext"] == "User data has exceeded configurable max length : 32768"
    err = api_error(lambda: cloud.api.deployVirtualMachine(**base, userdata="not base64!"))
    assert err["errortext"] == "User data is not base64 encoded"
    data = b"#cloud-config\n" + b"x" * 20000          # several KB: fine by POST
    vm = cloud.deploy(userdata=b64(data))
    got = cloud.api.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"]
    assert got == {"virtualmachineid": vm["id"], "userdata": b64(data)}
    assert "userdata" not in cloud.api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]
    assert cloud.api.listVirtualMachines(id=vm["id"], userdata=True)["virtualmachine"][0]["userdata"] == b64(data)
    updated = cloud.api.updateVirtualMachine(id=vm["id"], userdata=b64(b"new"), displayname="renamed")
    assert updated["virtualmachine"]["displayname"] == "renamed"
    assert cloud.api.getVirtualMachineUserData(virtualmachineid=vm["id"])["virtualmachineuserdata"]["userdata"] == \
        b64(b"new")


def test_host_names_are_checked_and_unique_per_network(cloud):
    for bad in ("1starts-with-digit", "-dash", "under_score", "x" * 64):
        err = api_error(lambda: cloud.deploy(name=bad))
        assert err["errortext"].startswith("Invalid name. Vm name can contain ASCII letters"), bad
    name = unique("dup")
    cloud.deploy_advanced(name=name)
    err = api_error(lambda: cloud.deploy_advanced(name=name))
    assert err["errortext"].startswith(f"The vm with hostName {name} already exists in the network domain")
    unnamed = cloud.api.deployVirtualMachine(zoneid=cloud.zone()["id"], templateid=cloud.template()["id"],
                                             serviceofferingid=cloud.offerings["Small Instance"]["id"])
    assert unnamed["virtualmachine"]["name"] == f"VM-{unnamed['virtualmachine']['id']}"


def test_custom_offerings_keypairs_and_root_disk_size(cloud):
    custom = cloud.offerings["Custom"]["id"]
    err = api_error(lambda: cloud.deploy(serviceofferingid=custom))
    assert err["errortext"].startswith("Invalid CPU number value")
    vm = cloud.api.deployVirtualMachine(zoneid=cloud.zone()["id"], templateid=cloud.template()["id"],
                                        serviceofferingid=custom, name=unique("c"), rootdisksize=20,
                                        details=[{"cpuNumber": "2", "cpuSpeed": "1000", "memory": "2048"}])
    vm = vm["virtualmachine"]
    assert (vm["cpunumber"], vm["cpuspeed"], vm["memory"]) == (2, 1000, 2048)
    root = cloud.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    assert root["size"] == 20 * 1024 ** 3
    err = api_error(lambda: cloud.deploy(keypair="no-such-key"))
    assert err["errortext"] == "A key pair with name 'no-such-key' was not found."
    key = unique("key")
    cloud.api.createSSHKeyPair(name=key)
    with_key = cloud.deploy(keypair=key)
    assert with_key["keypairs"] == key
    assert cloud.api.listVirtualMachines(keypair=key)["virtualmachine"][0]["id"] == with_key["id"]


def test_list_filters_and_ssh_key_reset(cloud):
    prefix = unique("flt")
    running = cloud.deploy(name=f"{prefix}-a")
    stopped = cloud.deploy(name=f"{prefix}-b", startvm=False)
    by_name = cloud.api.listVirtualMachines(name=prefix)["virtualmachine"]
    assert {v["id"] for v in by_name} == {running["id"], stopped["id"]}
    stopped_ids = {v["id"] for v in cloud.api.listVirtualMachines(name=prefix, state="Stopped")["virtualmachine"]}
    assert stopped_ids == {stopped["id"]}
    network = running["nic"][0]["networkid"]
    assert running["id"] in {v["id"] for v in cloud.api.listVirtualMachines(networkid=network)["virtualmachine"]}
    key = unique("key")
    cloud.api.createSSHKeyPair(name=key)
    err = api_error(lambda: cloud.api.resetSSHKeyForVirtualMachine(id=running["id"], keypair=key))
    assert "should be stopped" in err["errortext"]
    assert cloud.api.resetSSHKeyForVirtualMachine(id=stopped["id"], keypair=key)["virtualmachine"]["keypairs"] == key
