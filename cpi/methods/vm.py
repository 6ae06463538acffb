"""create_vm, delete_vm, has_vm, reboot_vm.

create_vm order (what the agent needs is in place before it boots):
1. resolve everything by name (zone, template, offerings, key pair, networks, security and affinity groups): a bad
   name fails before anything is created;
2. one NIC: deployVirtualMachine with the settings as userdata and the ephemeral disk as its `diskofferingid` (+
   `size`), started: ONE job (CloudStack puts that data disk at device id 1; no MAC must reach the agent first);
3. several NICs (their MACs must be in the settings before boot): create the ephemeral volume first, deploy
   stopped, attach the volume at device id 1, put the MACs into the userdata, start;
4. static NAT for a vip network; the tags of `environment.bosh.tags` (as every later set_vm_metadata carries them,
   but from the start).
Any failure destroys and expunges what was made (VM, ephemeral disk, static NAT, affinity groups made for it) and
answers VMCreationFailed. A job that timed out is waited for before anything is destroyed: a destroy racing a deploy
still running would leave what the deploy makes after it.
"""
from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from cpi import agent_settings, devices, networks as netplan
from cpi.cloudstack.errors import CloudStackError, JobFailedError, JobTimeoutError, OutcomeUnknownError
from cpi.methods import affinity, lookup, tags
from cpi.methods.cloud import Cloud, translate
from cpi.properties import VMProperties, vm_properties
from cpi.protocol import BoshError, CloudError, VMCreationFailed, VMNotFound

log = logging.getLogger("cpi.vm")

EPHEMERAL_PREFIX = "ephemeral-"


def ephemeral_name(vm_name: str) -> str:
    return EPHEMERAL_PREFIX + vm_name


