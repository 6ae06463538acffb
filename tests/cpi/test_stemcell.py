"""create_stemcell / delete_stemcell through the executable against the simulator, modes url and upload
(volume copy is in test_lifecycle, it needs a host VM)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own


def _templates(sim, template_id: str) -> list[dict]:
    return [t for t in own(sim.resources(), "template") if t["id"] == template_id]


@pytest.mark.parametrize("mode, seed", [("upload", 11), ("url", 12)])
def test_template_bytes_equal_the_raw_image_in_every_zone(sim, tmp_path: Path, mode: str, seed: int) -> None:
    image, sha = make_image(tmp_path, seed=seed)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                          stemcell_upload=mode)
    before = len(sim.calls())
    cid = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    [template] = _templates(sim, cid)
    assert template["sha256"] == sha
    assert template["isready"] and len(template["name"]) <= 32
    assert template["format"] == "RAW" and template["hypervisor"] == "KVM"
    zones = {z["name"]: z["id"] for z in sim.cs().listZones()["zone"]}
    assert sorted(template["zoneids"]) == sorted(zones.values())
    ostypes = {o["id"]: o["description"] for o in sim.resources()["ostype"]}
    assert ostypes[template["ostypeid"]] == "Ubuntu 22.04 (64-bit)"
    tags = {t["key"]: t["value"] for t in sim.cs().listTags(resourceid=cid).get("tag", [])}
    assert tags["bosh-stemcell-version"] == "1.0"

    # the same image again: reused, nothing uploaded
    calls_before_reuse = len(sim.calls())
    assert ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES) == cid
    commands = {c["command"] for c in sim.calls()[calls_before_reuse:]}
    assert not commands & {"getUploadParamsForTemplate", "registerTemplate", "createTemplate"}

    ok(config, "delete_stemcell", cid)
    assert _templates(sim, cid) == []
    ok(config, "delete_stemcell", cid)  # already gone: still fine
    assert failed_calls(sim.calls(), before) == []


def test_precise_stemcell_gets_ubuntu_1204(sim, tmp_path: Path) -> None:
    image, _ = make_image(tmp_path, seed=13)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    props = {**STEMCELL_PROPERTIES, "name": "bosh-cloudstack-kvm-ubuntu-precise-go_agent"}
    cid = ok(config, "create_stemcell", str(image), props)
    [template] = _templates(sim, cid)
    ostypes = {o["id"]: o["description"] for o in sim.resources()["ostype"]}
    assert ostypes[template["ostypeid"]] == "Ubuntu 12.04 (64-bit)"
    ok(config, "delete_stemcell", cid)


def test_bad_image_and_unknown_zone_are_cloud_errors(sim, tmp_path: Path) -> None:
    bad = tmp_path / "image"
    bad.write_bytes(b"not a tarball")
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic")
    err = error(config, "create_stemcell", str(bad), STEMCELL_PROPERTIES)
    assert err["type"] == "Bosh::Clouds::CloudError" and str(bad) in err["message"]
    image, _ = make_image(tmp_path, seed=14)
    config = write_config(tmp_path / "cpi2.json", sim, default_zone="Nowhere")
    err = error(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    assert "zone 'Nowhere' not found" in err["message"] and "Sim-Basic" in err["message"]


@pytest.mark.parametrize("mode", ["volume", "auto"])
def test_volume_copy_from_the_cpis_own_vm(sim_factory, tmp_path: Path, mode: str) -> None:
    """Mode B: the CPI runs on a CloudStack VM (the simulator's host VM, found through its metadata service);
    the attached volume shows up as a device file the image is written onto."""
    import requests

    devices = tmp_path / "dev"
    sim = sim_factory(host_vm_device_dir=devices)
    cs = sim.cs()
    zone = next(z for z in cs.listZones()["zone"] if z["name"] == "Sim-Basic")
    template = cs.listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    offering = cs.listServiceOfferings(name="Small Instance")["serviceoffering"][0]
    host = cs.deployVirtualMachine(zoneid=zone["id"], templateid=template["id"], serviceofferingid=offering["id"],
                                   fetch_result=True)["virtualmachine"]
    requests.post(sim.url("/_sim/host-vm"), json={"id": host["id"]}, timeout=10).raise_for_status()

    image, sha = make_image(tmp_path, size=16 << 20, seed=15)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                          stemcell_upload=mode, metadata_url=sim.base_url, stemcell_device_dir=str(devices))
    cid = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    resources = sim.resources()
    [made] = [t for t in own(resources, "template") if t["id"] == cid]
    assert made["sha256"] == sha and made["isready"] and len(made["zoneids"]) == 2
    assert own(resources, "snapshot") == []
    assert [v for v in own(resources, "volume") if v["type"] == "DATADISK"] == []  # the work volume is gone
    assert list(devices.iterdir()) == []
    commands = [c["command"] for c in sim.calls()]
    assert "createTemplate" in commands and "getUploadParamsForTemplate" not in commands
    assert failed_calls(sim.calls()) == []
    ok(config, "delete_stemcell", cid)
