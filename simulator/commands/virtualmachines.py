"""Virtual machines: deploy (with a ROOT and an optional DATA volume), list, start, stop, reboot, destroy,
expunge, recover, update, user data, SSH key reset.

States follow VirtualMachine.State: Starting -> Running over the deploy/start job, Stopping -> Stopped, a destroyed
VM stays listed as Destroyed (holding its IPs and volumes) until it is expunged. Error texts follow
UserVmManagerImpl / UserDataManagerImpl of CloudStack 4.18.
"""
from __future__ import annotations

import base64
import re
from typing import Any

from .. import limits, networking
from ..clock import now_str
from ..errors import internal, param_error
from ..registry import Ctx, command, public, remove_tags_of
from ..shapes import ListShape, list_command, same
from ..sshkeys import public_key_of
from ..store import new_id
from ..vm_view import vm_view
from . import templates, volumes
from .affinitygroups import requested_groups

GB = volumes.GB
# UserDataManagerImpl: 2 KB blocks; GET up to 4 KB, POST up to 1 MB; vm.userdata.max.length (default 32768)
# caps the base64 text either way.
MAX_USER_DATA_LENGTH_BYTES = 2048
MAX_HTTP_GET_LENGTH = 2 * MAX_USER_DATA_LENGTH_BYTES
MAX_HTTP_POST_LENGTH = 512 * MAX_USER_DATA_LENGTH_BYTES
VM_USERDATA_MAX_LENGTH = 32768
BASE64_RE = re.compile(rb"^[A-Za-z0-9+/=\-_\s]*$")   # commons-codec Base64.isBase64 (standard + URL-safe + ws)
HOSTNAME_RE = re.compile(r"^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$")
INVALID_NAME = ("Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits '0' through '9', and "
                "the hyphen ('-'), must be between 1 and 63 characters long, and can't start or end with \"-\" and "
                "can't start with digit")


# --- user data ---------------------------------------------------------------------------------------------------
def validate_user_data(value: str, http_method: str) -> str:
    """UserDataManagerImpl.validateUserData: the base64 text (re-encoded with padding), or CloudStack's 431."""
    method = "POST" if http_method.upper() == "POST" else "GET"
    limit = MAX_HTTP_POST_LENGTH if method == "POST" else MAX_HTTP_GET_LENGTH
    if not BASE64_RE.match(value.encode()):
        raise param_error("User data is not base64 encoded")
    if len(value) >= limit:
        raise param_error(f"User data is too long for an http {method} request")
    if len(value) > VM_USERDATA_MAX_LENGTH:
        raise param_error(f"User data has exceeded configurable max length : {VM_USERDATA_MAX_LENGTH}")
    decoded = _lenient_b64decode(value)
    if len(decoded) > limit:
        raise param_error(f"User data is too long for http {method} request")
    if not decoded:
        raise param_error("User data is too short")
    return base64.b64encode(decoded).decode()


def _lenient_b64decode(value: str) -> bytes:
    """commons-codec decoding: both alphabets, whitespace ignored, stops at padding, tolerates a short tail."""
    text = re.sub(r"\s", "", value).replace("-", "+").replace("_", "/").split("=", 1)[0]
    if len(text) % 4 == 1:   # a lone trailing character carries no whole byte
        text = text[:-1]
    return base64.b64decode(text + "=" * (-len(text) % 4))


def find_vm(ctx: Ctx, p: dict[str, Any], name: str = "id") -> dict[str, Any]:
    return ctx.lookup("virtualmachine", p, name)


