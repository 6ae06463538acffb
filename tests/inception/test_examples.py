"""The example configs as shipped: plan -> up -> status -> destroy against the simulator, with no flag and no edit
but the placeholder endpoint pointed at the simulator. The only things put next to them are the two files they
name (the stemcell tarball an operator downloads, the CPI release `inception release build` writes); destroy then
leaves nothing of the environment."""
from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from cpi.release import build_release
from tests.inception.conftest import Env

EXAMPLES = Path(__file__).resolve().parents[2] / "manifests" / "examples"


@pytest.fixture(scope="module")
def cpi_release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_release(tmp_path_factory.mktemp("cpi-release"), version="0.1.0").path


def _stemcell(path: Path, name: str) -> None:
    with tarfile.open(path, "w:gz") as tar:
        data = f"name: {name}\nversion: '3468'\noperating_system: ubuntu-trusty\n".encode()
        info = tarfile.TarInfo("stemcell.MF")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))


def example_env(sim, directory: Path, example: str, cpi_release: Path) -> Env:
    directory.mkdir()
    text = (EXAMPLES / example).read_text()
    config = yaml.safe_load(text)
    if config["cloudstack"].get("endpoint"):   # the placeholder every operator replaces with their own
        text = text.replace(config["cloudstack"]["endpoint"], sim.endpoint)
        config["cloudstack"]["endpoint"] = sim.endpoint
    shutil.copy(cpi_release, directory / config["releases"]["cpi"]["file"])
    if config["stemcell"].get("file"):
        _stemcell(directory / config["stemcell"]["file"], config["stemcell"].get("name", "bosh-stemcell"))
    env = Env(sim, directory, config)
    env.config_path.write_text(text)    # the file exactly as shipped, comments and all
    return env


def _manifest(env: Env) -> dict:
    return yaml.safe_load((env.state_dir / "secrets" / "micro-bosh.yml").read_text())


def test_the_example_configs_have_distinct_names() -> None:
    names = [yaml.safe_load((EXAMPLES / f"config-{kind}.yml").read_text())["name"] for kind in ("basic", "advanced")]
    assert len(set(names)) == 2, names


def test_basic_example_up_without_a_director_address(sim_factory, tmp_path: Path, cpi_release: Path) -> None:
    sim = sim_factory()
    env = example_env(sim, tmp_path / "basic", "config-basic.yml", cpi_release)
    plan = env.run("plan")
    assert "Director address 192.0.2.254 in guestNetworkForBasicZone (192.0.2.0/24), chosen now" in \
        " ".join(plan.stdout.split())
    up = env.run("up", "--non-interactive", timeout=300)
    assert "create-env was NOT run" in up.stdout and "passed   CPI create_vm" in up.stdout
    manifest = _manifest(env)
    network = manifest["networks"][0]
    assert network["type"] == "manual" and network["subnets"][0]["range"] == "192.0.2.0/24"
    assert manifest["instance_groups"][0]["networks"] == [{"name": "default", "static_ips": ["192.0.2.254"]}]
    assert "@192.0.2.254:6868" in manifest["cloud_provider"]["mbus"]
    assert "chosen on an earlier run" in " ".join(env.run("plan").stdout.split())   # kept, not re-chosen

    status = env.run("status")
    assert "dev-basic-inception" in status.stdout and "Running" in status.stdout
    assert "director: 192.0.2.254 (the address `up` chose for it)" in status.stdout
    env.run("destroy", "--yes")
    assert env.leftovers() == {} and not _groups(sim, "bosh")
    assert json.loads((env.state_dir / "state.json").read_text()).get("director_ip") is None


def _groups(sim, name: str) -> list:
    return [g for g in sim.resources().get("securitygroup", []) if g["name"] == name]


def test_advanced_example_acquires_its_public_ip_and_destroy_releases_it(sim_factory, tmp_path: Path,
                                                                       cpi_release: Path) -> None:
    sim = sim_factory()
    env = example_env(sim, tmp_path / "advanced", "config-advanced.yml", cpi_release)
    plan = json.loads(env.run("plan", "--json").stdout)
    actions = {r["label"]: r["action"] for r in plan["resources"]}
    assert actions["public IP 203.0.113.200"] == "create"
    up = env.run("up", "--non-interactive", timeout=300)
    assert "created  public IP 203.0.113.200" in up.stdout
    ips = {ip["ipaddress"]: ip for ip in sim.resources()["publicipaddress"]}
    assert not ips["203.0.113.200"]["issourcenat"]
    assert _manifest(env)["instance_groups"][0]["networks"][1] == {"name": "public", "static_ips": ["203.0.113.200"]}
    status = env.run("status")
    assert "203.0.113.200" in status.stdout

    env.run("destroy", "--yes")
    assert env.leftovers() == {}
    assert "203.0.113.200" not in {ip["ipaddress"] for ip in sim.resources().get("publicipaddress", [])}


def test_a_public_ip_the_account_held_before_up_is_kept_by_destroy(sim_factory, tmp_path: Path,
                                                                  cpi_release: Path) -> None:
    """The operator acquired director.public_ip on the environment's network after a first `up`: `up` uses it,
    `destroy` keeps it, and so keeps the network too (CloudStack would release the address with it)."""
    sim = sim_factory()
    env = example_env(sim, tmp_path / "held", "config-advanced.yml", cpi_release)
    config = yaml.safe_load(env.config_path.read_text())
    address = config["director"].pop("public_ip")
    env.write(config)
    env.run("up", "--cloud-only", "--non-interactive")
    cs = sim.cs()
    network = next(n for n in sim.resources()["network"] if n["name"] == "bosh-net")
    cs.associateIpAddress(networkid=network["id"], ipaddress=address, fetch_result=True)
    config["director"]["public_ip"] = address
    env.write(config)
    up = env.run("up", "--cloud-only", "--non-interactive")
    assert f"used     public IP {address}" in up.stdout
    gone = " ".join(env.run("destroy", "--yes").stdout.split())
    assert f"kept public IP {address}" in gone and "kept network bosh-net" in gone
    assert address in {ip["ipaddress"] for ip in sim.resources()["publicipaddress"]}
    assert [n["name"] for n in sim.resources()["network"] if n["id"] == network["id"]] == ["bosh-net"]
