"""Work on one VM is serialised, as CloudStack runs it as VM work jobs on the VM's sync queue: a second operation
on a VM waits (its job pending) until the first is done, and its duration starts then; VMs do not wait for each
other; a failed job lets the next one run. Realistic latency at a small time scale, through `cs` over HTTP."""
from __future__ import annotations

import time
from typing import Any

import pytest
from cs import CloudStack

from .compute import unique

SCALE = 0.1                  # deploy 6 s, stop 2 s, attach and detach 0.5 s each
# Bounds below leave half an attach (0.25 s) of slack for a loaded machine: polls can notice a finish late.
ATTACH = 5.0 * SCALE
DEPLOY = 60.0 * SCALE


class Jobs:
    """Submits through a raw `cs` client and notes when each job is first seen finished."""

    def __init__(self, client: CloudStack) -> None:
        self.client = client
        self.submitted: dict[str, float] = {}
        self.done: dict[str, float] = {}
        self.results: dict[str, dict[str, Any]] = {}

    def submit(self, command: str, **params: Any) -> str:
        answer = getattr(self.client, command)(**params)
        self.submitted[answer["jobid"]] = time.monotonic()
        return answer["jobid"]

    def status(self, jobid: str) -> int:
        return self.client.queryAsyncJobResult(jobid=jobid)["jobstatus"]

    def wait(self, *jobids: str, timeout: float = 15.0) -> None:
        """Poll every job until all are finished, noting the moment each was first seen finished."""
        deadline = time.monotonic() + timeout
        while any(j not in self.done for j in jobids):
            assert time.monotonic() < deadline, "jobs still pending"
            for jobid in jobids:
                if jobid in self.done:
                    continue
                answer = self.client.queryAsyncJobResult(jobid=jobid)
                if answer["jobstatus"] != 0:
                    self.done[jobid] = time.monotonic()
                    self.results[jobid] = answer
            time.sleep(0.01)

    def took(self, jobid: str) -> float:
        return self.done[jobid] - self.submitted[jobid]


@pytest.fixture
def slow(sim_factory):
    running = sim_factory(latency="realistic", time_scale=SCALE)
    client = running.cs()
    zone = client.listZones(name="Sim-Basic")["zone"][0]
    template = next(t for t in client.listTemplates(templatefilter="featured", zoneid=zone["id"])["template"]
                    if t["name"] == "Ubuntu 22.04 LTS")
    offering = client.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    disk = client.listDiskOfferings(name="Small")["diskoffering"][0]

    class Slow:
        jobs = Jobs(client)
        sim = running

        def deploy_job(self, **params: Any) -> tuple[str, str]:
            """(vm id, job id) of a deploy just submitted."""
            answer = client.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"],
                                                 serviceofferingid=offering["id"], name=unique("vm"), **params)
            self.jobs.submitted[answer["jobid"]] = time.monotonic()
            return answer["id"], answer["jobid"]

        def running_vms(self, count: int, **params: Any) -> list[str]:
            """VMs deployed side by side and waited for."""
            deploys = [self.deploy_job(**params) for _ in range(count)]
            self.jobs.wait(*(job for _, job in deploys))
            return [vm for vm, _ in deploys]

        def volumes(self, count: int) -> list[str]:
            made = [client.createVolume(name=unique("vol"), zoneid=zone["id"], diskofferingid=disk["id"])
                    for _ in range(count)]
            self.jobs.wait(*(m["jobid"] for m in made))
            return [m["id"] for m in made]

        def disk_id(self) -> str:
            return disk["id"]

    return Slow()


def test_an_attach_waits_for_the_deploy_of_its_vm(slow):
    [volume] = slow.volumes(1)
    vm, deploy = slow.deploy_job()
    attach = slow.jobs.submit("attachVolume", id=volume, virtualmachineid=vm)
    time.sleep(ATTACH * 2)
    # The attach's own duration has passed, but it waits behind the VM's start: pending, the volume unattached.
    assert slow.jobs.status(attach) == 0 and slow.jobs.status(deploy) == 0
    assert "virtualmachineid" not in slow.jobs.client.listVolumes(id=volume)["volume"][0]
    slow.jobs.wait(deploy, attach)
    result = slow.jobs.results[attach]
    assert result["jobstatus"] == 1, result
    assert result["jobresult"]["volume"]["vmstate"] == "Running"
    assert slow.jobs.done[attach] - slow.jobs.done[deploy] >= ATTACH * 0.5
    assert slow.jobs.done[attach] - slow.jobs.submitted[deploy] >= DEPLOY + ATTACH * 0.5