# --- deploy ------------------------------------------------------------------------------------------------------
def _offering_resources(ctx: Ctx, offering: dict[str, Any], details: dict[str, str]) -> tuple[int, int, int]:
    """cpunumber, cpuspeed, memory; custom offerings take them from details (validateCustomParameters)."""
    if not offering.get("iscustomized"):
        return offering["cpunumber"], offering["cpuspeed"], offering["memory"]

    lowered = {k.lower(): v for k, v in details.items()}   # request keys arrive lower-cased

    def number(key: str) -> int:
        try:
            return int(lowered.get(key.lower(), ""))
        except ValueError:
            return -1
    cpu, speed, memory = number("cpuNumber"), number("cpuSpeed"), number("memory")
    if cpu <= 0:
        raise param_error(f"Invalid CPU number value, specify a value between 1 and {2**31 - 1}")
    if speed <= 0:
        raise param_error(f"Invalid CPU speed value, specify a value between 1 and {2**31 - 1}")
    if memory < 32:
        raise param_error(f"Invalid memory value, specify a value between 32 and {2**31 - 1}")
    return cpu, speed, memory


def _key_pairs(ctx: Ctx, p: dict[str, Any]) -> list[str]:
    names = list(p.get("keypairs") or []) or ([p["keypair"]] if p.get("keypair") else [])
    for name in names:
        if public_key_of(ctx, name) is None:
            raise param_error(f"A key pair with name '{name}' was not found.")
    return names


def _check_host_name(ctx: Ctx, host_name: str, nics: list[dict[str, Any]]) -> None:
    if len(host_name) > 63 or not HOSTNAME_RE.match(host_name) or host_name[0].isdigit():
        raise param_error(INVALID_NAME)
    for nic in nics:
        network = ctx.store.get("network", nic["networkid"])
        for other in networking.vms_on_network(ctx, nic["networkid"]):
            if other["name"].lower() == host_name.lower():
                raise param_error(f"The vm with hostName {host_name} already exists in the network domain: "
                                  f"{network.get('networkdomain')}; network={networking.network_str(ctx, network)}")


