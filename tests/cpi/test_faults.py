"""Fault injection: with the simulator failing a share of requests (5xx, 429, dropped connections before and after
the work, failed jobs, slow answers), every CPI call ends in a result or a proper BOSH error, and after cleaning up
through the CPI nothing is left behind. The work runs as a few parallel streams, each with a simulator of its own."""
from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.cpi.cpi_runner import call, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, make_image, own

BOSH_ERRORS = {"Bosh::Clouds::CloudError", "Bosh::Clouds::VMCreationFailed", "Bosh::Clouds::VMNotFound",
               "Bosh::Clouds::DiskNotFound", "Bosh::Clouds::DiskNotAttached", "Bosh::Clouds::NotSupported"}
ROUNDS = 16       # VM rounds in all, shared out among the streams
STREAMS = 4
SEED = 20240611


class Recorder:
    def __init__(self, config: Path) -> None:
        self.config = config
        self.calls = 0
        self.errors: dict[str, int] = {}

    def __call__(self, method: str, *arguments: Any) -> tuple[bool, Any]:
        self.calls += 1
        response = call(self.config, method, *arguments)
        error = response["error"]
        if error is None:
            return True, response["result"]
        assert error["type"] in BOSH_ERRORS, f"{method}: {error}"
        assert isinstance(error["message"], str) and error["message"] and isinstance(error["ok_to_retry"], bool)
        assert "Traceback" not in error["message"]
        self.errors[error["type"]] = self.errors.get(error["type"], 0) + 1
        return False, None

    def until_ok(self, method: str, *arguments: Any, attempts: int = 12) -> Any:
        for _ in range(attempts):
            done, result = self(method, *arguments)
            if done:
                return result
        raise AssertionError(f"{method} never succeeded in {attempts} attempts")


def drive(sim, config: Path, image: Path, rounds: range) -> Recorder:
    """One stream of BOSH-like work against one simulator: a stemcell, then per round a VM (every other one with an
    ephemeral disk, made in its deploy job) with a persistent disk, a snapshot, metadata and deletions; then cleanup
    through the CPI (deletes are idempotent, so each is repeated until it succeeds) and a check that nothing of the
    stream is left in the simulator."""
    cpi = Recorder(config)
    stemcell = cpi.until_ok("create_stemcell", str(image), STEMCELL_PROPERTIES)
    vms: set[str] = set()
    disks: set[str] = set()
    snapshots: set[str] = set()
    network = {"default": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}
    for round_ in rounds:
        props = {"compute_offering": "Small Instance", **({"disk": 1024} if round_ % 2 else {})}  # ephemeral disk
        done, created = cpi("create_vm", f"agent-{round_}", stemcell, props, network, [], {})
        if not done:
            continue
        vm = created[0]
        vms.add(vm)
        done, disk = cpi("create_disk", 1024, {}, vm)
        if done:
            disks.add(disk)
            if cpi("attach_disk", vm, disk)[0]:
                done, snapshot = cpi("snapshot_disk", disk, {"round": round_})
                if done:
                    snapshots.add(snapshot)
                    if cpi("delete_snapshot", snapshot)[0]:
                        snapshots.discard(snapshot)
                cpi("detach_disk", vm, disk)
            if cpi("delete_disk", disk)[0]:
                disks.discard(disk)
        cpi("set_vm_metadata", vm, {"deployment": "faults", "index": str(round_)})
        if cpi("delete_vm", vm)[0]:
            vms.discard(vm)

    for snapshot in snapshots:
        cpi.until_ok("delete_snapshot", snapshot)
    for vm in vms:
        cpi.until_ok("delete_vm", vm)  # persistent disks still attached survive, detached
    for disk in disks:
        cpi.until_ok("delete_disk", disk)
    cpi.until_ok("delete_stemcell", stemcell)

    resources = sim.resources()
    leaked = {kind: [r["id"] for r in own(resources, kind)] for kind in ("virtualmachine", "volume", "snapshot", "template")}
    assert leaked == {"virtualmachine": [], "volume": [], "snapshot": [], "template": []}, (leaked, cpi.errors)
    return cpi


def test_faults_end_in_results_or_bosh_errors_and_nothing_leaks(sim_factory, tmp_path: Path) -> None:
    # Independent streams in parallel, each against its own simulator with its own fault seed: the faults each
    # stream meets stay reproducible (one client per simulator draws them in a fixed order) while the time spent
    # waiting for the cloud (job polls, throttling pauses, slow answers) overlaps.
    image, _ = make_image(tmp_path, seed=31)
    streams = []
    for i in range(STREAMS):
        sim = sim_factory(fault_rate=0.05, seed=SEED + i)
        config = write_config(tmp_path / f"cpi-{i}.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
        streams.append((sim, config, image, range(i, ROUNDS, STREAMS)))
    with ThreadPoolExecutor(max_workers=STREAMS) as pool:
        recorders = list(pool.map(lambda stream: drive(*stream), streams))
    calls = sum(cpi.calls for cpi in recorders)
    errors = Counter()
    for cpi in recorders:
        errors.update(cpi.errors)
    assert calls >= 100, calls
    assert errors, "the faults should have made some calls fail"
