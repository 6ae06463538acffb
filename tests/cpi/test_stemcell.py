"""create_stemcell / delete_stemcell through the executable against the simulator: the three upload modes (volume
copy on the simulator's host VM), every image layout, requireshvm and the OS type, property checks, light stemcells."""
from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest
import yaml

from cpi.stemcell.sample import MiB, SampleDisk
from tests.cpi.cpi_runner import error, ok, write_config
from tests.cpi.fixtures import STEMCELL_PROPERTIES, failed_calls, make_image, own, start_host_vm
from tests.stemcell.stemcell_images import layout, qemu, sha256_file


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


# -- every image layout, through the real CPI, in every upload mode -------------------------------------------

XEN_PROPERTIES = {  # what bosh-linux-stemcell-builder writes for CloudStack (infrastructure.rb, stemcell.MF)
    "name": "bosh-cloudstack-xen-ubuntu-xenial-go_agent", "version": "250.4", "infrastructure": "cloudstack",
    "hypervisor": "xen", "disk": 3072, "disk_format": "vhdx", "container_format": "bare", "os_type": "linux",
    "os_distro": "ubuntu", "architecture": "x86_64", "auto_disk_config": True,
}
DISK = 6 * MiB


def _seed(path: Path, basic_hypervisor: str) -> Path:
    """Zones: Sim-Basic on `basic_hypervisor` (the host VM's zone for volume copy), and one zone per other
    hypervisor the tests need."""
    zones = [{"name": "Sim-Basic", "networktype": "Basic", "securitygroupsenabled": True,
              "hypervisor": basic_hypervisor, "pod_cidr": "192.0.2.0/24"}]
    for n, hypervisor in enumerate(h for h in ("XenServer", "KVM", "Hyperv") if h != basic_hypervisor):
        zones.append({"name": f"Sim-{hypervisor}", "networktype": "Basic", "securitygroupsenabled": True,
                      "hypervisor": hypervisor, "pod_cidr": f"198.18.{n}.0/24"})
    path.write_text(yaml.safe_dump({"zones": zones}))
    return path


