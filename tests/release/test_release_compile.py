"""What `bosh create-env` does with the release, done for real: compile the package by running its `packaging`
script with bash (offline pip, plain python3 on PATH, BOSH_* variables), render the job templates with Ruby's ERB,
then run the rendered bin/cpi: `info`, and a call that reaches CloudStack (the simulator) through the installed
dependencies."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.release.conftest import Extracted

RENDERER = Path(__file__).with_name("render_template.rb")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # no venv, no pyenv shims


@dataclass(frozen=True)
class Installation:
    packages_dir: Path
    jobs_dir: Path
    compile_log: str


def render(release: Extracted, template: str, properties: dict, dest: Path) -> None:
    spec = yaml.safe_load((release.job / "job.MF").read_text())
    defaults = {name: definition.get("default") for name, definition in spec["properties"].items()}
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", suffix=".json") as context:
        json.dump({"properties": properties, "default_properties": defaults}, context)
        context.flush()
        result = subprocess.run(["ruby", str(RENDERER), context.name, str(release.job / "templates" / template),
                                 str(dest)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)


def manifest_properties(sim) -> dict:
    return {
        "cloudstack": {"endpoint": sim.endpoint, "api_key": sim.api_key, "secret_access_key": sim.secret_key,
                       "default_zone": "Sim-Basic"},
        "agent": {"mbus": "https://mbus:mbus-password@0.0.0.0:6868", "blobstore": {"provider": "local",
                  "options": {"blobstore_path": "/var/vcap/micro_bosh/data/cache"}}},
    }


@pytest.fixture(scope="module")
def installed(release: Extracted, sim, tmp_path_factory: pytest.TempPathFactory) -> Installation:
    assert shutil.which("ruby"), "ruby is required to render job templates (scripts/test.sh installs it)"
    root = tmp_path_factory.mktemp("create-env")
    compile_dir = root / "compile" / "cloudstack_cpi"
    shutil.copytree(release.package, compile_dir)
    packages_dir = root / "packages"
    install_target = packages_dir / "cloudstack_cpi"
    install_target.mkdir(parents=True)
    env = {
        "PATH": SYSTEM_PATH, "HOME": str(root), "LANG": "C.UTF-8",
        "BOSH_COMPILE_TARGET": str(compile_dir), "BOSH_INSTALL_TARGET": str(install_target),
        "BOSH_PACKAGE_NAME": "cloudstack_cpi", "BOSH_PACKAGE_VERSION": release.manifest["packages"][0]["version"],
        "BOSH_PACKAGES_DIR": str(packages_dir),
        "PIP_NO_INDEX": "1",  # no network: everything must come from the vendored wheels
    }
    result = subprocess.run(["bash", "-x", "packaging"], cwd=compile_dir, env=env, capture_output=True, text=True,
                            timeout=240)
    assert result.returncode == 0, result.stdout + result.stderr
    jobs_dir = root / "jobs"
    job_dir = jobs_dir / "cloudstack_cpi"
    render(release, "cpi.erb", manifest_properties(sim), job_dir / "bin" / "cpi")
    render(release, "cpi.json.erb", manifest_properties(sim), job_dir / "config" / "cpi.json")
    (job_dir / "bin" / "cpi").chmod(0o755)
    return Installation(packages_dir, jobs_dir, result.stdout + result.stderr)


def run_cpi(installed: Installation, request: dict) -> dict:
    env = {"PATH": SYSTEM_PATH, "HOME": "/nonexistent", "BOSH_PACKAGES_DIR": str(installed.packages_dir),
           "BOSH_JOBS_DIR": str(installed.jobs_dir)}
    result = subprocess.run([str(installed.jobs_dir / "cloudstack_cpi" / "bin" / "cpi")], input=json.dumps(request),
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_package_compiles_offline_with_system_python(installed: Installation) -> None:
    lib = installed.packages_dir / "cloudstack_cpi" / "lib"
    for module in ("cpi", "cs", "requests", "jsonschema", "rpds", "isal"):
        assert (lib / module).is_dir(), module
    assert not (lib / "cpi" / "release").exists()
    launcher = (installed.packages_dir / "cloudstack_cpi" / "bin" / "cloudstack-cpi").read_text()
    assert "from cpi.main import main" in launcher
    assert "/.venv/" not in launcher  # compiled with the machine's python3, not the test runner's


def test_rendered_config(installed: Installation, sim) -> None:
    config = json.loads((installed.jobs_dir / "cloudstack_cpi" / "config" / "cpi.json").read_text())
    assert config["cloud"]["plugin"] == "cloudstack"
    cloudstack = config["cloud"]["properties"]["cloudstack"]
    assert (cloudstack["endpoint"], cloudstack["api_key"], cloudstack["secret_access_key"]) == (
        sim.endpoint, sim.api_key, sim.secret_key)
    assert cloudstack["default_zone"] == "Sim-Basic"
    # keys other CPIs' names also set have no spec default (the CPI applies 600, true, false, {})
    assert not {"state_timeout", "expunge", "stemcell_public_visibility", "timeouts"} & set(cloudstack)
    assert cloudstack["stemcell_upload"] == "auto"  # a spec default
    assert "default_key_name" not in cloudstack and "ca_cert" not in cloudstack  # optional, unset
    agent = config["cloud"]["properties"]["agent"]
    assert agent == {"mbus": "https://mbus:mbus-password@0.0.0.0:6868", "ntp": [],
                     "blobstore": {"provider": "local", "options": {"blobstore_path": "/var/vcap/micro_bosh/data/cache"}}}


def test_rendered_bin_cpi_answers_info(installed: Installation) -> None:
    response = run_cpi(installed, {"method": "info", "arguments": [], "context": {"director_uuid": "x"}})
    assert response["error"] is None
    assert response["result"]["api_version"] == 2
    assert "cloudstack-raw" in response["result"]["stemcell_formats"]


def test_rendered_bin_cpi_reaches_cloudstack(installed: Installation) -> None:
    response = run_cpi(installed, {"method": "has_vm", "arguments": ["no-such-vm"],
                                   "context": {"director_uuid": "x"}, "api_version": 2})
    assert response["error"] is None, response["error"]
    assert response["result"] is False


def test_missing_required_property_fails_rendering(release: Extracted, tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="Can't find property 'cloudstack.endpoint'"):
        render(release, "cpi.json.erb", {"cloudstack": {"api_key": "k", "secret_access_key": "s"}},
               tmp_path / "cpi.json")


def test_bin_cpi_honours_bosh_defaults(release: Extracted, tmp_path: Path) -> None:
    render(release, "cpi.erb", {}, tmp_path / "cpi")
    text = (tmp_path / "cpi").read_text()
    assert "BOSH_PACKAGES_DIR=${BOSH_PACKAGES_DIR:-/var/vcap/packages}" in text
    assert '"$BOSH_JOBS_DIR/cloudstack_cpi/config/cpi.json"' in text
    assert subprocess.run(["bash", "-n", str(tmp_path / "cpi")]).returncode == 0
