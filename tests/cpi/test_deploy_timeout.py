"""Jobs that outlive their timeout, through the executable against a simulator with cloud-like durations: create_vm's
cleanup must not race the deploy job that is still running (CloudStack cannot cancel it): destroying at once lets the
job finish after the destroy and leave a running VM behind; waiting for the job first leaves nothing. create_disk
must not answer an error while its createVolume job goes on to make the disk."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, make_image, own

TIME_SCALE = 0.05  # deploy: 60 s x 0.05 = 3 s; destroy 0.5 s
DEPLOY_SECONDS = 60 * TIME_SCALE
NETWORKS = {"d": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}


def _settle(sim: Any) -> None:
    """Until no job of the simulator is running (polled through the API, as a client sees it)."""
    deadline = time.monotonic() + 4 * DEPLOY_SECONDS + 10
    while time.monotonic() < deadline:
        jobs = sim.cs().listAsyncJobs().get("asyncjobs", [])
        if all(job["jobstatus"] != 0 for job in jobs):
            return
        time.sleep(0.2)
    raise AssertionError("simulator jobs still running")


@pytest.fixture
def slow(sim_factory, tmp_path: Path) -> tuple[Any, str]:
    sim = sim_factory(latency="realistic", time_scale=TIME_SCALE)
    setup = write_config(tmp_path / "setup.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    image, _ = make_image(tmp_path, seed=71)
    return sim, ok(setup, "create_stemcell", str(image), STEMCELL_PROPERTIES)


@pytest.mark.parametrize("expunge", [False, True])
def test_timed_out_deploy_is_waited_for_then_destroyed_leaving_nothing(slow, tmp_path: Path, expunge: bool) -> None:
    sim, stemcell = slow
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", expunge=expunge,
                          timeouts={"create_vm": DEPLOY_SECONDS / 3})
    started = time.monotonic()
    err = error(config, "create_vm", "agent", stemcell, {"compute_offering": "Small Instance", "disk": 1024},
                NETWORKS, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed" and err["ok_to_retry"] is True
    assert "did not finish within" in err["message"]
    answered = time.monotonic() - started
    _settle(sim)
    live = [vm for vm in own(sim.resources(), "virtualmachine") if vm["state"] not in ("Destroyed", "Expunging")]
    assert live == [], "the deploy finished after the cleanup: a VM leaked"
    volumes = [v for v in own(sim.resources(), "volume") if v["type"] == "DATADISK"]
    assert volumes == [], "the ephemeral disk leaked"
    if expunge:
        assert own(sim.resources(), "virtualmachine") == []
    assert answered >= DEPLOY_SECONDS  # the cleanup waited for the deploy job to end


def test_a_deploy_outlasting_the_cleanups_wait_is_reported_not_raced(slow, tmp_path: Path) -> None:
    sim, stemcell = slow
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic",
                          timeouts={"create_vm": DEPLOY_SECONDS / 6, "delete_vm": DEPLOY_SECONDS / 6})
    err = error(config, "create_vm", "agent", stemcell, {"compute_offering": "Small Instance"}, NETWORKS, [], {})
    assert err["type"] == "Bosh::Clouds::VMCreationFailed" and err["ok_to_retry"] is False
    assert "is still running, so nothing was destroyed" in err["message"] and "delete VM vm-" in err["message"]
    _settle(sim)
    [vm] = [vm for vm in own(sim.resources(), "virtualmachine") if vm["state"] == "Running"]
    assert vm["name"] in err["message"] and vm["id"] in err["message"]
    ok(config, "delete_vm", vm["id"])  # what the message asks for, and it works


def test_create_disk_waits_out_a_timed_out_volume_job_instead_of_leaking_the_disk(slow, tmp_path: Path) -> None:
    """createVolume's job outlives create_volume's timeout: answering an error would leave a disk the Director
    never hears of; the CPI waits for the job once more and answers with the disk."""
    sim, stemcell = slow
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic",
                          timeouts={"create_volume": 0.02})  # the job takes 2 s x 0.05 = 0.1 s
    disk = ok(config, "create_disk", 1024, {}, None)
    _settle(sim)
    assert [v["id"] for v in own(sim.resources(), "volume") if v["type"] == "DATADISK"] == [disk]
    ok(config, "delete_disk", disk)
    assert [v for v in own(sim.resources(), "volume") if v["type"] == "DATADISK"] == []


def test_snapshot_disk_waits_out_a_timed_out_snapshot_job_instead_of_leaking_it(slow, tmp_path: Path) -> None:
    sim, stemcell = slow
    setup = write_config(tmp_path / "setup.json", sim, default_zone="Sim-Basic")
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic",
                          timeouts={"snapshot_volume": 0.2})  # the job takes 30 s x 0.05 = 1.5 s
    vm_cid, _ = ok(setup, "create_vm", "agent", stemcell, {"compute_offering": "Small Instance"}, NETWORKS, [], {})
    disk = ok(setup, "create_disk", 1024, {}, vm_cid)
    ok(setup, "attach_disk", vm_cid, disk)
    snapshot = ok(config, "snapshot_disk", disk, {"deployment": "d"})
    _settle(sim)
    assert [s["id"] for s in own(sim.resources(), "snapshot")] == [snapshot]
    ok(setup, "delete_snapshot", snapshot)
    ok(setup, "detach_disk", vm_cid, disk)
    ok(setup, "delete_disk", disk)
    ok(setup, "delete_vm", vm_cid)
