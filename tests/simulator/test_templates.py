"""Templates: filters, registerTemplate's real download from loopback, upload, create, copy, update, delete."""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from datetime import datetime, timedelta, timezone

import requests

from .compute import Cloud, api_error, cloud, files, sha256, unique  # noqa: F401  (fixtures)

IMAGE = os.urandom(300_000) + b"end"


def register(cloud: Cloud, url: str, **params) -> dict:
    params = {"name": unique("tpl"), "displaytext": "test image", "format": "QCOW2", "hypervisor": "KVM",
              "zoneid": cloud.zone()["id"], "ostypeid": cloud.template()["ostypeid"], "url": url, **params}
    return cloud.api.registerTemplate(**params)


def test_featured_lists_the_seeded_template_in_every_zone(cloud):
    found = cloud.api.listTemplates(templatefilter="featured")["template"]
    seeded = [t for t in found if t["name"] == "Ubuntu 22.04 LTS"]
    assert {t["zoneid"] for t in seeded} == {z["id"] for z in cloud.zones.values()}
    assert all(t["isready"] and t["status"] == "Download Complete" and t["format"] == "QCOW2" for t in seeded)
    assert all(isinstance(t["size"], int) and t["templatetype"] == "USER" for t in seeded)


def test_self_excludes_system_templates_and_bad_filters_are_refused(cloud):
    own = cloud.api.listTemplates(templatefilter="self")
    assert all(t["name"] != "Ubuntu 22.04 LTS" for t in own.get("template", []))
    err = api_error(lambda: cloud.api.listTemplates(templatefilter="mine"))
    assert err["errorcode"] == 431


def test_register_downloads_from_loopback_and_records_the_bytes(cloud, files):
    url = files.add("good.qcow2", IMAGE)
    answer = register(cloud, url, checksum="{SHA-256}" + sha256(IMAGE))
    assert answer["count"] == 1
    first = answer["template"][0]
    assert first["isready"] is False and first["status"].endswith("% Downloaded")
    done = cloud.wait_template(first["id"])
    assert done["isready"] is True and done["status"] == "Download Complete"
    assert done["size"] == len(IMAGE)
    stored = cloud.resource("template", first["id"])
    assert stored["sha256"] == sha256(IMAGE) and stored["size"] == len(IMAGE)
    assert (cloud.sim.state_dir / "blobs" / sha256(IMAGE)).read_bytes() == IMAGE
    assert first["id"] in {t["id"] for t in cloud.api.listTemplates(templatefilter="self")["template"]}


def test_bare_md5_and_sha1_checksums_are_verified(cloud, files):
    for digest in (hashlib.md5(IMAGE).hexdigest(), hashlib.sha1(IMAGE).hexdigest()):
        url = files.add(f"{digest}.qcow2", IMAGE)
        assert cloud.wait_template(register(cloud, url, checksum=digest)["template"][0]["id"])["isready"]


def test_a_checksum_mismatch_fails_the_download(cloud, files):
    url = files.add("tampered.qcow2", IMAGE)
    tpl = cloud.wait_template(register(cloud, url, checksum="{MD5}" + "0" * 32)["template"][0]["id"])
    assert tpl["isready"] is False
    assert "didn't match the given value" in tpl["status"]


def test_a_missing_file_is_a_failed_download(cloud, files):
    tpl = cloud.wait_template(register(cloud, files.add("x.qcow2", b"x").replace("x.qcow2", "none.qcow2"))["template"][0]["id"])
    assert tpl["isready"] is False
    assert tpl["status"] == "Failed to download template: HTTP Server returned 404 (expected 200 OK)"


def test_non_loopback_urls_are_refused_without_a_template(cloud):
    before = len(cloud.sim.resources().get("template", []))
    err = api_error(lambda: register(cloud, "http://192.0.2.55/image.qcow2"))
    assert err["errorcode"] == 431 and "loopback" in err["errortext"]
    err = api_error(lambda: register(cloud, "ftp://127.0.0.1/image.qcow2"))
    assert err["errortext"] == "Unsupported scheme for url: ftp://127.0.0.1/image.qcow2"
    assert len(cloud.sim.resources().get("template", [])) == before


def test_format_hypervisor_suffix_and_checksum_are_validated(cloud, files):
    url = files.add("v.qcow2", IMAGE)
    err = api_error(lambda: register(cloud, url, format="QCOW3"))
    assert err["errortext"].startswith("Image format: QCOW3 is incorrect. Supported formats are QCOW2, RAW")
    err = api_error(lambda: register(cloud, url, hypervisor="Bhyve"))
    assert err["errortext"].startswith("Hypervisor Type: Bhyve is invalid.")
    err = api_error(lambda: register(cloud, url, format="VHD"))
    assert err["errortext"] == "Please specify a valid URL. URL:/v.qcow2 is an invalid for the format vhd"
    assert api_error(lambda: register(cloud, url, checksum="{SHA-256}abc"))["errorcode"] == 431