def test_work_on_one_vm_runs_in_order_while_other_vms_overlap(slow):
    first_vm, other_vm = slow.running_vms(2, diskofferingid=slow.disk_id())
    volume, other_volume = slow.volumes(2)
    data = next(v["id"] for v in slow.jobs.client.listVolumes(virtualmachineid=first_vm)["volume"]
                if v["type"] == "DATADISK")
    attach = slow.jobs.submit("attachVolume", id=volume, virtualmachineid=first_vm)
    detach = slow.jobs.submit("detachVolume", id=data)
    elsewhere = slow.jobs.submit("attachVolume", id=other_volume, virtualmachineid=other_vm)
    slow.jobs.wait(attach, detach, elsewhere)
    assert all(slow.jobs.results[j]["jobstatus"] == 1 for j in (attach, detach, elsewhere))
    # One VM: the detach started when the attach ended.
    assert slow.jobs.done[detach] - slow.jobs.done[attach] >= ATTACH * 0.5
    assert slow.jobs.took(detach) >= 2 * ATTACH - ATTACH * 0.5
    # Another VM: its attach ran beside the first VM's, not after its queue.
    assert slow.jobs.done[detach] - slow.jobs.done[elsewhere] >= ATTACH * 0.5


def test_a_failed_job_does_not_block_the_next_one(slow):
    [vm] = slow.running_vms(1)
    bad, good = slow.volumes(2)
    refused = slow.jobs.submit("attachVolume", id=bad, virtualmachineid=vm, deviceid=3)
    after = slow.jobs.submit("attachVolume", id=good, virtualmachineid=vm)
    slow.jobs.wait(refused, after)
    failed = slow.jobs.results[refused]
    assert (failed["jobstatus"], failed["jobresult"]["errortext"]) == (2, "deviceId should be 0,1,2,4-7")
    succeeded = slow.jobs.results[after]
    assert succeeded["jobstatus"] == 1 and succeeded["jobresult"]["volume"]["deviceid"] == 1
    assert slow.jobs.done[after] - slow.jobs.done[refused] >= ATTACH * 0.5


def test_a_stop_queued_behind_an_attach_leaves_the_vm_running_until_its_turn(slow):
    [vm] = slow.running_vms(1)
    [volume] = slow.volumes(1)
    attach = slow.jobs.submit("attachVolume", id=volume, virtualmachineid=vm)
    stop = slow.jobs.submit("stopVirtualMachine", id=vm)
    assert slow.jobs.client.listVirtualMachines(id=vm)["virtualmachine"][0]["state"] == "Running"
    slow.jobs.wait(attach)
    attached = slow.jobs.results[attach]
    assert attached["jobstatus"] == 1 and attached["jobresult"]["volume"]["vmstate"] == "Running"
    assert slow.jobs.client.listVirtualMachines(id=vm)["virtualmachine"][0]["state"] == "Stopping"
    slow.jobs.wait(stop)
    assert slow.jobs.results[stop]["jobresult"]["virtualmachine"]["state"] == "Stopped"


def test_a_clean_stop_finishes_queued_work_in_order(slow):
    [volume] = slow.volumes(1)
    vm, deploy = slow.deploy_job()
    attach = slow.jobs.submit("attachVolume", id=volume, virtualmachineid=vm)
    stop = slow.jobs.submit("stopVirtualMachine", id=vm)
    slow.sim.restart()        # SIGTERM: pending and queued jobs are finished before the state is saved
    client = slow.sim.cs()
    answers = [client.queryAsyncJobResult(jobid=j) for j in (deploy, attach, stop)]
    assert [a["jobstatus"] for a in answers] == [1, 1, 1], answers
    assert answers[1]["jobresult"]["volume"]["vmstate"] == "Running"
    assert client.listVirtualMachines(id=vm)["virtualmachine"][0]["state"] == "Stopped"
    assert client.listVolumes(id=volume)["volume"][0]["virtualmachineid"] == vm
