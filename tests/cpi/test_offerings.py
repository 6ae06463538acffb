"""Offering choices through the executable against a simulator seeded with zone-scoped and tagged offerings and a
network offering without UserData: lookups see only the zone's offerings, choices by size honour the configured
offering tags (the Go CPI's calculate.* names), resize_disk stays on the disk's storage, a failed resize job is
NotSupported (the Director then copies the disk), and a default network without UserData is refused up front."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own

GiB = 1 << 30
SEED = {
    "service_offerings": [
        {"name": "Zoned Tiny", "cpu": 1, "speed": 500, "memory": 512, "zone": "Sim-Advanced"},
        {"name": "Gold Tiny", "cpu": 1, "speed": 500, "memory": 768, "storagetags": "gold"},
    ],
    "disk_offerings": [
        {"name": "AdvOnly", "size": 2, "zone": "Sim-Advanced"},
        {"name": "Fast", "size": 3, "tags": "ssd"},
        {"name": "FastCustom", "custom": True, "tags": "ssd"},
    ],
    "network_offerings": [{"name": "NoUserData", "services": ["Dhcp", "Dns", "SourceNat"]}],
}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):
    from simulator.process import RunningSimulator
    tmp = tmp_path_factory.mktemp("offerings")
    (tmp / "seed.yml").write_text(yaml.safe_dump(SEED))
    sim = RunningSimulator(tmp / "state", {"seed_file": tmp / "seed.yml"}).start()
    yield sim
    sim.stop()


def _config(sim: Any, tmp_path: Path, **cloudstack: Any) -> Path:
    return write_config(tmp_path / "cpi.json", sim, **{"default_zone": "Sim-Basic", **cloudstack})


def _offering_of(sim: Any, cid: str) -> str:
    volume = next(v for v in own(sim.resources(), "volume") if v["id"] == cid)
    return next(o["name"] for o in sim.resources()["diskoffering"] if o["id"] == volume["diskofferingid"])


def test_compute_offerings_by_zone_and_tags(seeded, tmp_path: Path) -> None:
    small = {"cpu": 1, "ram": 512, "ephemeral_disk_size": 0}
    assert ok(_config(seeded, tmp_path), "calculate_vm_cloud_properties", small) == {
        "compute_offering": "Gold Tiny"}  # Zoned Tiny (512 MB) exists only in Sim-Advanced
    assert ok(_config(seeded, tmp_path, default_zone="Sim-Advanced"), "calculate_vm_cloud_properties", small) == {
        "compute_offering": "Zoned Tiny"}
    assert ok(_config(seeded, tmp_path, compute_offering_not_tags=["gold"]), "calculate_vm_cloud_properties",
              small) == {"compute_offering": "Small Instance"}
    # the Go CPI's names, through the same config
    go = _config(seeded, tmp_path, calculate={"compute_tags": ["gold"]})
    assert ok(go, "calculate_vm_cloud_properties", {"cpu": 1, "ram": 256, "ephemeral_disk_size": 0}) == {
        "compute_offering": "Gold Tiny"}


def test_disk_offerings_by_zone_and_tags(seeded, tmp_path: Path) -> None:
    config = _config(seeded, tmp_path)
    before = len(seeded.calls())
    disk = ok(config, "create_disk", 1024, {}, None)
    assert _offering_of(seeded, disk) == "Fast"  # the smallest fixed one usable in Sim-Basic (not AdvOnly)
    ok(config, "delete_disk", disk)
    plain = _config(seeded, tmp_path, disk_offering_not_tags=["ssd"])
    disk = ok(plain, "create_disk", 1024, {}, None)
    assert _offering_of(seeded, disk) == "Small"
    ok(plain, "delete_disk", disk)
    fast = _config(seeded, tmp_path, disk_offering_tags=["ssd"])
    disk = ok(fast, "create_disk", 10240, {}, None)  # no ssd offering holds 10 GiB: the ssd custom one
    assert _offering_of(seeded, disk) == "FastCustom"
    ok(fast, "delete_disk", disk)
    err = error(config, "create_disk", 1024, {"disk_offering": "AdvOnly"}, None)
    assert "disk offering 'AdvOnly' not found in zone Sim-Basic" in err["message"]
    assert failed_calls(seeded.calls(), before) == []


def test_resize_keeps_the_disks_storage_and_a_failed_job_is_not_supported(seeded, tmp_path: Path) -> None:
    config = _config(seeded, tmp_path)
    disk = ok(config, "create_disk", 3072, {"disk_offering": "Fast"}, None)
    ok(config, "resize_disk", disk, 4096)
    volume = next(v for v in own(seeded.resources(), "volume") if v["id"] == disk)
    assert volume["size"] == 4 * GiB and _offering_of(seeded, disk) == "FastCustom"  # ssd, not the first custom
    # CloudStack's custom disks go up to 1024 GiB: the resize job fails, and the Director must copy instead
    err = error(config, "resize_disk", disk, 2048 * 1024)
    assert err["type"] == "Bosh::Clouds::NotSupported" and "copies it to a new disk" in err["message"]
    assert next(v for v in own(seeded.resources(), "volume") if v["id"] == disk)["size"] == 4 * GiB
    ok(config, "delete_disk", disk)
    # the configured custom offering wins
    named = _config(seeded, tmp_path, custom_disk_offering="Custom")
    disk = ok(named, "create_disk", 1024, {"disk_offering": "Small"}, None)
    ok(named, "resize_disk", disk, 7168)
    assert _offering_of(seeded, disk) == "Custom"
    ok(named, "delete_disk", disk)


def test_default_network_without_user_data_is_refused_before_anything_is_made(seeded, tmp_path: Path) -> None:
    config = _config(seeded, tmp_path, default_zone="Sim-Advanced", stemcell_upload="upload")
    cs = seeded.cs(fetch_result=True)
    zone = cs.listZones(name="Sim-Advanced")["zone"][0]
    offering = cs.listNetworkOfferings(name="NoUserData")["networkoffering"][0]
    cs.createNetwork(name="no-userdata", displaytext="no-userdata", zoneid=zone["id"], networkofferingid=offering["id"])
    image, _ = make_image(tmp_path, seed=61)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    vms = len(own(seeded.resources(), "virtualmachine"))
    err = error(config, "create_vm", "a", stemcell, {"compute_offering": "Small Instance"},
                {"d": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {"name": "no-userdata"}}},
                [], {})
    assert err["type"] == "Bosh::Clouds::CloudError" and not err["ok_to_retry"]
    assert "network 'no-userdata' (offering 'NoUserData') offers no UserData service" in err["message"]
    assert len(own(seeded.resources(), "virtualmachine")) == vms
    # no network named: CloudStack would deploy on the account's only isolated network of the zone, this one
    err = error(config, "create_vm", "a", stemcell, {"compute_offering": "Small Instance"},
                {"d": {"type": "dynamic", "default": ["dns", "gateway"], "cloud_properties": {}}}, [], {})
    assert "network 'no-userdata' (offering 'NoUserData') offers no UserData service" in err["message"]
    assert len(own(seeded.resources(), "virtualmachine")) == vms
    ok(config, "delete_stemcell", stemcell)
