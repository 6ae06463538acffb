"""API calls per CPI method, from the simulator's call log, next to what the Orange Go CPI sends
(orange-cloudfoundry/bosh-cpi-cloudstack, action/*.go), plus job polling: queryAsyncJobResult calls per async job and the CPI's wall time.

Usage: .venv/bin/python bench/cpi_api_calls.py [--latency instant|realistic] [--time-scale F]
"""
from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from simulator.process import RunningSimulator  # noqa: E402
from tests.cpi.cpi_runner import ok, write_config  # noqa: E402
from tests.cpi.fixtures import STEMCELL_PROPERTIES, make_image  # noqa: E402

GO_CPI = {
    "create_stemcell": "getUploadParamsForTemplate, POST, listTemplates (poll every 5 s)",
    "create_vm": "list offerings/template/zone, deployVirtualMachine, createVolume, attachVolume (+ static NAT)",
    "create_vm + ephemeral": "list offerings/template/zone, deployVirtualMachine, createVolume, attachVolume",
    "delete_vm + ephemeral": "stopVirtualMachine, listVolumes, detachVolume, deleteVolume, destroyVirtualMachine",
    "delete_vm": "stopVirtualMachine, listVolumes, detachVolume, deleteVolume, destroyVirtualMachine(expunge)",
    "create_disk": "listDiskOfferings, createVolume",
    "attach_disk": "listVolumes, attachVolume",
    "detach_disk": "listVolumes, detachVolume",
    "snapshot_disk": "createSnapshot",
    "delete_disk": "deleteVolume",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency", default="instant")
    parser.add_argument("--time-scale", type=float, default=0.01)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        sim = RunningSimulator(work / "sim", {"latency": args.latency, "time_scale": args.time_scale}).start()
        try:
            config = write_config(work / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
            image, _ = make_image(work)
            rows = []

            def measure(method: str, *arguments, label: str | None = None):
                start, started = len(sim.calls()), time.perf_counter()
                result = ok(config, method, *arguments)
                elapsed = time.perf_counter() - started
                calls = sim.calls()[start:]
                counts = collections.Counter(c["command"] for c in calls)
                polls = counts.pop("queryAsyncJobResult", 0)
                jobs = sum(1 for c in calls if c.get("jobid") and c["command"] != "queryAsyncJobResult")
                rows.append((label or method, sum(counts.values()), jobs, polls, elapsed, ", ".join(counts)))
                return result

            stemcell = measure("create_stemcell", str(image), STEMCELL_PROPERTIES)
            network = {"default": {"type": "dynamic", "default": ["dns", "gateway"]}}
            vm, _ = measure("create_vm", "agent", stemcell, {"compute_offering": "Small Instance"}, network, [], {})
            with_disk, _ = measure("create_vm", "agent", stemcell, {"compute_offering": "Small Instance", "disk": 1024},
                                   network, [], {}, label="create_vm + ephemeral")  # 1 NIC: one deploy job
            measure("set_vm_metadata", vm, {"deployment": "bench", "name": "bench/0"})
            disk = measure("create_disk", 1024, {}, vm)
            measure("attach_disk", vm, disk)
            snapshot = measure("snapshot_disk", disk, {})
            measure("delete_snapshot", snapshot)
            measure("detach_disk", vm, disk)
            measure("delete_disk", disk)
            measure("delete_vm", vm)
            measure("delete_vm", with_disk, label="delete_vm + ephemeral")
            measure("delete_stemcell", stemcell)
        finally:
            sim.stop()
    print(f"simulator latency={args.latency} time_scale={args.time_scale}")
    print(f"{'method':<22} {'calls':>5} {'jobs':>4} {'polls':>5} {'wall s':>7}  commands (ours) | Go CPI")
    for method, calls, jobs, polls, elapsed, commands in rows:
        print(f"{method:<22} {calls:>5} {jobs:>4} {polls:>5} {elapsed:>7.2f}  {commands} | {GO_CPI.get(method, '-')}")


if __name__ == "__main__":
    main()
