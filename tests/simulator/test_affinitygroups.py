"""Affinity groups: types, create/list/delete, VMs deployed into groups, updateVMAffinityGroup."""
from __future__ import annotations

from .compute import Cloud, api_error, cloud, unique  # noqa: F401  (fixture)


def group(cloud: Cloud, kind: str = "host anti-affinity", **params) -> dict:
    params.setdefault("name", unique("ag"))
    return cloud.api.createAffinityGroup(type=kind, **params)["affinitygroup"]


def test_types_are_listed_under_their_camel_case_key(cloud: Cloud):
    assert cloud.api.listAffinityGroupTypes() == {
        "count": 2, "affinityGroupType": [{"type": "host anti-affinity"}, {"type": "host affinity"}]}


def test_create_is_async_and_list_filters(cloud: Cloud):
    name = unique("ag")
    started = cloud.raw.createAffinityGroup(name=name, type="host affinity", description="together")
    assert set(started) == {"jobid", "id"}
    created = cloud.raw.queryAsyncJobResult(jobid=started["jobid"])["jobresult"]["affinitygroup"]
    assert created == {"id": started["id"], "name": name, "description": "together", "type": "host affinity",
                       "account": "admin", "domain": "ROOT", "domainid": created["domainid"]}
    assert cloud.api.listAffinityGroups(name=name)["affinitygroup"] == [created]
    assert [g["id"] for g in cloud.api.listAffinityGroups(id=started["id"])["affinitygroup"]] == [started["id"]]
    same_type = cloud.api.listAffinityGroups(type="host affinity")["affinitygroup"]
    assert all(g["type"] == "host affinity" for g in same_type)
    assert cloud.api.listAffinityGroups(name=unique("none")) == {}


def test_create_errors(cloud: Cloud):
    existing = group(cloud)
    duplicate = api_error(lambda: cloud.api.createAffinityGroup(name=existing["name"], type="host affinity"))
    assert (duplicate["errorcode"], duplicate["errortext"]) == (
        431, f"Unable to create affinity group, a group with name {existing['name']} already exists.")
    bad_type = api_error(lambda: cloud.api.createAffinityGroup(name=unique("ag"), type="rack affinity"))
    assert (bad_type["errorcode"], bad_type["errortext"]) == (
        431, "Unable to create affinity group, invalid affinity group type: rack affinity. "
             "Valid values are host anti-affinity,host affinity")
    missing = api_error(lambda: cloud.api.createAffinityGroup(name=unique("ag")))
    assert missing["errorcode"] == 431 and "missing parameter type" in missing["errortext"]


def test_deploy_into_groups_by_name_or_id(cloud: Cloud):
    spread, close = group(cloud), group(cloud, "host affinity", description="near")
    by_name = cloud.deploy(affinitygroupnames=f"{spread['name']},{close['name']}")
    assert by_name["affinitygroup"] == [
        {"id": spread["id"], "name": spread["name"], "account": "admin"},
        {"id": close["id"], "name": close["name"], "description": "near", "account": "admin"}]
    by_id = cloud.deploy_advanced(affinitygroupids=spread["id"])
    assert [g["id"] for g in by_id["affinitygroup"]] == [spread["id"]]
    assert cloud.deploy()["affinitygroup"] == []   # a VM outside any group shows an empty list, as CloudStack

    listed = cloud.api.listAffinityGroups(id=spread["id"])["affinitygroup"][0]
    assert sorted(listed["virtualmachineIds"]) == sorted([by_name["id"], by_id["id"]])
    assert "virtualmachineIds" not in group(cloud)   # a group without VMs has no such list
    mine = cloud.api.listAffinityGroups(virtualmachineid=by_name["id"])["affinitygroup"]
    assert sorted(g["id"] for g in mine) == sorted([spread["id"], close["id"]])
    listed_vm = cloud.api.listVirtualMachines(id=by_id["id"])["virtualmachine"][0]
    assert [g["name"] for g in listed_vm["affinitygroup"]] == [spread["name"]]

    # Destroyed but not expunged: still a member; expunged: gone.
    cloud.api.destroyVirtualMachine(id=by_id["id"])
    assert by_id["id"] in cloud.api.listAffinityGroups(id=spread["id"])["affinitygroup"][0]["virtualmachineIds"]
    cloud.api.expungeVirtualMachine(id=by_id["id"])
    assert cloud.api.listAffinityGroups(id=spread["id"])["affinitygroup"][0]["virtualmachineIds"] == [by_name["id"]]


