"""The executable's contract: one JSON response on stdout, exit 0, proper BOSH errors, lazy imports."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cpi.cpi_runner import CPI, call, error, run_raw


def response_of(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0
    assert b"Traceback" not in proc.stdout
    return json.loads(proc.stdout)


def test_info_v2_formats() -> None:
    response = call(None, "info", api_version=None)
    assert response["error"] is None
    assert response["result"]["api_version"] == 2
    assert "cloudstack-vhdx" in response["result"]["stemcell_formats"]
    assert "cloudstack-raw" in response["result"]["stemcell_formats"]
    assert isinstance(response["log"], str)


@pytest.mark.parametrize("stdin, fragment", [
    ("not json", "not JSON"),
    ("", "not JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('{"arguments": []}', "'method'"),
    ('{"method": "info", "arguments": {}}', "'arguments' must be an array"),
    ('{"method": "info", "arguments": [], "context": []}', "'context'"),
    ('{"method": "info", "arguments": [], "api_version": 3}', "api_version 3 is not supported"),
    ('{"method": "info", "arguments": [], "api_version": "2"}', "positive integer"),
    (b'\xff\xfe{', "not JSON"),
])
def test_malformed_requests_are_cpi_errors(stdin: str, fragment: str) -> None:
    response = response_of(run_raw(stdin))
    assert response["result"] is None
    assert response["error"]["type"] == "Bosh::Clouds::CpiError"
    assert fragment in response["error"]["message"]
    assert response["error"]["ok_to_retry"] is False


def test_unknown_method_is_not_implemented() -> None:
    err = error(None, "current_vm_id")
    assert err["type"] == "Bosh::Clouds::NotImplemented"
    assert "current_vm_id" in err["message"]


def test_configure_networks_is_not_supported() -> None:
    assert error(None, "configure_networks", "vm", {})["type"] == "Bosh::Clouds::NotSupported"


@pytest.mark.parametrize("method, arguments, fragment", [
    ("has_vm", [], "wrong number of arguments: got 0"),
    ("has_vm", ["a", "b"], "wrong number of arguments: got 2"),
    ("has_vm", [42], "vm_cid must be a string, got an integer"),
    ("create_disk", ["1024", {}], "size must be an integer, got a string"),
    ("create_disk", [True, {}], "size must be an integer, got a boolean"),
    ("attach_disk", ["vm", None], "disk_cid must be a string, got null"),
    ("create_vm", ["agent", "stemcell", [], {}], "cloud_properties must be an object, got an array"),
    ("set_vm_metadata", ["vm", "x"], "metadata must be an object"),
    ("calculate_vm_cloud_properties", [], "wrong number of arguments"),
])
def test_argument_errors(method: str, arguments: list, fragment: str) -> None:
    err = error(Path("/nonexistent/cpi.json"), method, *arguments)
    assert err["type"] == "Bosh::Clouds::CpiError"
    assert fragment in err["message"]


def test_bad_config_file(tmp_path: Path) -> None:
    missing = error(tmp_path / "absent.json", "has_vm", "vm")
    assert missing["type"] == "Bosh::Clouds::CpiError" and "absent.json" in missing["message"]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    assert "not JSON" in error(bad, "has_vm", "vm")["message"]


@pytest.mark.parametrize("cloudstack, fragment", [
    ({"api_key": "k", "secret_access_key": "s"}, "'endpoint' is a required property"),
    ({"endpoint": "ftp://x", "api_key": "k", "secret_access_key": "s"}, "cloud.properties.cloudstack.endpoint"),
    ({"endpoint": "http://x", "api_key": "k", "secret_access_key": "s", "state_timeout": "soon"},
     "state_timeout: type check failed"),
    ({"endpoint": "http://x", "api_key": "k", "secret_access_key": "s", "stemcell_upload": "ftp"},
     "expected one of auto, volume, url, upload"),
])
def test_invalid_config_names_key_without_secrets(tmp_path: Path, cloudstack: dict, fragment: str) -> None:
    path = tmp_path / "cpi.json"
    path.write_text(json.dumps({"cloud": {"plugin": "cloudstack", "properties": {"cloudstack": cloudstack}}}))
    err = error(path, "has_vm", "vm")
    assert err["type"] == "Bosh::Clouds::CpiError"
    assert fragment in err["message"]
    assert str(path) in err["message"]
    assert "secret_access_key\": \"s" not in err["message"]


def test_config_default_path_from_bosh_jobs_dir(tmp_path: Path) -> None:
    proc = run_raw(json.dumps({"method": "has_vm", "arguments": ["x"]}), env={"BOSH_JOBS_DIR": str(tmp_path)})
    message = response_of(proc)["error"]["message"]
    assert str(tmp_path / "cloudstack_cpi" / "config" / "cpi.json") in message


def test_bad_command_line_is_a_cpi_error() -> None:
    response = response_of(run_raw('{"method": "info", "arguments": []}', "--frobnicate"))
    assert response["error"]["type"] == "Bosh::Clouds::CpiError"
    assert "unknown option --frobnicate" in response["error"]["message"]


def _imported_modules(stdin: str, *args: str) -> set[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime"] + CPI[1:] + list(args), input=stdin.encode(),
                          capture_output=True, timeout=60)
    assert proc.returncode == 0
    json.loads(proc.stdout)
    return {m.group(1).strip() for m in re.finditer(r"^import time:.*\|\s*(\S+)\s*$", proc.stderr.decode(), re.M)}


@pytest.mark.parametrize("stdin", [
    '{"method": "info", "arguments": []}',
    '{"method": "has_vm", "arguments": [1]}',
    '{"method": "nope", "arguments": []}',
    'garbage',
])
def test_info_and_argument_errors_do_not_import_the_http_stack(stdin: str) -> None:
    modules = _imported_modules(stdin)
    assert "cpi.protocol" in modules  # the check itself works
    for heavy in ("requests", "cs", "urllib3", "jsonschema", "cpi.cloudstack.client"):
        assert heavy not in modules, f"{heavy} imported for {stdin}"


def test_bad_config_does_not_import_the_http_stack(tmp_path: Path) -> None:
    modules = _imported_modules('{"method": "has_vm", "arguments": ["x"]}', "--config", str(tmp_path / "none.json"))
    assert "requests" not in modules and "cs" not in modules