def test_cross_zone_registration_lists_one_entry_per_zone(cloud, files):
    answer = register(cloud, files.add("cross.qcow2", IMAGE), zoneid="-1")
    assert answer["count"] == len(cloud.zones)
    assert all(t["crossZones"] for t in answer["template"])
    cloud.wait_template(answer["template"][0]["id"])
    listed = cloud.api.listTemplates(templatefilter="self", id=answer["template"][0]["id"])
    assert listed["count"] == len(cloud.zones)


def upload_params(cloud: Cloud, **extra) -> dict:
    return cloud.api.getUploadParamsForTemplate(name=unique("up"), displaytext="uploaded", format="QCOW2",
                                                hypervisor="KVM", zoneid=cloud.zone()["id"],
                                                **extra)["getuploadparams"]


def post(params: dict, data: bytes, **headers) -> requests.Response:
    sent = {"X-signature": params["signature"], "X-metadata": params["metadata"], "X-expires": params["expires"],
            **headers}
    return requests.post(params["postURL"], files={"file": ("image.qcow2", data)}, headers=sent, timeout=10)


def test_upload_params_and_the_signed_multipart_post(cloud):
    params = upload_params(cloud, checksum="{SHA-256}" + sha256(IMAGE))
    assert set(params) == {"id", "postURL", "metadata", "expires", "signature"}
    assert params["postURL"].endswith(f"/upload/{params['id']}")
    waiting = cloud.api.listTemplates(templatefilter="self", id=params["id"])["template"][0]
    assert waiting["isready"] is False and waiting["status"] == "NotUploaded"
    resp = post(params, IMAGE)
    assert resp.status_code == 200, resp.text
    tpl = cloud.api.listTemplates(templatefilter="self", id=params["id"])["template"][0]
    assert tpl["isready"] and tpl["status"] == "Download Complete" and tpl["size"] == len(IMAGE)
    assert cloud.resource("template", params["id"])["sha256"] == sha256(IMAGE)
    again = post(params, IMAGE)
    assert again.status_code == 400 and again.text == "The one time post url is already used"


def test_requireshvm_defaults_differ_by_command_as_in_cloudstack(cloud, files):
    """registerTemplate defaults requireshvm to true, getUploadParamsForTemplate to false (TemplateAdapterBase:
    BooleanUtils.toBoolean(cmd.getRequiresHvm())); given, it is recorded as given."""
    registered = register(cloud, files.add("hvm.qcow2", IMAGE))["template"][0]
    uploaded = cloud.api.listTemplates(templatefilter="self", id=upload_params(cloud)["id"])["template"][0]
    explicit = cloud.api.listTemplates(templatefilter="self",
                                       id=upload_params(cloud, requireshvm=True)["id"])["template"][0]
    assert (registered["requireshvm"], uploaded["requireshvm"], explicit["requireshvm"]) == (True, False, True)


def test_upload_headers_and_signature_are_checked(cloud):
    params = upload_params(cloud)
    missing = requests.post(params["postURL"], files={"file": ("i.qcow2", b"x")}, timeout=10)
    assert (missing.status_code, missing.text) == (400, "signature, metadata and expires are compulsory fields.")
    forged = post({**params, "signature": base64.b64encode(b"0" * 20).decode()}, b"data")
    assert (forged.status_code, forged.text) == (400, "signature validation failed.")
    # The secondary storage's key signs an already expired request: refused for its age.
    psk = (cloud.sim.state_dir / "upload-psk").read_text()
    past = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    signature = base64.b64encode(hmac.new(psk.encode(), (params["metadata"] + params["postURL"] + past).encode(),
                                          "sha1").digest()).decode()
    expired = post({**params, "expires": past, "signature": signature}, b"data")
    assert (expired.status_code, expired.text) == (400, "request not valid anymore.")
    assert post(params, b"finally").status_code == 200


def test_deploy_refuses_a_template_that_is_not_ready(cloud):
    params = upload_params(cloud)
    err = api_error(lambda: cloud.api.deployVirtualMachine(
        zoneid=cloud.zone()["id"], templateid=params["id"], serviceofferingid=cloud.offerings["Small Instance"]["id"]))
    assert err["errorcode"] == 431 and "not been completely downloaded" in err["errortext"]