def test_deploy_errors(cloud: Cloud):
    ag = group(cloud)
    both = api_error(lambda: cloud.deploy(affinitygroupids=ag["id"], affinitygroupnames=ag["name"]))
    assert (both["errorcode"], both["errortext"]) == (
        431, "affinitygroupids parameter is mutually exclusive with affinitygroupnames parameter")
    name = unique("nosuch")
    unknown_name = api_error(lambda: cloud.deploy(affinitygroupnames=name))
    assert (unknown_name["errorcode"], unknown_name["errortext"]) == (
        431, f"Unable to find affinity group by name {name}")
    ghost = "00000000-0000-4000-8000-000000000000"
    unknown_id = api_error(lambda: cloud.deploy(affinitygroupids=ghost))
    assert unknown_id["errorcode"] == 431
    assert unknown_id["errortext"].startswith(
        f"Unable to execute API command deployvirtualmachine due to invalid value. Invalid parameter "
        f"affinitygroupids value={ghost}")
    assert not [vm for vm in cloud.sim.resources()["virtualmachine"] if vm.get("affinitygroup")
                and any(g["id"] == ag["id"] for g in vm["affinitygroup"])]


def test_update_vm_affinity_groups(cloud: Cloud):
    first, second = group(cloud), group(cloud, "host affinity")
    vm = cloud.deploy(affinitygroupids=first["id"])
    running = api_error(lambda: cloud.api.updateVMAffinityGroup(id=vm["id"], affinitygroupids=second["id"]))
    assert running["errorcode"] == 431
    assert running["errortext"].startswith("Unable update affinity groups of the virtual machine VM[User|i-")
    assert running["errortext"].endswith("] in state Running; make sure the virtual machine is stopped and not in "
                                         "an error state before updating.")
    cloud.api.stopVirtualMachine(id=vm["id"])
    updated = cloud.api.updateVMAffinityGroup(id=vm["id"], affinitygroupnames=second["name"])["virtualmachine"]
    assert [g["id"] for g in updated["affinitygroup"]] == [second["id"]] and updated["state"] == "Stopped"
    assert "virtualmachineIds" not in cloud.api.listAffinityGroups(id=first["id"])["affinitygroup"][0]
    cleared = cloud.api.updateVMAffinityGroup(id=vm["id"], affinitygroupids="")["virtualmachine"]
    assert cleared["affinitygroup"] == []

    neither = api_error(lambda: cloud.api.updateVMAffinityGroup(id=vm["id"]))
    assert (neither["errorcode"], neither["errortext"]) == (
        431, "affinitygroupids parameter or affinitygroupnames parameter must be given")
    name = unique("nosuch")
    unknown = api_error(lambda: cloud.api.updateVMAffinityGroup(id=vm["id"], affinitygroupnames=name))
    assert unknown["errorcode"] == 431
    assert unknown["errortext"].startswith(f"Unable to find group by name {name} for account ")


def test_delete_by_id_or_name_even_in_use(cloud: Cloud):
    used, spare = group(cloud), group(cloud)
    vm = cloud.deploy(affinitygroupids=used["id"])
    # AffinityGroupServiceImpl removes the VMs' memberships with the group: deleting one in use succeeds.
    assert cloud.api.deleteAffinityGroup(id=used["id"]) == {"success": True}
    assert cloud.api.listVirtualMachines(id=vm["id"])["virtualmachine"][0]["affinitygroup"] == []
    assert cloud.api.listAffinityGroups(name=used["name"]) == {}
    assert cloud.api.deleteAffinityGroup(name=spare["name"]) == {"success": True}
    assert cloud.api.listAffinityGroups(name=spare["name"]) == {}

    name = unique("nosuch")
    unknown = api_error(lambda: cloud.api.deleteAffinityGroup(name=name))
    assert (unknown["errorcode"], unknown["errortext"]) == (431, f"Unable to find affinity group {name}")
    neither = api_error(lambda: cloud.api.deleteAffinityGroup())
    assert (neither["errorcode"], neither["errortext"]) == (
        431, "Either the affinity group Id or group name must be specified to delete the group")
