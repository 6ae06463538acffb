"""Pre-flight: config mistakes are found before anything is created, all at once, one line each with the fix;
`plan` refuses exactly as `up` does."""
from __future__ import annotations

import json
from pathlib import Path

from cpi.cloudstack.client import CloudStackClient
from inception.cloud.preflight import Problem, preflight
from inception.config.loader import validate_config
from tests.inception.conftest import advanced_config, basic_config, bootstrappable


def _mutations(sim, since: int) -> list[str]:
    return [c["command"] for c in sim.calls()[since:] if not c["command"].startswith(("list", "query"))]


def _client(sim) -> CloudStackClient:
    return CloudStackClient(sim.endpoint, sim.api_key, sim.secret_key)


def test_bad_allowed_cidr_is_refused_before_anything_is_created(sim, make_env) -> None:
    env = make_env(sim, basic_config("pf1"))
    env.config["inception"]["allowed_cidrs"] = ["10.0.0.300/8"]
    env.write(env.config)
    before = len(sim.calls())
    for args in (("plan", "--cloud-only"), ("up", "--cloud-only", "--non-interactive", "--yes")):
        result = env.run(*args, check=False)
        assert result.returncode == 2, result.stdout + result.stderr
        assert "inception.allowed_cidrs[0]: '10.0.0.300/8' is not a valid CIDR" in result.stderr
        assert "fix: write an IPv4 network as address/prefix" in result.stderr
    assert _mutations(sim, before) == []
    assert env.leftovers() == {}


def test_unknown_director_offering_refused_by_plan_and_up_alike(sim, make_env) -> None:
    config = bootstrappable(basic_config("pf2"))
    config["offerings"] = {**config["offerings"], "director": {"compute": "Huge Instance"}}
    env = make_env(sim, config)
    before = len(sim.calls())
    plan = env.run("plan", check=False)
    up = env.run("up", "--non-interactive", "--yes", check=False)
    assert plan.returncode == up.returncode == 1
    line = "offerings.director.compute: no compute offering named 'Huge Instance' (fix: use one of: Custom, " \
           "Large Instance, Medium Instance, Small Instance)"
    assert line in " ".join(plan.stderr.split())
    assert plan.stderr == up.stderr             # the same words, whichever command finds it
    assert "nothing was changed" in up.stderr and "Nothing is lost" not in up.stderr
    assert _mutations(sim, before) == []
    assert env.leftovers() == {}


def test_a_public_key_file_that_is_not_a_key(sim, make_env, tmp_path: Path) -> None:
    env = make_env(sim, basic_config("pf3"))
    (env.dir / "id.pub").write_text("hello, I am not a key\n")
    env.config["inception"]["public_key_file"] = "id.pub"
    env.write(env.config)
    before = len(sim.calls())
    result = env.run("up", "--cloud-only", "--non-interactive", "--yes", check=False)
    assert result.returncode == 1
    assert "inception.public_key_file: " in result.stderr and "is not an SSH public key" in result.stderr
    assert _mutations(sim, before) == []     # registerSSHKeyPair never saw it


def test_every_problem_at_once_from_the_function_the_wizard_calls(sim, tmp_path: Path) -> None:
    (tmp_path / "key.pub").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nxx\n-----END OPENSSH PRIVATE KEY-----\n")
    data = bootstrappable(advanced_config("pf4", template="No Such Template", public_key_file="key.pub"))
    data["offerings"] = {"director": {"compute": "Medium Instance", "disk_offering": "Gigantic"},
                         "vm_types": {"small": {"compute": "Tiny"}}}
    data["stemcell"] = {"file": "missing-stemcell.tgz"}
    data["releases"] = {"bosh": {"version": "280.1.6", "url": "https://bosh.io/d/github.com/cloudfoundry/bosh?v=280.1.6"}}
    config = validate_config(data, str(tmp_path / "inception.yml"))
    problems = preflight(config, _client(sim), remote=False)
    keys = [p.key for p in problems]
    assert keys == ["inception.public_key_file", "stemcell.file", "offerings.vm_types.small.compute",
                    "offerings.director.disk_offering", "inception.template"], problems
    assert all(isinstance(p, Problem) and p.fix for p in problems)
    assert "it is a private key: point at its .pub" in str(problems[0])
    # on a real cloud, artifacts by URL need checksums and the bosh CLI must be configured
    remote = [p.key for p in preflight(config, _client(sim))]
    assert "inception.bosh_cli" in remote and "releases.bosh.sha1" in remote