def test_create_template_from_a_snapshot_and_from_a_stopped_vms_root_volume(cloud):
    vm = cloud.deploy()
    root = cloud.api.listVolumes(virtualmachineid=vm["id"], type="ROOT")["volume"][0]
    ostype = cloud.template()["ostypeid"]
    err = api_error(lambda: cloud.api.createTemplate(name=unique("t"), displaytext="x", ostypeid=ostype,
                                                     volumeid=root["id"]))
    assert err["errortext"] == (f"Unable to create private template for volume: {root['name']}; volume is attached "
                                "to a non-stopped VM, please stop the VM first")
    snap = cloud.api.createSnapshot(volumeid=root["id"])["snapshot"]
    from_snap = cloud.api.createTemplate(name=unique("t"), displaytext="x", ostypeid=ostype,
                                         snapshotid=snap["id"])["template"]
    assert from_snap["isready"] and from_snap["status"] == "Download Complete"
    cloud.api.stopVirtualMachine(id=vm["id"])
    from_vol = cloud.api.createTemplate(name=unique("t"), displaytext="x", ostypeid=ostype,
                                        volumeid=root["id"])["template"]
    assert from_vol["isready"] and from_vol["size"] == root["size"]
    assert cloud.resource("template", from_vol["id"])["sha256"] == cloud.resource("snapshot", snap["id"])["sha256"]
    both = api_error(lambda: cloud.api.createTemplate(name="t", displaytext="x", ostypeid=ostype,
                                                      volumeid=root["id"], snapshotid=snap["id"]))
    assert "please specify only one of volume ID" in both["errortext"]


def test_copy_update_and_delete(cloud, files):
    tpl = cloud.wait_template(register(cloud, files.add("copy.qcow2", IMAGE))["template"][0]["id"])
    other = cloud.zone("Sim-Advanced")["id"]
    copied = cloud.api.copyTemplate(id=tpl["id"], destzoneid=other)["template"]
    assert copied["zoneid"] == other
    assert cloud.api.listTemplates(templatefilter="self", id=tpl["id"])["count"] == 2
    same = api_error(lambda: cloud.api.copyTemplate(id=tpl["id"], sourcezoneid=other, destzoneid=other))
    assert same["errortext"] == "Please specify different source and destination zones."
    renamed = cloud.api.updateTemplate(id=tpl["id"], name="renamed", displaytext="new text")["template"]
    assert (renamed["name"], renamed["displaytext"]) == ("renamed", "new text")
    cloud.api.deleteTemplate(id=tpl["id"], zoneid=other)
    assert cloud.api.listTemplates(templatefilter="self", id=tpl["id"])["count"] == 1
    cloud.api.deleteTemplate(id=tpl["id"])
    assert cloud.api.listTemplates(templatefilter="self", id=tpl["id"]) == {}


def test_delete_is_refused_while_a_vm_uses_the_template_unless_forced(cloud, files):
    tpl = cloud.wait_template(register(cloud, files.add("used.qcow2", IMAGE))["template"][0]["id"])
    vm = cloud.api.deployVirtualMachine(zoneid=cloud.zone()["id"], templateid=tpl["id"], name=unique("u"),
                                        serviceofferingid=cloud.offerings["Small Instance"]["id"])["virtualmachine"]
    err = api_error(lambda: cloud.api.deleteTemplate(id=tpl["id"]))
    assert err["errorcode"] == 431
    assert err["errortext"] == (f"Unable to delete template with id: {tpl['id']} because VM instances: "
                                f"[{vm['instancename']}] are using it.")
    cloud.api.deleteTemplate(id=tpl["id"], forced=True)
    assert cloud.resource("template", tpl["id"]) is None


def test_realistic_download_progresses_over_time(sim_factory, files):
    sim = sim_factory(latency="realistic", time_scale=0.01)   # a download takes ~1.8 s
    cloud = Cloud(sim)
    tpl = register(cloud, files.add("slow.qcow2", IMAGE))["template"][0]
    seen = set()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        current = cloud.api.listTemplates(templatefilter="self", id=tpl["id"])["template"][0]
        seen.add(current["status"])
        if current["isready"]:
            break
        time.sleep(0.1)
    progress = {s for s in seen if s.endswith("% Downloaded")}
    assert "Download Complete" in seen and len(progress) >= 3
    sim.restart()
    again = Cloud(sim).api.listTemplates(templatefilter="self", id=tpl["id"])["template"][0]
    assert again["isready"] and again["size"] == len(IMAGE)