@pytest.fixture(scope="module")
def disks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One small partitioned raw disk (MBR boot signature, data at both ends) and the same disk as qcow2, dynamic
    VHD and VHDX, made by the real qemu-img."""
    root = tmp_path_factory.mktemp("stemcell-disks")
    raw = root / "root.raw"
    with open(raw, "wb") as handle:
        shutil.copyfileobj(SampleDisk(DISK, [(0, MiB), (DISK - MiB, MiB)], seed=21), handle)
        handle.seek(510)
        handle.write(b"\x55\xaa")
    found = {"raw": raw}
    for fmt, qemu_format, options in (("qcow2", "qcow2", []), ("vhd", "vpc", ["-o", "subformat=dynamic"]),
                                      ("vhdx", "vhdx", [])):
        found[fmt] = root / f"root.{fmt}"
        qemu("convert", "-f", "raw", "-O", qemu_format, *options, str(raw), str(found[fmt]))
    return found


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# (compression, container, format, mode, zone): the builder's own layout in every mode, then the others spread
# over the modes, each with a hypervisor CloudStack deploys that format on.
CASES = [
    ("bzip2", "bare", "vhd", "upload", "XenServer"),
    ("bzip2", "bare", "vhd", "url", "XenServer"),
    ("bzip2", "bare", "vhd", "volume", "XenServer"),
    ("gzip", "bare", "qcow2", "upload", "KVM"),
    ("none", "bare", "raw", "url", "KVM"),
    ("bzip2", "tar", "qcow2", "url", "KVM"),
    ("none", "tar", "vhd", "upload", "XenServer"),
    ("gzip", "bare", "vhdx", "upload", "Hyperv"),
    ("bzip2", "bare", "raw", "volume", "KVM"),
    ("gzip", "bare", "vhdx", "volume", "KVM"),
    ("none", "bare", "qcow2", "volume", "KVM"),
]


@pytest.mark.parametrize("compression, container, fmt, mode, hypervisor", CASES, ids=["-".join(c) for c in CASES])
def test_every_layout_in_every_mode(sim_factory, tmp_path: Path, disks: dict[str, Path], compression: str,
                                    container: str, fmt: str, mode: str, hypervisor: str) -> None:
    """The template holds the disk: in url/upload modes the disk file itself (decompressed, out of its tarball),
    in volume mode the raw disk written onto a volume."""
    image = layout(tmp_path, disks[fmt], compression, container, fmt)
    devices = tmp_path / "dev"
    if mode == "volume":
        sim = start_host_vm(sim_factory, devices, seed_file=_seed(tmp_path / "zones.yml", hypervisor))
        zone = "Sim-Basic"
    else:
        sim = sim_factory(seed_file=_seed(tmp_path / "zones.yml", "KVM"))
        zone = "Sim-Basic" if hypervisor == "KVM" else f"Sim-{hypervisor}"
    config = write_config(tmp_path / "cpi.json", sim, default_zone=zone, stemcell_upload=mode,
                          metadata_url=sim.base_url, stemcell_device_dir=str(devices))
    props = {**XEN_PROPERTIES, "hypervisor": {"XenServer": "xen", "KVM": "kvm", "Hyperv": "hyperv"}[hypervisor],
             "disk_format": fmt}
    cid = ok(config, "create_stemcell", str(image), props)
    [template] = _templates(sim, cid)
    assert template["isready"] and template["hypervisor"] == hypervisor
    if mode == "volume":
        assert template["sha256"] == _sha(disks["raw"])
    else:
        assert template["sha256"] == _sha(disks[fmt]) and template["format"] == fmt.upper()
    assert failed_calls(sim.calls()) == []
    ok(config, "delete_stemcell", cid)
    assert _templates(sim, cid) == []


@pytest.mark.parametrize("fmt, mode, hypervisor, expected", [
    ("vhd", "upload", "KVM", "QCOW2"),
    ("vhdx", "url", "XenServer", "VHD"),
    ("qcow2", "upload", "Hyperv", "VHD"),
])
def test_a_format_the_hypervisor_does_not_take_is_converted_for_url_and_upload(
        sim_factory, tmp_path: Path, disks: dict[str, Path], fmt: str, mode: str, hypervisor: str,
        expected: str) -> None:
    """CloudStack deploys VHD on XenServer, QCOW2/RAW on KVM, VHD/VHDX on Hyper-V: another disk is converted by
    qemu-img before it is handed over, and the template's bytes still hold the same disk."""
    sim = sim_factory(seed_file=_seed(tmp_path / "zones.yml", "KVM"))
    zone = "Sim-Basic" if hypervisor == "KVM" else f"Sim-{hypervisor}"
    config = write_config(tmp_path / "cpi.json", sim, default_zone=zone, stemcell_upload=mode)
    image = layout(tmp_path, disks[fmt], "bzip2", "bare", fmt)
    props = {**XEN_PROPERTIES, "hypervisor": {"XenServer": "xen", "KVM": "kvm", "Hyperv": "hyperv"}[hypervisor]}
    cid = ok(config, "create_stemcell", str(image), props)
    [template] = _templates(sim, cid)
    assert (template["format"], template["hypervisor"]) == (expected, hypervisor)
    back = tmp_path / "back.raw"
    qemu("convert", "-f", {"QCOW2": "qcow2", "VHD": "vpc", "VHDX": "vhdx"}[expected], "-O", "raw",
         str(sim.state_dir / "blobs" / template["sha256"]), str(back))
    assert sha256_file(back, DISK) == _sha(disks["raw"])  # a VHD's size is rounded up to its geometry: zeros
    assert back.stat().st_size >= DISK and not back.read_bytes()[DISK:].strip(b"\0")
    assert failed_calls(sim.calls()) == []
    ok(config, "delete_stemcell", cid)


def test_an_image_url_in_a_format_the_hypervisor_does_not_take_is_refused(sim_factory, tmp_path: Path,
                                                                          disks: dict[str, Path]) -> None:
    """CloudStack downloads an `image_url` itself: nothing to convert, so a mismatch is one clear error."""
    sim = sim_factory(seed_file=_seed(tmp_path / "zones.yml", "XenServer"))
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="url")
    image = layout(tmp_path, disks["raw"], "gzip", "tar", "raw")
    err = error(config, "create_stemcell", str(image), {**XEN_PROPERTIES, "image_url": "http://127.0.0.1:9/x.img"})
    assert err["type"] == "Bosh::Clouds::CloudError"
    assert ("holds a RAW disk, which CloudStack does not deploy on XenServer (it takes VHD); use stemcell_upload: "
            "volume") in err["message"]
    assert own(sim.resources(), "template") == []