@command("deployVirtualMachine")
def deploy_virtual_machine(ctx: Ctx, p: dict) -> dict:
    zone = ctx.lookup("zone", p, "zoneid")
    offering = ctx.lookup("serviceoffering", p, "serviceofferingid")
    template = ctx.lookup("template", p, "templateid")
    if not templates.usable_in_zone(template, zone["id"]):
        raise param_error(f"The template {template['id']} is not available for use")
    if not template.get("isready"):
        raise param_error(f"Template {template['id']} has not been completely downloaded to zone {zone['id']}")
    details: dict[str, str] = {}
    for entry in p.get("details") or []:
        details.update(entry)
    cpu, speed, memory = _offering_resources(ctx, offering, details)
    disk_offering = ctx.lookup("diskoffering", p, "diskofferingid", required=False)
    data_size = _data_disk_size(disk_offering, p.get("size"))
    root_size = _root_disk_size(template, {k.lower(): v for k, v in details.items()}.get("rootdisksize")
                                or p.get("rootdisksize"))
    key_pairs = _key_pairs(ctx, p)
    affinity_groups = requested_groups(ctx, p)
    user_data = validate_user_data(p["userdata"], ctx.http_method) if p.get("userdata") else None
    start = p.get("startvm", True)
    # UserVmManagerImpl.createVirtualMachine: the VM, its CPUs and memory, then its volumes (ROOT, and DATA with a
    # disk offering); DeployVMCmd.create answers the ResourceAllocationException as its own 535.
    for name, amount in (("user_vm", 1), ("cpu", cpu), ("memory", memory),
                         ("volume", 1 if disk_offering is None else 2)):
        limits.check(ctx.store, ctx.account, name, amount, wrapped=True)

    nics, groups = networking.allocate_nics(ctx, zone, p)
    vm_id = new_id()
    host_name = p.get("name") or f"VM-{vm_id}"
    _check_host_name(ctx, host_name, nics)
    ostype = ctx.store.get("ostype", template.get("ostypeid")) or {}
    vm = ctx.store.add("virtualmachine", {
        "id": vm_id, "name": host_name, "displayname": p.get("displayname") or host_name, **ctx.owner(),
        "created": now_str(), "state": "Starting" if start else "Stopped", "haenable": False,
        "zoneid": zone["id"], "zonename": zone["name"], "templateid": template["id"],
        "templatename": template["name"], "templatedisplaytext": template.get("displaytext"),
        "passwordenabled": bool(template.get("passwordenabled")), "serviceofferingid": offering["id"],
        "serviceofferingname": offering["name"], "cpunumber": cpu, "cpuspeed": speed, "memory": memory,
        "cpuused": "0%", "networkkbsread": 0, "networkkbswrite": 0, "diskkbsread": 0, "diskkbswrite": 0,
        "diskioread": 0, "diskiowrite": 0, "guestosid": ostype.get("id"), "ostypeid": ostype.get("id"),
        "osdisplayname": ostype.get("description"), "rootdeviceid": 0, "rootdevicetype": "ROOT",
        "securitygroup": groups, "affinitygroup": affinity_groups, "nic": nics,
        "hypervisor": zone["_hypervisor"],
        "keypairs": ",".join(key_pairs) or None, "isdynamicallyscalable": False, "displayvm": True,
        "details": details or None, "userid": ctx.account["_userid"], "username": ctx.owner()["account"],
        "diskofferingid": disk_offering["id"] if disk_offering else None,
        "diskofferingname": disk_offering["name"] if disk_offering else None, "hasannotations": False,
        "_userdata": user_data,
    })
    number = networking.dbid(ctx, vm, "virtualmachine")
    vm["instancename"] = f"i-{networking.account_dbid(ctx)}-{number}-VM"
    for nic in vm["nic"]:
        nic["virtualmachineid"] = vm_id
    root = volumes.new_volume(ctx, name=f"ROOT-{number}", zone=zone, vtype="ROOT", size=root_size, state="Ready",
                              offering=None, virtualmachineid=vm_id, deviceid=0, templateid=template["id"],
                              templatename=template["name"], templatedisplaytext=template.get("displaytext"),
                              serviceofferingid=offering["id"], serviceofferingname=offering["name"],
                              serviceofferingdisplaytext=offering.get("displaytext"), attached=now_str(),
                              _content=template.get("_sha256"))
    vm["_rootvolumeid"] = root["id"]
    data = None
    if disk_offering is not None:
        data = volumes.new_volume(ctx, name=f"DATA-{number}", zone=zone, vtype="DATADISK", size=data_size,
                                  state="Ready", offering=disk_offering, virtualmachineid=vm_id, deviceid=1,
                                  attached=now_str())

    def work() -> dict:
        vm["state"] = "Running" if start else "Stopped"
        return vm_view(ctx, vm)

    def rollback(err: Exception) -> None:
        if data is not None:  # a failed deploy destroys the VM's volumes (updateVmStateForFailedVmCreation)
            volumes.detach(ctx, data)
            volumes.remove(ctx, data)
        _expunge(ctx, vm)
    return ctx.job(result_key="virtualmachine", work=work, operation="deploy", instance_type="VirtualMachine",
                   instance_id=vm_id, rollback=rollback, create_id=vm_id, vm_queue=vm_id)   # VmWorkStart


def _data_disk_size(offering: dict[str, Any] | None, size_gb: int | None) -> int | None:
    if offering is None:
        return None
    if offering["iscustomized"]:
        if size_gb is None:
            raise param_error("This disk offering requires a custom size specified")
        volumes.check_size_gb(size_gb)
        return size_gb * GB
    if size_gb is not None and size_gb != offering["disksize"]:
        raise param_error("This disk offering does not allow custom size")
    return offering["disksize"] * GB


def _root_disk_size(template: dict[str, Any], root_gb: Any) -> int:
    template_size = int(template.get("size") or 0)
    if root_gb in (None, ""):
        return template_size
    try:
        size = int(root_gb) * GB
    except ValueError:
        raise param_error(f"Invalid value for rootdisksize: {root_gb}") from None
    if size < template_size:
        raise param_error(f"Root disk size: {root_gb}GB is less than the template size: {template_size} bytes")
    return size


