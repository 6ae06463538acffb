"""The CPI lifecycle check's order: with `concurrent`, the calls of a wave overlap, yet BOSH's order holds
(a disk is attached before its snapshot, detached before resize and before its VM is deleted; a stemcell is
deleted only after its VM); without it, one call at a time. A stand-in records when each call ran (the real
CPI processes are driven by tests/cpi/test_cpi_check.py)."""
from __future__ import annotations

import threading
import time
from typing import Any

from cpi.lifecycle import CpiFailure, LifecyclePlan, Stemcell, run_lifecycle

ANSWERS: dict[str, Any] = {
    "info": {"stemcell_formats": ["cloudstack-raw"]}, "create_stemcell": "stemcell-1",
    "calculate_vm_cloud_properties": {"compute_offering": "Small Instance"},
    "create_vm": ["vm-1", {"default": {"ip": "10.0.0.5"}}], "create_disk": "disk-1", "attach_disk": {"path": "/dev/vdc"},
    "get_disks": ["disk-1"], "snapshot_disk": "snap-1",
}


class RecordingCpi:
    """Answers like a CPI after a short pause; remembers (method, start, end) of every call."""

    def __init__(self, fail: str | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[str, float, float]] = []
        self.lock = threading.Lock()
        self.vm_deleted = False

    def call(self, method: str, *arguments: Any) -> Any:
        started = time.monotonic()
        time.sleep(0.05)
        with self.lock:
            self.calls.append((method, started, time.monotonic()))
        if method == self.fail:
            raise CpiFailure(method, {"type": "Bosh::Clouds::CloudError", "message": "refused"})
        if method == "delete_vm":
            self.vm_deleted = True
        if method == "has_vm":
            return not self.vm_deleted
        return ANSWERS.get(method)

    def span(self, method: str, nth: int = 0) -> tuple[float, float]:
        found = [(s, e) for m, s, e in self.calls if m == method]
        return found[nth]


PLAN = LifecyclePlan(Stemcell("image", {}), None, {"default": {"type": "dynamic"}})


def before(cpi: RecordingCpi, first: str, then: str) -> bool:
    return cpi.span(first)[1] <= cpi.span(then)[0]


def test_concurrent_waves_overlap_and_keep_bosh_order() -> None:
    cpi = RecordingCpi()
    results = run_lifecycle(cpi, PLAN, lambda result: None)  # type: ignore[arg-type]
    assert all(r.ok for r in results) and len(results) == 17
    overlapping = [(a, b) for a, sa, ea in cpi.calls for b, sb, eb in cpi.calls if a < b and sa < eb and sb < ea]
    assert ("create_stemcell", "info") in overlapping or ("info", "create_stemcell") in overlapping
    for first, then in [("create_stemcell", "create_vm"), ("calculate_vm_cloud_properties", "create_vm"),
                        ("create_vm", "create_disk"), ("create_disk", "attach_disk"),
                        ("attach_disk", "snapshot_disk"), ("snapshot_disk", "detach_disk"),
                        ("detach_disk", "resize_disk"), ("detach_disk", "delete_vm"),
                        ("delete_vm", "delete_stemcell"), ("resize_disk", "delete_disk")]:
        assert before(cpi, first, then), (first, then)


def test_sequential_runs_one_call_at_a_time_in_order() -> None:
    cpi = RecordingCpi()
    results = run_lifecycle(cpi, PLAN, lambda result: None, concurrent=False)  # type: ignore[arg-type]
    assert [r.name for r in results][:4] == ["info", "create_stemcell", "calculate_vm_cloud_properties", "create_vm"]
    assert all(end <= cpi.calls[i + 1][1] for i, (_, _, end) in enumerate(cpi.calls[:-1]))


def test_a_failed_wave_is_cleaned_up_dependents_first() -> None:
    cpi = RecordingCpi(fail="snapshot_disk")
    results = run_lifecycle(cpi, PLAN, lambda result: None)  # type: ignore[arg-type]
    failed = [r.name for r in results if not r.ok]
    assert failed == ["snapshot_disk"]
    cleanup = [r.name for r in results if r.name.startswith("cleanup: ")]
    assert sorted(cleanup) == ["cleanup: delete_disk", "cleanup: delete_stemcell", "cleanup: delete_vm",
                               "cleanup: detach_disk"]
    assert not [r for r in results if r.name in ("delete_snapshot", "detach_disk", "resize_disk")]
    assert before(cpi, "detach_disk", "delete_disk") and before(cpi, "delete_vm", "delete_stemcell")