# -- requireshvm and the OS type ----------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["upload", "url", "volume"])
def test_xenserver_stemcells_are_pv_by_default_in_every_mode(sim_factory, tmp_path: Path, disks: dict[str, Path],
                                                             mode: str) -> None:
    """requireshvm false and OS type "Other PV (64-bit)" on XenServer (as bosh-deployment's cloudstack/cpi.yml
    configures the Go CPI), whatever CloudStack's per-command default would have been."""
    devices = tmp_path / "dev"
    sim = start_host_vm(sim_factory, devices, seed_file=_seed(tmp_path / "zones.yml", "XenServer"))
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload=mode,
                          metadata_url=sim.base_url, stemcell_device_dir=str(devices))
    cid = ok(config, "create_stemcell", str(layout(tmp_path, disks["vhd"], "bzip2", "bare", "vhd")), XEN_PROPERTIES)
    [template] = _templates(sim, cid)
    assert template["requireshvm"] is False
    ostypes = {o["id"]: o["description"] for o in sim.resources()["ostype"]}
    assert ostypes[template["ostypeid"]] == "Other PV (64-bit)"
    ok(config, "delete_stemcell", cid)


@pytest.mark.parametrize("configured, hypervisor, hvm, ostype", [
    (None, "KVM", True, "Ubuntu 16.04 (64-bit)"),
    ({"xenserver": True}, "XenServer", True, "Ubuntu 16.04 (64-bit)"),
    (False, "KVM", False, "Other PV (64-bit)"),
    ({"XenServer": False}, "KVM", True, "Ubuntu 16.04 (64-bit)"),
])
def test_requires_hvm_is_configurable_per_hypervisor(sim_factory, tmp_path: Path, disks: dict[str, Path],
                                                     configured, hypervisor: str, hvm: bool, ostype: str) -> None:
    sim = sim_factory(seed_file=_seed(tmp_path / "zones.yml", "KVM"))
    zone = "Sim-Basic" if hypervisor == "KVM" else f"Sim-{hypervisor}"
    fmt = "qcow2" if hypervisor == "KVM" else "vhd"
    extra = {} if configured is None else {"stemcell_requires_hvm": configured}
    config = write_config(tmp_path / "cpi.json", sim, default_zone=zone, stemcell_upload="upload", **extra)
    props = {**XEN_PROPERTIES, "hypervisor": "kvm" if hypervisor == "KVM" else "xen"}
    cid = ok(config, "create_stemcell", str(layout(tmp_path, disks[fmt], "gzip", "tar", fmt)), props)
    [template] = _templates(sim, cid)
    ostypes = {o["id"]: o["description"] for o in sim.resources()["ostype"]}
    assert (template["requireshvm"], ostypes[template["ostypeid"]]) == (hvm, ostype)
    ok(config, "delete_stemcell", cid)


# -- stemcell property checks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("change, message", [
    ({"infrastructure": "openstack"}, "is built for infrastructure 'openstack', not cloudstack"),
    ({"architecture": "aarch64"}, "is built for architecture 'aarch64'; CloudStack 4.18 runs x86_64 guests only"),
    ({"hypervisor": "xen"}, "is for XenServer but zone Sim-Basic has only KVM hosts; use a stemcell for KVM"),
    ({"hypervisor": "bhyve"}, "names an unknown hypervisor 'bhyve'"),
    ({"os_type": "windows"}, "has os_type 'windows'; this CPI runs Linux stemcells only"),
])
def test_stemcell_properties_this_cloud_cannot_run_are_clear_errors(sim, tmp_path: Path, change: dict,
                                                                    message: str) -> None:
    image, _ = make_image(tmp_path, seed=22)
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    before = len(sim.calls())
    err = error(config, "create_stemcell", str(image), {**STEMCELL_PROPERTIES, **change})
    assert err["type"] == "Bosh::Clouds::CloudError" and message in err["message"]
    assert "\n" not in err["message"]
    assert [c["command"] for c in sim.calls()[before:] if c["command"] == "getUploadParamsForTemplate"] == []