def split_data_volumes(volumes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """A VM's data volumes as (ephemeral, persistent), from all its volumes (listVolumes virtualmachineid=...).

    Ephemeral: the volume create_vm made (named `ephemeral-<vm name>`), or the data disk CloudStack made in the VM's
    deploy job: CloudStack names those after the VM's database id, ROOT-<n> and DATA-<n> (VirtualMachineManagerImpl
    allocate), so it is the DATADISK named after the VM's own ROOT volume. Any other data volume is persistent.
    """
    deploy_disks = {"DATA-" + str(v.get("name"))[len("ROOT-"):] for v in volumes
                    if v.get("type") == "ROOT" and str(v.get("name", "")).startswith("ROOT-")}
    ephemeral: list[dict[str, Any]] = []
    persistent: list[dict[str, Any]] = []
    for volume in volumes:
        if volume.get("type") != "DATADISK":
            continue
        name = str(volume.get("name", ""))
        (ephemeral if name.startswith(EPHEMERAL_PREFIX) or name in deploy_disks else persistent).append(volume)
    return ephemeral, persistent


def vm_data_volumes(cloud: Cloud, vm_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ephemeral, persistent) data volumes attached to a VM."""
    return split_data_volumes(cloud.client.list("listVolumes", virtualmachineid=vm_id))


class _Created:
    """What create_vm made so far, for cleanup."""

    def __init__(self) -> None:
        self.vm_id: str | None = None
        self.vm_name: str | None = None
        self.volume_id: str | None = None
        self.nat_ip_id: str | None = None
        self.affinity_groups: list[dict[str, Any]] = []
        self.unsettled: str | None = None  # a job still running after the cleanup's wait: nothing was destroyed


def create_vm(cloud: Cloud, agent_id: str, stemcell_cid: str, cloud_properties: dict[str, Any],
              networks: dict[str, Any], disk_cids: list[Any] | None, environment: dict[str, Any] | None) -> Any:
    props = vm_properties(cloud_properties)
    zone = _zone(cloud, props, disk_cids or [])
    plan = netplan.plan_networks(networks, zone, cloud.config.default_security_groups)
    template = lookup.template(cloud, stemcell_cid, zone)
    params, ids = _deploy_params(cloud, props, zone, plan, template)
    network_ids = dict(zip((n.bosh_name for n in plan.nics), ids))
    ephemeral = _ephemeral_offering(cloud, props, zone)
    groups = affinity.wanted_groups(cloud, props.affinity_groups, props.affinity_group_type, environment)
    vm_tags = _bosh_tags(environment)
    hypervisor = template.get("hypervisor")
    vip_address = _public_ip(cloud, plan.vip[1]) if plan.vip else None
    multi_nic = len(plan.nics) > 1
    disk_at_deploy = ephemeral is not None and not multi_nic
    if disk_at_deploy:
        params.update(_deploy_disk_params(*ephemeral))

    created = _Created()
    created.vm_name = "vm-" + str(uuid.uuid4())
    def join_groups() -> None:
        params["affinitygroupids"] = affinity.ensure_groups(cloud, groups)
        created.affinity_groups = [{"id": i, "name": n} for i, (n, _) in zip(params["affinitygroupids"], groups)]

    try:
        if groups:
            join_groups()
        # the ephemeral disk is at device id 1 either way (see cpi/devices.py for why the path is the whole hint)
        ephemeral_hint = devices.disk_hint(hypervisor, devices.EPHEMERAL_DEVICE_ID) if ephemeral else None
        if ephemeral is not None and not disk_at_deploy:
            volume = _create_volume(cloud, ephemeral_name(created.vm_name), zone, *ephemeral)
            created.volume_id = volume["id"]

        def settings(bosh_networks: dict[str, Any], vm_id: str | None) -> str:
            return agent_settings.encode_userdata(agent_settings.build_settings(
                agent_id=agent_id, vm_name=created.vm_name or "", vm_id=vm_id, agent=cloud.config.agent,
                networks=bosh_networks, system_disk=devices.system_disk(hypervisor),
                ephemeral_disk=ephemeral_hint, environment=environment,
            ))

        try:
            vm = _deploy(cloud, created, params, userdata=settings(networks, None), start=not multi_nic)
        except CloudStackError as exc:
            if not (groups and affinity.went_away(exc)):
                raise
            # a group found or made above was deleted since (the cleanup of a concurrent create_vm or delete_vm
            # that saw it empty): find or make it again, once
            log.info("an affinity group went away before the deploy (%s); finding or making it again", exc)
            join_groups()
            vm = _deploy(cloud, created, params, userdata=settings(networks, None), start=not multi_nic)
        nics = netplan.match_nics(plan, vm.get("nic") or [], network_ids)
        result_networks = netplan.enrich_networks(networks, nics)
        if created.volume_id:
            cloud.run("attachVolume", "attach_volume", id=created.volume_id, virtualmachineid=vm["id"],
                      deviceid=devices.EPHEMERAL_DEVICE_ID)
        if multi_nic:
            cloud.client.call("updateVirtualMachine", id=vm["id"], userdata=settings(result_networks, vm["id"]))
            cloud.run("startVirtualMachine", "start_vm", id=vm["id"])
        if vip_address is not None:
            _static_nat(cloud, created, vip_address, vm, nics, plan)
        if vm_tags:
            cloud.run("createTags", "tags", resourceids=vm["id"], resourcetype="UserVm", tags=tags.encode(vm_tags))
    except Exception as exc:  # every failure: clean up, then VMCreationFailed
        error = translate(exc)
        _cleanup(cloud, created, exc)
        if created.unsettled:
            raise VMCreationFailed(f"create_vm failed: {error.message}; {created.unsettled}", ok_to_retry=False) from exc
        raise VMCreationFailed(f"create_vm failed: {error.message}", ok_to_retry=_retryable(exc)) from exc
    log.info("created VM %s (%s) in zone %s", vm["id"], created.vm_name, zone.name)
    if cloud.request.api_version >= 2:
        return [vm["id"], result_networks]
    return vm["id"]


def _zone(cloud: Cloud, props: VMProperties, disk_cids: list[Any]) -> netplan.Zone:
    """The zone from cloud_properties / the default, which the persistent disks (placement hint) must share."""
    zone = cloud.zone(props.zone)
    for disk_cid in disk_cids:
        volume = cloud.volume(str(disk_cid)) if isinstance(disk_cid, str) else None
        if volume and volume.get("zoneid") != zone.id:
            if props.zone:
                raise CloudError(f"disk {disk_cid} is in zone {volume.get('zonename')}, not in {zone.name}")
            zone = cloud.zone_by_id(volume["zoneid"])
    return zone


def _deploy_params(cloud: Cloud, props: VMProperties, zone: netplan.Zone, plan: netplan.NetworkPlan,
                   template: dict[str, Any]) -> tuple[dict[str, Any], list[str | None]]:
    """deployVirtualMachine parameters, and the CloudStack network id of each planned NIC (None in Basic zones)."""
    params: dict[str, Any] = {"zoneid": zone.id, "templateid": template["id"]}
    if props.compute_offering:
        offering = lookup.compute_offering(cloud, props.compute_offering, zone)
    else:
        offering = lookup.custom_compute_offering(cloud, zone)
    params["serviceofferingid"] = offering["id"]
    if offering.get("iscustomized"):
        if props.cpu is None or props.ram is None:
            raise CloudError(f"compute offering {offering['name']!r} is custom: set cpu and ram in cloud_properties")
        params["details"] = {
            "cpuNumber": str(props.cpu),
            "cpuSpeed": str(props.cpu_speed or cloud.config.custom_cpu_speed),
            "memory": str(props.ram),
        }
    key_name = props.key_name or cloud.config.default_key_name
    if key_name:
        params["keypair"] = lookup.keypair(cloud, key_name)
    if props.root_disk_size:
        params["rootdisksize"] = lookup.size_gib(props.root_disk_size)
    groups = props.security_groups + tuple(g for g in plan.security_groups if g not in props.security_groups)
    if groups:
        if not zone.security_groups:
            raise CloudError(f"security groups {', '.join(groups)} requested but zone {zone.name} ({zone.kind}) has none")
        params["securitygroupids"] = lookup.security_group_ids(cloud, groups)
    ids: list[str | None]
    if zone.basic or (len(plan.nics) == 1 and plan.default_nic.cs_network is None):
        # Basic zone, or one NIC on the account's default network (CloudStack picks or creates it)
        ids = [None]
        if plan.default_nic.ip:
            params["ipaddress"] = plan.default_nic.ip
        if not zone.basic and not zone.security_groups:
            default = lookup.account_default_network(cloud, zone)
            if default is not None:
                _check_user_data(default)
    else:
        found = lookup.networks(cloud, zone, [n.cs_network for n in plan.nics])
        _check_user_data(found[0])
        ids = [network["id"] for network in found]
        entries = []
        for nic, network_id in zip(plan.nics, ids):
            entry = {"networkid": network_id}
            if nic.ip:
                entry["ip"] = nic.ip
            entries.append(entry)
        params["iptonetworklist"] = entries
    return params, ids


def _check_user_data(network: dict[str, Any]) -> None:
    """The agent on the CloudStack stemcell reads its settings only over HTTP from the virtual router's user-data
    (bosh-linux-stemcell-builder's CloudStack agent.json has the HTTP metadata source alone, no config drive): on
    the default NIC's network without the UserData service it would never start. Checked for a named network and
    for the account's default network of an Advanced zone; Basic and security-group zones' shared networks have
    UserData (DefaultSharedNetworkOfferingWithSGService)."""
    services = {s.get("name") for s in network.get("service") or []}
    if services and "UserData" not in services:
        raise CloudError(
            f"network {network.get('name')!r} (offering {network.get('networkofferingname')!r}) offers no UserData "
            "service: the BOSH agent reads its settings from the user-data of its default NIC's network, so it "
            "would never start; put the default network (the one with the gateway) on a network whose offering "
            "has UserData")


def _bosh_tags(environment: dict[str, Any] | None) -> dict[str, str]:
    """`environment.bosh.tags` (the deployment's tags), as CloudStack tags."""
    bosh = (environment or {}).get("bosh")
    wanted = bosh.get("tags") if isinstance(bosh, dict) else None
    return tags.normalise(wanted) if isinstance(wanted, dict) else {}


def _ephemeral_offering(cloud: Cloud, props: VMProperties,
                        zone: netplan.Zone) -> tuple[dict[str, Any], int | None] | None:
    """(offering, GiB or None) of the ephemeral data disk, or None when the VM gets none."""
    if not props.wants_ephemeral_disk:
        return None
    name = props.ephemeral_disk_offering or cloud.config.default_ephemeral_disk_offering
    if props.ephemeral_disk_size is None:
        offering = lookup.disk_offering(cloud, name or "", zone)
        if offering.get("iscustomized"):
            raise CloudError(f"ephemeral disk offering {offering['name']!r} is custom: set cloud_properties.disk (MiB)")
        return offering, None
    return lookup.disk_offering_for(cloud, props.ephemeral_disk_size, name, zone)


def _deploy_disk_params(offering: dict[str, Any], size: int | None) -> dict[str, Any]:
    """The ephemeral disk as deployVirtualMachine's data disk: `size` (GiB) only with a custom offering, as
    createVolume takes it (CloudStack refuses a size for a fixed offering and requires one for a custom one)."""
    return {"diskofferingid": offering["id"], **({"size": size} if size is not None else {})}


def _create_volume(cloud: Cloud, name: str, zone: netplan.Zone, offering: dict[str, Any], size: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {"name": name, "zoneid": zone.id, "diskofferingid": offering["id"]}
    if size is not None:
        params["size"] = size
    return cloud.create("createVolume", "create_volume", "volume",
                        lambda: cloud.client.find_one("listVolumes", name=name, zoneid=zone.id), **params)


def _deploy(cloud: Cloud, created: _Created, params: dict[str, Any], *, userdata: str, start: bool) -> dict[str, Any]:
    name = created.vm_name

    def find() -> dict[str, Any] | None:
        return cloud.client.find_one("listVirtualMachines", name=name, zoneid=params["zoneid"])

    try:
        vm = cloud.create("deployVirtualMachine", "create_vm", "virtualmachine", find, name=name, displayname=name,
                          userdata=userdata, startvm=str(start).lower(), **params)
    except Exception:
        found = _quiet(find)  # the job may have made a VM before failing or timing out
        if found:
            created.vm_id = found["id"]
        raise
    created.vm_id = vm["id"]
    return vm


def _public_ip(cloud: Cloud, address: str) -> dict[str, Any]:
    addresses = cloud.client.list("listPublicIpAddresses", ipaddress=address)
    for item in addresses:
        if item.get("ipaddress") == address:
            if item.get("issourcenat"):
                raise CloudError(f"vip {address} is the source NAT address of network "
                                 f"{item.get('associatednetworkname')}; static NAT needs another acquired public IP")
            return item
    acquired = ", ".join(sorted(a.get("ipaddress", "?") for a in cloud.client.list("listPublicIpAddresses"))) or "(none)"
    raise CloudError(f"vip {address} is not a public IP of this account; acquire it first (acquired: {acquired})")


def _static_nat(cloud: Cloud, created: _Created, address: dict[str, Any], vm: dict[str, Any],
                nics: dict[str, dict[str, Any]], plan: netplan.NetworkPlan) -> None:
    """Point the public IP at the VM; a static NAT held by another VM (e.g. the one being replaced) is moved."""
    holder = address.get("virtualmachineid")
    if address.get("isstaticnat") and holder and holder != vm["id"]:
        log.info("vip %s is NATed to VM %s; re-pointing it", address["ipaddress"], holder)
        cloud.run("disableStaticNat", "static_nat", ipaddressid=address["id"])
    network_id = address.get("associatednetworkid")
    vm_networks = {nic.get("networkid") for nic in nics.values()}
    if network_id not in vm_networks:
        network_id = nics[plan.default_nic.bosh_name].get("networkid")
    cloud.client.call("enableStaticNat", ipaddressid=address["id"], virtualmachineid=vm["id"], networkid=network_id)
    created.nat_ip_id = address["id"]


def _retryable(exc: BaseException) -> bool:
    """Whether another create_vm may succeed: capacity, timeouts, lost connections and job failures may pass; a
    refused parameter (4xx) or a bad manifest will not."""
    if isinstance(exc, BoshError):
        return exc.ok_to_retry
    if isinstance(exc, (JobTimeoutError, OutcomeUnknownError, JobFailedError)):
        return True
    if isinstance(exc, CloudStackError):
        return exc.errorcode is None or exc.errorcode >= 500 or exc.errorcode == 429
    return False


def _quiet(action: Any, attempts: int = 3) -> Any:
    """Run a cleanup step, retrying a little: cleanup must go on whatever else fails."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except Exception as exc:
            log.warning("cleanup step failed (attempt %d of %d): %s", attempt, attempts, exc)
            time.sleep(0.2 * attempt)
    return None


def _settle(cloud: Cloud, created: _Created, failure: BaseException) -> bool:
    """Wait for the job of a step that timed out (CloudStack has no API to cancel a job): destroying the VM while
    its deploy (or start, attach...) job still runs races that job. False, with `created.unsettled` saying what is
    left, when the job is still running after the delete_vm timeout."""
    if not isinstance(failure, JobTimeoutError) or not failure.jobid:
        return True
    log.info("waiting for job %s (%s) before cleaning up", failure.jobid, failure.command)
    try:
        cloud.client.wait_job(failure.jobid, command=failure.command or "async job", operation=failure.operation,
                              timeout=cloud.config.timeout("delete_vm"))
    except JobTimeoutError:
        created.unsettled = (f"its job {failure.jobid} ({failure.command}) is still running, so nothing was "
                             f"destroyed (a destroy now would race it): delete VM {created.vm_name} "
                             f"({created.vm_id or 'id unknown'}) once the job has ended")
        return False
    except CloudStackError as exc:  # failed: CloudStack undid its part (a failed deploy destroys the VM's volumes)
        log.info("job %s ended: %s", failure.jobid, exc)
    if created.vm_id is None and created.vm_name:  # the VM may exist now that the job ended
        found = _quiet(lambda: cloud.client.find_one("listVirtualMachines", name=created.vm_name))
        if found:
            created.vm_id = found["id"]
    return True


def _cleanup(cloud: Cloud, created: _Created, failure: BaseException) -> None:
    if not _settle(cloud, created, failure):
        return
    _undo(cloud, created)
    if created.affinity_groups:
        affinity.delete_if_empty(cloud, created.affinity_groups)


def _undo(cloud: Cloud, created: _Created) -> None:
    if created.nat_ip_id:
        _quiet(lambda: cloud.run("disableStaticNat", "static_nat", ipaddressid=created.nat_ip_id))
    doomed = [created.volume_id] if created.volume_id else []
    vm_id = created.vm_id
    if vm_id:  # its ephemeral disk (the deploy job's, or the volume attached already) goes in the same job
        found = _quiet(lambda: vm_data_volumes(cloud, vm_id))
        attached = [v["id"] for v in found[0]] if found else []
        _quiet(lambda: _destroy(cloud, vm_id, attached))
        doomed = [volume_id for volume_id in doomed if volume_id not in attached]
    for volume_id in doomed:  # a volume made for a VM that never got it
        _quiet(lambda volume_id=volume_id: _delete_volume(cloud, volume_id))


def _destroy(cloud: Cloud, vm_id: str, volume_ids: list[str]) -> None:
    """Destroy a VM, expunging it when configured (so its name and IPs are free at once), and delete the attached
    data volumes `volume_ids` (its ephemeral disk) in the same job: no failure can leave the VM gone but its
    ephemeral disk behind, unknown to a retried delete_vm."""
    params: dict[str, Any] = {"id": vm_id}
    if cloud.config.expunge:
        params["expunge"] = "true"
    if volume_ids:
        params["volumeids"] = volume_ids
    cloud.run("destroyVirtualMachine", "delete_vm", **params)


def _delete_volume(cloud: Cloud, volume_id: str) -> None:
    volume = cloud.volume(volume_id)
    if volume is None:
        return
    if volume.get("virtualmachineid"):
        cloud.run("detachVolume", "detach_volume", id=volume_id)
    cloud.client.call("deleteVolume", id=volume_id)


def delete_vm(cloud: Cloud, vm_cid: str) -> None:
    vm = cloud.client.get_by_id("listVirtualMachines", vm_cid)
    if vm is None or vm.get("state") in ("Expunging", "Expunged"):
        log.info("VM %s is already gone", vm_cid)
        return
    if vm.get("state") == "Destroyed":
        if cloud.config.expunge:  # left behind without expunge (e.g. by an older CPI): finish the job
            cloud.run("expungeVirtualMachine", "delete_vm", id=vm_cid)
        return
    for address in cloud.client.list("listPublicIpAddresses", isstaticnat="true"):
        if address.get("virtualmachineid") == vm_cid:
            cloud.run("disableStaticNat", "static_nat", ipaddressid=address["id"])
    ephemeral, persistent = vm_data_volumes(cloud, vm_cid)
    for volume in persistent:  # a persistent disk the director did not detach: keep it
        cloud.run("detachVolume", "detach_volume", id=volume["id"])
    _destroy(cloud, vm_cid, [v["id"] for v in ephemeral])
    if cloud.config.expunge:  # a destroyed VM stays in its groups until it is expunged
        affinity.delete_if_empty(cloud, vm.get("affinitygroup") or [])


def has_vm(cloud: Cloud, vm_cid: str) -> bool:
    return cloud.vm(vm_cid) is not None


def reboot_vm(cloud: Cloud, vm_cid: str) -> None:
    vm = cloud.vm(vm_cid)
    if vm is None:
        raise VMNotFound(f"VM {vm_cid} not found")
    if vm.get("state") == "Stopped":
        cloud.run("startVirtualMachine", "start_vm", id=vm_cid)
    else:
        cloud.run("rebootVirtualMachine", "reboot_vm", id=vm_cid)
