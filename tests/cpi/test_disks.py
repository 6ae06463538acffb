"""Persistent disks and disk metadata through the executable (no VM needed; snapshots need an attached disk
and are in test_vms)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import failed_calls, own

GiB = 1 << 30


@pytest.fixture
def config(sim, tmp_path: Path) -> Path:
    return write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic")


def _volume(sim, cid: str) -> dict | None:
    return next((v for v in own(sim.resources(), "volume") if v["id"] == cid), None)


def _offering(sim, offering_id: str) -> str:
    return next(o["name"] for o in sim.resources()["diskoffering"] if o["id"] == offering_id)


@pytest.mark.parametrize("size_mib, offering, gib", [
    (1024, "Small", 5), (5120, "Small", 5), (6000, "Medium", 20), (30000, "Large", 100), (200000, "Custom", 196),
])
def test_create_disk_picks_the_smallest_offering_that_fits(sim, config: Path, size_mib: int, offering: str,
                                                           gib: int) -> None:
    cid = ok(config, "create_disk", size_mib, {}, None)
    volume = _volume(sim, cid)
    assert _offering(sim, volume["diskofferingid"]) == offering and volume["size"] == gib * GiB
    ok(config, "delete_disk", cid)


def test_disk_lifecycle(sim, config: Path) -> None:
    before = len(sim.calls())
    cid = ok(config, "create_disk", 2048, {"disk_offering": "Custom"}, None)
    assert _volume(sim, cid)["size"] == 2 * GiB
    assert ok(config, "has_disk", cid) is True
    ok(config, "set_disk_metadata", cid, {"director": "d", "deployment": "dep", "instance_index": 0,
                                          "attached_at": "2024-01-01T00:00:00Z", "long": "x" * 400})
    ok(config, "set_disk_metadata", cid, {"deployment": "dep2"})  # a changed value replaces the old one
    tags = {t["key"]: t["value"] for t in sim.cs().listTags(resourceid=cid).get("tag", [])}
    assert tags["deployment"] == "dep2" and tags["instance_index"] == "0" and len(tags["long"]) == 255
    ok(config, "resize_disk", cid, 4096)
    assert _volume(sim, cid)["size"] == 4 * GiB
    ok(config, "resize_disk", cid, 4096)  # same size: nothing to do
    assert error(config, "resize_disk", cid, 1024)["type"] == "Bosh::Clouds::NotSupported"
    ok(config, "delete_disk", cid)
    assert ok(config, "has_disk", cid) is False
    ok(config, "delete_disk", cid)  # already gone
    assert failed_calls(sim.calls(), before) == [], "every API call the CPI made must be valid"


def test_resize_fixed_offering_disk_switches_to_custom(sim, config: Path) -> None:
    cid = ok(config, "create_disk", 1024, {}, None)
    ok(config, "resize_disk", cid, 10240)
    volume = _volume(sim, cid)
    assert volume["size"] == 10 * GiB and _offering(sim, volume["diskofferingid"]) == "Custom"
    ok(config, "delete_disk", cid)


def test_missing_disks_and_bad_offerings(sim, config: Path) -> None:
    missing = "00000000-0000-0000-0000-000000000000"
    for method, args in (("set_disk_metadata", [missing, {}]), ("snapshot_disk", [missing, {}]),
                         ("resize_disk", [missing, 2048])):
        assert error(config, method, *args)["type"] == "Bosh::Clouds::DiskNotFound"
    err = error(config, "create_disk", 1024, {"disk_offering": "Gold"}, None)
    assert err["type"] == "Bosh::Clouds::CloudError"
    assert "disk offering 'Gold' not found" in err["message"] and "Medium" in err["message"]
    err = error(config, "create_disk", 30000, {"disk_offering": "Small"}, None)
    assert "holds 5 GiB" in err["message"]