# -- light stemcells ------------------------------------------------------------------------------------------------


def test_light_stemcell_uses_an_existing_template_and_never_deletes_it(sim, tmp_path: Path) -> None:
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload="upload")
    zone = next(z for z in sim.cs().listZones()["zone"] if z["name"] == "Sim-Basic")
    featured = sim.cs().listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    empty_image = tmp_path / "image"
    empty_image.write_bytes(b"")  # a light stemcell's image is not read
    before = len(sim.calls())
    for wanted in (featured["name"], featured["id"]):
        cid = ok(config, "create_stemcell", str(empty_image), {**STEMCELL_PROPERTIES, "light_template": wanted})
        assert cid == f"{featured['id']}:light"
        _vm_works(config, cid)
        ok(config, "delete_stemcell", cid)
        assert sim.cs().listTemplates(templatefilter="featured", id=featured["id"])["template"]
    made = {c["command"] for c in sim.calls()[before:]}
    assert not made & {"getUploadParamsForTemplate", "registerTemplate", "createTemplate", "deleteTemplate",
                       "createTags"}
    err = error(config, "create_stemcell", str(empty_image), {**STEMCELL_PROPERTIES, "light_template": "nope"})
    assert "light stemcell template nope not found in zone Sim-Basic" in err["message"]


def test_light_stemcell_must_be_in_every_zone_and_for_the_declared_hypervisor(sim, tmp_path: Path) -> None:
    empty_image = tmp_path / "image"
    empty_image.write_bytes(b"")
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", zones=["Sim-Advanced"])
    err = error(config, "create_stemcell", str(empty_image),
                {**STEMCELL_PROPERTIES, "light_template": "Ubuntu 22.04 LTS"})
    assert "names different templates in different zones" in err["message"]
    zone = next(z for z in sim.cs().listZones()["zone"] if z["name"] == "Sim-Basic")
    featured = sim.cs().listTemplates(templatefilter="featured", zoneid=zone["id"])["template"][0]
    err = error(config, "create_stemcell", str(empty_image), {**STEMCELL_PROPERTIES, "light_template": featured["id"]})
    assert f"light stemcell template {featured['id']} not found in zone Sim-Advanced" in err["message"]


def test_info_advertises_exactly_the_formats_the_reader_reads() -> None:
    from cpi.methods.info import STEMCELL_FORMATS
    from cpi.stemcell.formats import CLOUDSTACK_FORMATS

    assert sorted(STEMCELL_FORMATS) == sorted(f"cloudstack-{fmt}" for fmt in CLOUDSTACK_FORMATS)


@pytest.mark.parametrize("mode", ["upload", "volume"])
def test_an_image_damaged_past_its_head_fails_mid_stream_with_one_clear_error_and_leaves_nothing(
        sim_factory, tmp_path: Path, disks: dict[str, Path], mode: str) -> None:
    """The head (and a dynamic VHD's allocation table) reads fine, so the damage shows only while the disk streams:
    still one CloudError naming the file, and the half-made template (and work volume) are gone."""
    good = layout(tmp_path, disks["vhd"], "gzip", "tar", "vhd").read_bytes()  # gzip: inflated strictly in order
    image = tmp_path / "image"
    image.write_bytes(good[: len(good) * 2 // 3])
    devices = tmp_path / "dev"
    sim = start_host_vm(sim_factory, devices, seed_file=_seed(tmp_path / "zones.yml", "XenServer"))
    config = write_config(tmp_path / "cpi.json", sim, default_zone="Sim-Basic", stemcell_upload=mode,
                          metadata_url=sim.base_url, stemcell_device_dir=str(devices))
    before = len(sim.calls())
    err = error(config, "create_stemcell", str(image), XEN_PROPERTIES)
    assert err["type"] == "Bosh::Clouds::CloudError" and str(image) in err["message"]
    assert "is truncated" in err["message"]
    assert "Traceback" not in err["message"] and "StemcellImageError" not in err["message"]
    made = {c["command"] for c in sim.calls()[before:]}
    assert made & {"getUploadParamsForTemplate", "attachVolume"}  # the damage showed only once streaming began
    resources = sim.resources()
    assert own(resources, "template") == [] and own(resources, "snapshot") == []
    assert [v for v in own(resources, "volume") if v["type"] == "DATADISK"] == []