# --- lifecycle ---------------------------------------------------------------------------------------------------
def _expunge(ctx: Ctx, vm: dict[str, Any]) -> None:
    """Gone for good: ROOT volume deleted, data volumes detached, network resources released."""
    for volume in ctx.store.find("volume", virtualmachineid=vm["id"]):
        if volume["type"] == "ROOT":
            volumes.remove(ctx, volume)
        else:
            volumes.detach(ctx, volume)
    networking.release_vm_network(ctx, vm)
    vm["state"] = "Expunging"
    ctx.store.remove("virtualmachine", vm["id"])
    remove_tags_of(ctx, vm["id"])


def _vm_job(ctx: Ctx, vm: dict[str, Any], operation: str, work, rollback=None, on_start=None, *,
            vm_work: bool = True) -> dict:
    """A job answering the VM. `vm_work`: CloudStack runs it as VM work (VmWorkStart/Stop/Reboot; destroy stops
    the VM through a VmWorkStop first), so it waits on the VM's work queue."""
    return ctx.job(result_key="virtualmachine", work=work, operation=operation, instance_type="VirtualMachine",
                   instance_id=vm["id"], rollback=rollback, vm_queue=vm["id"] if vm_work else None,
                   on_start=on_start)


def _transition_job(ctx: Ctx, vm: dict[str, Any], operation: str, work, *, settled: str, moving: str) -> dict:
    """start/stop: a VM `settled` in the state the operation leaves, when the job's turn comes, shows `moving`
    while the job runs and is `settled` again when the job fails; from any other state the job's checks decide."""
    moved = False

    def begin() -> None:
        nonlocal moved
        if vm["state"] == settled:
            vm["state"] = moving
            moved = True

    def rollback(err: Exception) -> None:
        if moved:
            vm["state"] = settled
    return _vm_job(ctx, vm, operation, work, rollback=rollback, on_start=begin)


@command("startVirtualMachine")
def start_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    return _transition_job(ctx, vm, "start", lambda: _started(ctx, vm), settled="Stopped", moving="Starting")


def _started(ctx: Ctx, vm: dict[str, Any]) -> dict[str, Any]:
    if vm["state"] == "Running":
        raise param_error(f"The virtual machine {vm['id']} ({vm['displayname']}) is already running")
    if vm["state"] not in ("Stopped", "Starting"):
        raise internal(f"Unable to start VM instance {vm['instancename']} in state {vm['state']}")
    for nic in vm["nic"]:
        network = ctx.store.get("network", nic["networkid"])
        if network is not None:
            networking.implement_network(ctx, network)
    vm["state"] = "Running"
    return vm_view(ctx, vm)


@command("stopVirtualMachine")
def stop_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    return _transition_job(ctx, vm, "stop", lambda: _stopped(ctx, vm), settled="Running", moving="Stopping")


def _stopped(ctx: Ctx, vm: dict[str, Any]) -> dict[str, Any]:
    if vm["state"] not in ("Running", "Stopping", "Stopped"):
        raise internal(f"Unable to stop VM instance {vm['instancename']} in state {vm['state']}")
    vm["state"] = "Stopped"
    return vm_view(ctx, vm)


@command("rebootVirtualMachine")
def reboot_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)

    def work() -> dict:
        if vm["state"] != "Running":
            raise param_error(f"Unable to reboot VM {vm['instancename']}: it is not in Running state but "
                              f"{vm['state']}")
        return vm_view(ctx, vm)
    return _vm_job(ctx, vm, "reboot", work)


@command("destroyVirtualMachine")
def destroy_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    doomed = []
    for volume_id in p.get("volumeids") or []:
        volume = ctx.store.get("volume", volume_id)
        if volume is None or volume.get("virtualmachineid") != vm["id"] or volume["type"] != "DATADISK":
            raise param_error(f"VM id={vm['id']} does not have a data volume with id {volume_id}")
        doomed.append(volume)

    def work() -> dict:
        for volume in doomed:
            volumes.detach(ctx, volume)
            volumes.remove(ctx, volume)
        if vm["state"] not in ("Destroyed", "Expunging"):
            vm["state"] = "Destroyed"
        view = vm_view(ctx, vm)
        if p.get("expunge"):
            _expunge(ctx, vm)
            view["state"] = "Expunging"
        return view
    return _vm_job(ctx, vm, "destroy", work)