def test_a_clean_config_passes(sim, tmp_path: Path) -> None:
    config = validate_config(bootstrappable(advanced_config("pf5")), str(tmp_path / "inception.yml"))
    assert preflight(config, _client(sim), remote=False) == []


def test_unknown_zone_is_one_problem_naming_the_zones(sim, tmp_path: Path) -> None:
    data = basic_config("pf6")
    data["cloudstack"]["zone"] = "Atlantis"
    problems = preflight(validate_config(data, "inception.yml"), _client(sim), bootstrap=False)
    assert [str(p) for p in problems] == ["cloudstack.zone: zone 'Atlantis' does not exist (fix: use one of: "
                                          "Sim-Advanced, Sim-Basic)"]


def test_a_director_ip_another_vm_holds_is_refused(sim, make_env) -> None:
    env = make_env(sim, bootstrappable(advanced_config("pf7")))
    env.run("up", "--cloud-only", "--non-interactive")
    held = json.loads((env.state_dir / "state.json").read_text())["outputs"]["inception_private_ip"]
    env.config["director"]["ip"] = held
    env.write(env.config)
    plan = env.run("plan", check=False)
    assert plan.returncode == 1
    assert f"director.ip: {held} is held by VM pf7-inception (fix: pick a free address)" in plan.stderr
    assert env.run("plan", "--cloud-only").returncode == 0     # the CloudStack side alone does not need it
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_a_director_public_ip_that_is_the_source_nat_address_is_refused(sim, make_env) -> None:
    env = make_env(sim, advanced_config("pf8"))
    env.run("up", "--cloud-only", "--non-interactive")
    network = next(n for n in sim.resources()["network"] if n["name"] == "pf8-net")
    source_nat = next(ip["ipaddress"] for ip in sim.resources()["publicipaddress"]
                      if ip.get("associatednetworkid") == network["id"] and ip["issourcenat"])
    env.config["director"]["public_ip"] = source_nat
    env.write(env.config)
    before = len(sim.calls())
    plan = env.run("plan", "--cloud-only", check=False)
    assert plan.returncode == 1
    assert f"director.public_ip: {source_nat} is the source NAT address of network pf8-net" in plan.stderr
    assert _mutations(sim, before) == []
    del env.config["director"]["public_ip"]
    env.write(env.config)
    env.run("destroy", "--yes")
    assert env.leftovers() == {}


def test_a_basic_zone_manual_network_outside_the_shared_network_is_refused(sim, tmp_path: Path) -> None:
    data = basic_config("pf9")
    data["networks"] = [{"name": "default", "type": "manual", "cidr": "10.9.0.0/24", "gateway": "10.9.0.1",
                         "security_groups": ["pf9-bosh"]}]
    data["director"] = {"ip": "10.9.0.10"}
    problems = preflight(validate_config(data, "inception.yml"), _client(sim), bootstrap=False)
    assert [p.key for p in problems] == ["networks[0].cidr"]
    assert "not inside zone Sim-Basic's shared guest network guestNetworkForBasicZone (192.0.2.0/24)" in \
        str(problems[0])
    data["networks"][0].update(cidr="192.0.2.0/24", gateway="192.0.2.1")
    data["director"] = {"ip": "192.0.2.10"}
    assert preflight(validate_config(data, "inception.yml"), _client(sim), bootstrap=False) == []
