"""32 `cloudstack-cpi` processes at once against one simulator, as a director with many workers runs them. No
faults are injected, so every call must succeed (a stricter bar than "a result or a proper BOSH error"; the fault
test covers errors), nothing is made twice and nothing leaks."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.cpi.cpi_runner import call, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own

PROCESSES = 32
VMS = 6
NETWORKS = {"default": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}


def at_once(requests: list[tuple[str, list[Any]]], config: Path) -> list[Any]:
    """Run one CPI process per request, all started together; the results in request order."""
    barrier = threading.Barrier(len(requests))

    def run(request: tuple[str, list[Any]]) -> Any:
        method, arguments = request
        barrier.wait()
        response = call(config, method, *arguments)   # checks the process contract: exit 0, one JSON answer
        assert response["error"] is None, f"{method} failed under concurrency: {response['error']}"
        return response["result"]

    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        return list(pool.map(run, requests))


def ids(resources: dict[str, Any], kind: str, where: Callable[[dict[str, Any]], bool] = lambda r: True) -> list[str]:
    return sorted(r["id"] for r in own(resources, kind) if where(r))


def test_32_processes_at_once_make_each_thing_once_and_leak_nothing(sim_factory, tmp_path: Path) -> None:
    sim = sim_factory()
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")

    disks = at_once([("create_disk", [1024 + i, {}, None]) for i in range(PROCESSES)], config)
    assert len(set(disks)) == PROCESSES
    assert ids(sim.resources(), "volume") == sorted(disks)  # exactly one volume per call, no stray duplicate
    assert at_once([("delete_disk", [disk]) for disk in disks], config) == [None] * PROCESSES
    assert ids(sim.resources(), "volume") == []

    image, _ = make_image(tmp_path, seed=61)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    created = at_once([("create_vm", [f"agent-{i}", stemcell, {"compute_offering": "Small Instance", "disk": 1024},
                                      NETWORKS, [], {}]) for i in range(VMS)], config)
    vm_cids = [vm_cid for vm_cid, _ in created]
    addresses = [networks["default"]["ip"] for _, networks in created]
    assert len(set(vm_cids)) == VMS and len(set(addresses)) == VMS
    resources = sim.resources()
    assert ids(resources, "virtualmachine") == sorted(vm_cids)
    ephemeral = ids(resources, "volume", lambda v: v["type"] == "DATADISK")
    assert len(ephemeral) == VMS   # one ephemeral disk each, none orphaned
    assert at_once([("delete_vm", [vm_cid]) for vm_cid in vm_cids], config) == [None] * VMS
    ok(config, "delete_stemcell", stemcell)

    resources = sim.resources()
    assert {kind: ids(resources, kind) for kind in ("virtualmachine", "volume", "snapshot", "template")} == {
        "virtualmachine": [], "volume": [], "snapshot": [], "template": []}
    assert failed_calls(sim.calls()) == [], "no API call may fail because others run at the same time"