@command("expungeVirtualMachine")
def expunge_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)

    def work() -> None:
        if vm["state"] not in ("Destroyed", "Expunging", "Error"):
            raise param_error("Please destroy vm with specified vmId before expunge")
        _expunge(ctx, vm)
        return None
    return ctx.job(result_key=None, work=work, operation="expunge", instance_type="VirtualMachine",
                   instance_id=vm["id"], vm_queue=vm["id"])   # advanceExpunge stops the VM through its queue


@command("recoverVirtualMachine")
def recover_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    if vm["state"] != "Destroyed":
        raise param_error(f"Vm with id {vm['id']} is not in the right state")
    owner = ctx.store.get("account", vm.get("_accountid")) or ctx.account
    for name, amount in (("user_vm", 1), ("cpu", vm.get("cpunumber") or 0), ("memory", vm.get("memory") or 0)):
        limits.check(ctx.store, owner, name, amount)   # UserVmManagerImpl.recoverVirtualMachine: it counts again
    vm["state"] = "Stopped"
    return {"virtualmachine": vm_view(ctx, vm)}


@command("updateVirtualMachine")
def update_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    if "userdata" in p:
        vm["_userdata"] = validate_user_data(p["userdata"], ctx.http_method)
    if "name" in p and p["name"] != vm["name"]:
        if vm["state"] != "Stopped":
            raise param_error(f"Vm {vm['instancename']} should be stopped to update its name")
        _check_host_name(ctx, p["name"], vm["nic"])
        vm["name"] = p["name"]
    if "displayname" in p:
        vm["displayname"] = p["displayname"]
    for entry in p.get("details") or []:
        vm["details"] = {**(vm.get("details") or {}), **entry}
    return {"virtualmachine": vm_view(ctx, vm)}


@command("getVirtualMachineUserData")
def get_virtual_machine_user_data(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p, "virtualmachineid")
    return {"virtualmachineuserdata": public({"virtualmachineid": vm["id"], "userdata": vm.get("_userdata")})}


@command("resetSSHKeyForVirtualMachine")
def reset_ssh_key_for_virtual_machine(ctx: Ctx, p: dict) -> dict:
    vm = find_vm(ctx, p)
    if vm["state"] != "Stopped":
        raise param_error(f"Vm {vm['instancename']} should be stopped to do SSH Key reset")
    names = _key_pairs(ctx, p)
    if not names:
        raise param_error("'keypair' or 'keyparis' must be specified")

    def work() -> dict:
        vm["keypairs"] = ",".join(names)
        return vm_view(ctx, vm)
    return _vm_job(ctx, vm, "job", work, vm_work=False)   # UserVmManagerImpl.resetVMSSHKey updates the VM itself


def _vm_filters(ctx: Ctx, vms: list[dict[str, Any]], p: dict) -> list[dict[str, Any]]:
    """`state` (Present: not destroyed), `networkid` (a NIC on it), `keypair` (one of the VM's key pairs)."""
    state = (p.get("state") or "").lower()
    if state == "present":
        vms = [vm for vm in vms if vm["state"] not in ("Destroyed", "Expunging")]
    elif state:
        vms = [vm for vm in vms if vm["state"].lower() == state]
    if "networkid" in p:
        vms = [vm for vm in vms if any(n["networkid"] == p["networkid"] for n in vm["nic"])]
    if "keypair" in p:
        vms = [vm for vm in vms if p["keypair"] in (vm.get("keypairs") or "").split(",")]
    return vms


list_command("listVirtualMachines", ListShape(
    kind="virtualmachine", name_like=True, equal=same("templateid", "serviceofferingid", "displayname"),
    narrow=_vm_filters, view=lambda ctx, vm, p: vm_view(ctx, vm, with_user_data=bool(p.get("userdata")))))

