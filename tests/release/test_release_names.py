"""A manifest written for the Go CPI (bosh-deployment's cloudstack/cpi.yml block) rendered by this release's job
template with Ruby's ERB, then read by the real CPI process: every name maps onto this CPI's config, unknown names
are warned about in the response's log, and a multi-CPI context overrides the job's properties."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
import yaml

from cpi.release.builder import cpi_json_template, job_spec
from tests.cpi.cpi_runner import call, error, ok
from tests.cpi.fixtures import own

RENDERER = Path(__file__).with_name("render_template.rb")


def render_cpi_json(properties: dict[str, Any], dest: Path) -> dict[str, Any]:
    """templates/cpi.json.erb rendered as BOSH does: only the spec's properties, spec defaults filled in."""
    assert shutil.which("ruby"), "ruby is required to render job templates (scripts/test.sh installs it)"
    spec = yaml.safe_load(job_spec())
    defaults = {name: definition.get("default") for name, definition in spec["properties"].items()}
    template = dest.with_suffix(".erb")
    template.write_text(cpi_json_template())
    with tempfile.NamedTemporaryFile("w", suffix=".json") as context:
        json.dump({"properties": properties, "default_properties": defaults}, context)
        context.flush()
        result = subprocess.run(["ruby", str(RENDERER), context.name, str(template), str(dest)],
                                capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    dest.chmod(0o600)
    return json.loads(dest.read_text())


def go_cpi_block(sim: Any) -> dict[str, Any]:
    """The `cloudstack:` block of bosh-deployment cloudstack/cpi.yml (cloudfoundry/bosh-deployment@0dbff9b2), with
    this simulator's endpoint and keys, and the companion auto-anti-affinity.yml."""
    return {
        "endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key,
        "default_key_name": "", "default_zone": "Sim-Basic", "private_key": "not_used",
        "stemcell": {"public_visibility": True, "requires_hvm": False, "os_type": "Other PV (64-bit)"},
        "timeout": {"global": 1800, "reboot_vm": 1800, "create_vm": 1800, "delete_vm": 1800, "stop_vm": 1800,
                    "create_volume": 1800, "delete_volume": 1800, "resize_volume": 1800, "poll_template": 1800,
                    "snapshot_volume": 1800, "delete_snapshot_volume": 1800, "attach_volume": 36000,
                    "detach_volume": 1800},
        "proxy_host": "", "proxy_user": "", "proxy_password": "", "proxy_port": "",
        "clean_disk": True, "interval_clean_disk": 1, "expunge_vm": False,
        "calculate": {"disk_tags": [], "not_disk_tags": [], "compute_tags": [], "not_compute_tags": []},
        "default_offer": {"disk": "", "ephemeral_disk": "", "custom_disk": "Custom"},
        "enable_auto_anti_affinity": True,
    }


def test_go_cpi_names_render_and_map_onto_this_cpis_config(sim, tmp_path: Path) -> None:
    properties = {"cloudstack": go_cpi_block(sim), "ntp": ["time1.example.org"],
                  "agent": {"mbus": "https://mbus:p@0.0.0.0:6868"}}
    doc = render_cpi_json(properties, tmp_path / "cpi.json")
    cloudstack = doc["cloud"]["properties"]["cloudstack"]
    assert cloudstack["timeout.global"] == 1800 and cloudstack["stemcell.os_type"] == "Other PV (64-bit)"
    assert cloudstack["expunge_vm"] is False and doc["cloud"]["properties"]["ntp"] == ["time1.example.org"]

    from cpi.config import load_config
    config = load_config(str(tmp_path / "cpi.json"))
    assert (config.state_timeout, config.state_timeout_volume) == (1800, 1800)
    assert config.timeouts["attach_volume"] == 36000 and config.timeouts["delete_snapshot"] == 1800
    assert config.timeouts["upload_template"] == 1800
    assert config.expunge is False and config.stemcell_public_visibility is True
    assert config.stemcell_os_type == "Other PV (64-bit)"
    from cpi import config_names  # stemcell_requires_hvm itself is create_stemcell's key (cpi/config.py)
    assert config_names.normalise(cloudstack, set()).cloudstack["stemcell_requires_hvm"] is False
    assert config.custom_disk_offering == "Custom" and config.default_disk_offering is None
    assert config.enable_auto_anti_affinity is True and config.agent.ntp == ["time1.example.org"]

    # the real CPI process: known names without effect are said once each, and nothing is "unknown"
    response = call(tmp_path / "cpi.json", "has_vm", "no-such-vm")
    assert response["error"] is None and response["result"] is False
    assert "cloudstack.clean_disk has no effect" in response["log"]
    assert "timeout.stop_vm has no effect" in response["log"]
    assert "is not a property of this CPI" not in response["log"]


def test_expunge_vm_false_is_honoured(sim, tmp_path: Path) -> None:
    """The Go name has its effect: delete_vm leaves the VM Destroyed (not expunged)."""
    from tests.cpi.fixtures import STEMCELL_PROPERTIES, make_image
    block = {**go_cpi_block(sim), "enable_auto_anti_affinity": False,
             "timeout": {"global": 60}, "stemcell": {"public_visibility": False}}
    render_cpi_json({"cloudstack": block}, tmp_path / "cpi.json")
    config = tmp_path / "cpi.json"
    image, _ = make_image(tmp_path, seed=41)
    stemcell = ok(config, "create_stemcell", str(image), STEMCELL_PROPERTIES)
    networks = {"default": {"type": "dynamic", "cloud_properties": {}, "default": ["dns", "gateway"]}}
    vm_cid, _ = ok(config, "create_vm", "agent-x", stemcell, {"compute_offering": "Small Instance"}, networks, [], {})
    ok(config, "delete_vm", vm_cid)
    vms = [vm for vm in own(sim.resources(), "virtualmachine") if vm["id"] == vm_cid]
    assert [vm["state"] for vm in vms] == ["Destroyed"]
    sim.cs().expungeVirtualMachine(id=vm_cid, fetch_result=True)
    ok(config, "delete_stemcell", stemcell)


def test_unknown_and_conflicting_names(sim, tmp_path: Path) -> None:
    config = tmp_path / "cpi.json"
    block = {"endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key,
             "default_zone": "Sim-Basic", "state_timeout_volum": 100}
    config.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": block}}}))
    response = call(config, "has_vm", "no-such-vm")
    assert response["error"] is None
    assert "cloudstack.state_timeout_volum is not a property of this CPI; ignored" in response["log"]

    block = {**block, "expunge": True, "expunge_vm": False}
    config.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": block}}}))
    err = error(config, "has_vm", "no-such-vm")
    assert err["type"] == "Bosh::Clouds::CpiError"
    assert "cloudstack.expunge_vm and cloudstack.expunge give expunge different values" in err["message"]

    block = {**block, "expunge_vm": True, "proxy_host": "proxy.example.org"}
    config.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": block}}}))
    assert "does not use a proxy" in error(config, "has_vm", "x")["message"]


def test_multi_cpi_context_overrides_the_job_config(sim, tmp_path: Path) -> None:
    """The Director puts a cpi-config's properties at the top of the context (beside director_uuid, request_id,
    vm); they override the job's cloudstack properties key by key, as the OpenStack CPI merges them."""
    config = tmp_path / "cpi.json"
    block = {"endpoint": "http://127.0.0.1:9/client/api", "api_key": "wrong", "secret_access_key": "wrong",
             "default_zone": "Sim-Basic", "state_timeout": 30}
    config.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": block}}}))
    # the job's own endpoint cannot be reached
    assert error(config, "has_vm", "x")["type"] == "Bosh::Clouds::CloudError"
    context = {"director_uuid": "d", "request_id": "cpi-1", "vm": {"stemcell": {"api_version": 2}},
               "endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key}
    response = call(config, "has_vm", "x", context=context)
    assert response["error"] is None and response["result"] is False
    assert "from the request context (cpi-config): api_key, endpoint, secret_access_key" in response["log"]
    assert sim.secret_key not in response["log"]
    # a bad value from the context is named as such
    err = error(config, "has_vm", "x", context={**context, "state_timeout": -1})
    assert "cloudstack.state_timeout (from the request context" in err["message"]


@pytest.mark.parametrize("name", ["timeout.global", "stemcell.os_type"])
def test_nested_and_dotted_spellings_agree(name: str) -> None:
    from cpi.config import parse_config
    group, key = name.split(".")
    value = 300 if group == "timeout" else "Other PV (64-bit)"
    base = {"endpoint": "http://x/client/api", "api_key": "k", "secret_access_key": "s"}
    dotted = parse_config({"cloud": {"properties": {"cloudstack": {**base, name: value}}}})
    nested = parse_config({"cloud": {"properties": {"cloudstack": {**base, group: {key: value}}}}})
    assert dotted == nested


def test_manifest_check_warns_on_unknown_cpi_names_and_not_on_other_cpis_ones() -> None:
    """At render/check time (`inception manifests check`, which reads the CPI job spec from cpi/release): a
    cloudstack property of the director's instance group that the spec does not declare is a warning (the director
    would drop it silently); the Go CPI's names are declared, so they pass."""
    from inception.manifests.release_check import release_findings
    golden = Path(__file__).resolve().parents[1] / "manifests" / "golden" / "micro-advanced.yml"
    doc = yaml.safe_load(golden.read_text())
    cloudstack = doc["instance_groups"][0]["properties"]["cloudstack"]
    cloudstack.update({"timeout": {"global": 1800, "attach_volume": 36000}, "expunge_vm": True,
                       "enable_auto_anti_affinity": True, "default_offer": {"custom_disk": "Custom"}})
    assert [str(v) for v in release_findings(doc) if "cloudstack." in str(v)] == []
    cloudstack["timeout"]["globel"] = 1800
    cloudstack["stemcel_upload"] = "upload"
    warned = [str(v) for v in release_findings(doc) if v.warning]
    assert any("cloudstack.timeout.globel" in w for w in warned), warned
    assert any("cloudstack.stemcel_upload" in w for w in warned), warned


def test_ruby_cpi_names(sim, tmp_path: Path) -> None:
    """The 2014 community CPI's names: metadata_server (a host) becomes metadata_url, connection_options'
    read_timeout the request timeout; its polling interval and micro-deployer SSH settings are said to do nothing."""
    from cpi.config import load_config
    config = tmp_path / "cpi.json"
    block = {"endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key,
             "default_zone": "Sim-Basic", "metadata_server": "10.0.0.1", "wait_resource_poll_interval": 5,
             "connection_options": {"read_timeout": 90, "connect_timeout": 10}, "ssh_user": "vcap",
             "state_timeout": 300, "state_timeout_volume": 1200}
    config.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {
        "cloudstack": block, "registry": {"endpoint": "http://r:25777", "user": "u", "password": "p"}}}}))
    loaded = load_config(str(config))
    assert loaded.metadata_urls == ("http://10.0.0.1",) and loaded.request_timeout == 90
    assert (loaded.state_timeout, loaded.state_timeout_volume) == (300, 1200)
    response = call(config, "has_vm", "no-such-vm")
    assert response["error"] is None
    for name in ("wait_resource_poll_interval", "connection_options.connect_timeout", "ssh_user"):
        assert f"cloudstack.{name} has no effect" in response["log"], name
    assert "registry has no effect in this CPI" in response["log"] and "\"p\"" not in response["log"]
