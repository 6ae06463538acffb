"""create_stemcell / delete_stemcell through the executable against the simulator, modes url and upload
(volume copy is in test_lifecycle, it needs a host VM)."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own, start_host_vm


def _template_id(cid: str) -> str:
    """A stemcell cid is `<template id>:<reference>`."""
    return cid.split(":", 1)[0]


def _templates(sim, cid: str) -> list[dict]:
    return [t for t in own(sim.resources(), "template") if t["id"] == _template_id(cid)]


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
    tags = {t["key"]: t["value"] for t in sim.cs().listTags(resourceid=_template_id(cid)).get("tag", [])}
    assert tags["bosh-stemcell-version"] == "1.0"

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
    devices = tmp_path / "dev"
    sim = start_host_vm(sim_factory, devices)

    image, sha = make_image(tmp_path, size=16 << 20, seed=15)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                          stemcell_upload=mode, metadata_url=sim.base_url, stemcell_device_dir=str(devices))
    cid = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    resources = sim.resources()
    [made] = [t for t in own(resources, "template") if t["id"] == _template_id(cid)]
    assert made["sha256"] == sha and made["isready"] and len(made["zoneids"]) == 2
    assert own(resources, "snapshot") == []
    assert [v for v in own(resources, "volume") if v["type"] == "DATADISK"] == []  # the work volume is gone
    assert list(devices.iterdir()) == []
    commands = [c["command"] for c in sim.calls()]
    assert "createTemplate" in commands and "getUploadParamsForTemplate" not in commands
    assert failed_calls(sim.calls()) == []
    ok(config, "delete_stemcell", cid)


SMALL_VM = ({"compute_offering": "Small Instance"},
            {"default": {"type": "dynamic", "default": ["dns", "gateway"],
                         "cloud_properties": {"security_groups": ["default"]}}}, [], {})
REF_PREFIX = "bosh-stemcell-ref-"


def _tags(sim, template_id: str) -> dict[str, str]:
    return {t["key"]: t["value"] for t in sim.cs().listTags(resourceid=template_id, resourcetype="Template",
                                                            listall=True).get("tag", [])}


def _vm_works(config: Path, stemcell_cid: str) -> None:
    """create_vm with the stemcell cid succeeds (then the VM is deleted again)."""
    vm_cid, _ = ok(config, "create_vm", "agent-stemcell-ref", stemcell_cid, *SMALL_VM)
    ok(config, "delete_vm", vm_cid)


def test_each_create_stemcell_owns_a_reference_to_one_shared_template(sim, tmp_path: Path) -> None:
    image, _ = make_image(tmp_path, seed=16)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"],
                          stemcell_upload="upload")
    before = len(sim.calls())
    first = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    second = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    assert first != second and _template_id(first) == _template_id(second)
    template_id = _template_id(first)
    made = [c["command"] for c in sim.calls()[before:]]
    assert made.count("getUploadParamsForTemplate") == 1 and "registerTemplate" not in made
    [template] = _templates(sim, template_id)
    assert len(template["zoneids"]) == 2
    references = [k for k in _tags(sim, template_id) if k.startswith(REF_PREFIX)]
    assert sorted(references) == sorted(REF_PREFIX + cid.split(":", 1)[1] for cid in (first, second))
    assert all(len(k) <= 255 for k in references)

    ok(config, "delete_stemcell", first)
    assert len(_templates(sim, template_id)) == 1  # the other reference keeps it, in both zones
    assert len(_templates(sim, template_id)[0]["zoneids"]) == 2
    _vm_works(config, second)
    ok(config, "delete_stemcell", first)  # its reference already gone: fine, and the template stays
    assert len(_templates(sim, template_id)) == 1

    ok(config, "delete_stemcell", second)
    assert _templates(sim, template_id) == []  # gone from every zone
    assert sim.cs().listTemplates(templatefilter="self", id=template_id).get("template", []) == []
    assert _tags(sim, template_id) == {}
    ok(config, "delete_stemcell", second)
    ok(config, "delete_stemcell", first)
    assert failed_calls(sim.calls(), before) == []


def _make_legacy(sim, config: Path, image: Path) -> str:
    """A template as the CPI made it before references: digest/name/version tags, cid = the bare template id."""
    cid = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    template_id = _template_id(cid)
    newer = {k: v for k, v in _tags(sim, template_id).items() if k.startswith(REF_PREFIX) or k == "bosh-stemcell-refs"}
    sim.cs().deleteTags(resourceids=template_id, resourcetype="Template", fetch_result=True,
                        tags=[{"key": k, "value": v} for k, v in newer.items()])
    assert "bosh-stemcell-sha256" in _tags(sim, template_id) and not set(_tags(sim, template_id)) & set(newer)
    return template_id


def test_legacy_bare_template_id_cids_keep_working(sim, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    before = len(sim.calls())
    image, _ = make_image(tmp_path, seed=17)
    legacy = _make_legacy(sim, config, image)
    _vm_works(config, legacy)

    # reused by a newer create_stemcell: the legacy holder counts as a reference, so neither delete strands the other
    newer = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    assert _template_id(newer) == legacy and newer != legacy
    ok(config, "delete_stemcell", legacy)
    assert len(_templates(sim, legacy)) == 1
    _vm_works(config, newer)
    ok(config, "delete_stemcell", newer)
    assert _templates(sim, legacy) == []
    ok(config, "delete_stemcell", legacy)

    # never reused: deleting the bare id deletes the template, as before
    alone = _make_legacy(sim, config, make_image(tmp_path, seed=18)[0])
    ok(config, "delete_stemcell", alone)
    assert _templates(sim, alone) == []
    ok(config, "delete_stemcell", alone)
    assert failed_calls(sim.calls(), before) == []


def test_races_leave_no_referenced_template_deleted_and_nothing_behind(sim_factory, tmp_path: Path) -> None:
    """Two create_stemcell of one image at once, and delete_stemcell of the last reference racing a create_stemcell
    reusing it: every cid handed out names a template that exists; after all deletes nothing is left."""
    from concurrent.futures import ThreadPoolExecutor

    sim = sim_factory()
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    image, _ = make_image(tmp_path, size=2 << 20, seed=19)
    with ThreadPoolExecutor(max_workers=2) as pool:
        def both(*requests: tuple) -> list:
            return list(pool.map(lambda request: ok(config, *request), requests))

        create = ("create_stemcell", str(image), STEMCELL_PROPERTIES)
        first, held = both(create, create)
        assert first != held
        assert 1 <= len(own(sim.resources(), "template")) <= 2  # an extra template is the accepted cost of a tie
        ok(config, "delete_stemcell", first)
        for _ in range(4):
            _, held = both(("delete_stemcell", held), create)
            [template] = _templates(sim, held)  # the new cid's template survived the racing delete
            assert template["isready"]
        ok(config, "delete_stemcell", held)
    assert own(sim.resources(), "template") == []
    # the one refusal a race may cause: tagging a template deleted since it was listed (then a new one is made)
    assert {c["command"] for c in failed_calls(sim.calls())} <= {"createTags"}


def _url_mode_config(endpoint: str, **cloudstack: str):
    from cpi.config import parse_config

    return parse_config({"cloud": {"plugin": "cloudstack", "properties": {
        "cloudstack": {"endpoint": endpoint, "api_key": "k", "secret_access_key": "s", "default_zone": "z",
                       "stemcell_upload": "url", **cloudstack},
        "agent": {"mbus": "https://mbus:p@0.0.0.0:6868"}}}})


def test_url_mode_refuses_a_loopback_image_url_a_remote_cloudstack_cannot_reach() -> None:
    from cpi.methods.stemcell_upload import advertised_host
    from cpi.protocol import CloudError

    with pytest.raises(CloudError, match=r"serve the image at 127\.0\.0\.1, which CloudStack at cloud\.example\.com "
                                         r"cannot reach: set cloudstack\.stemcell_http_bind"):
        advertised_host(_url_mode_config("https://cloud.example.com/client/api"))
    assert advertised_host(_url_mode_config("http://127.0.0.1:8080/client/api")) == "127.0.0.1"   # the simulator
    assert advertised_host(_url_mode_config("https://cloud.example.com/client/api", stemcell_http_bind="0.0.0.0",
                                            stemcell_http_host="10.1.1.5")) == "10.1.1.5"
