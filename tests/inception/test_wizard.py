"""`inception init` through a pseudo-terminal: every prompt answered, the config saved after each answer, a
re-run asking only what is still unanswered."""
from __future__ import annotations

import io
import sys
from pathlib import Path

import pexpect
import pytest
import yaml

from inception.config.loader import load_config
from tests.inception.conftest import INCEPTION


@pytest.fixture(scope="module")
def cloud(request: pytest.FixtureRequest):
    from simulator.process import RunningSimulator

    sim = RunningSimulator(request.config._tmp_path_factory.mktemp("wizard-sim")).start()  # type: ignore[attr-defined]
    yield sim
    sim.stop()


def _spawn(cloud, cwd: Path, *args: str, **env: str) -> pexpect.spawn:
    """`inception init ARGS` in a pty; `env` adds to or overrides the environment (the simulator's credentials)."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TERM": "dumb", "NO_COLOR": "1", **cloud.env(), **env}
    child = pexpect.spawn(INCEPTION[0], ["init", *args], cwd=str(cwd), env=env, encoding="utf-8", timeout=30,
                          dimensions=(60, 200))
    child.logfile_read = sys.stdout
    return child


def _answer(child: pexpect.spawn, pairs: list[tuple[str, str]]) -> None:
    for prompt, answer in pairs:
        child.expect(prompt)
        child.sendline(answer)


def test_wizard_advanced_zone_writes_a_valid_config(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wiz")])
    child.expect("CloudStack API at .* answers with these")
    _answer(child, [("Number", "2"),                      # zones: 1 Sim-Basic, 2 Sim-Advanced
                    ("Number", "1"),                      # networks: 1 = create a new one
                    ("Network name", ""), ("Its CIDR", "10.9.0.0/24"), ("Reach the inception", "port-forwarding"),
                    ("Egress allowed", ""), ("CIDRs allowed", "198.51.100.0/24, 203.0.113.0/24"),
                    (r"Number \(2\)", ""),                # inception offering: the default is marked
                    (r"Number \(1\)", ""),                # template
                    ("SSH keypair", "create"), ("Keypair name", ""),
                    (r"Number \(2\)", ""),                # director offering
                    ("disk size", "20480"), ("Director IP", "10.9.0.99"),
                    ("Stemcell", "https://example.com/stemcell.tgz"), ("SHA-1", "a" * 40), ("template", "url"),
                    ("system domain", "cf.wiz.example.com"), ("cf-release version", "172")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    config = load_config(tmp_path / "inception.yml")
    assert config.name == "wiz" and config.cloudstack["zone"] == "Sim-Advanced" and config.zone_type == "advanced"
    assert config.networks[0]["cloudstack_network"] == "wiz-net" and config.networks[0]["cidr"] == "10.9.0.0/24"
    assert config["inception"]["public_access"] == "port-forwarding"
    assert config["inception"]["allowed_cidrs"] == ["198.51.100.0/24", "203.0.113.0/24"]
    assert config["inception"]["offering"] == "Medium Instance" and config["inception"]["template"] == "Ubuntu 22.04 LTS"
    assert config["offerings"]["director"] == {"compute": "Medium Instance", "disk_size": 20480}
    assert config.director["ip"] == "10.9.0.99" and config["stemcell"]["sha1"] == "a" * 40
    assert config["releases"]["cf"]["version"] == 172 and config["inception"]["upload_mode"] == "url"
    assert "secret_key" not in config.cloudstack      # it came from CLOUDSTACK_SECRET: never copied into the file
    assert (tmp_path / "inception.yml").stat().st_mode & 0o777 == 0o600

    # --reconfigure asks everything again with the current answers as defaults: Enter keeps each one
    before = yaml.safe_load((tmp_path / "inception.yml").read_text())
    child = _spawn(cloud, tmp_path, "--reconfigure")
    _answer(child, [("Environment name", ""), ("Number", ""), ("Number", ""), ("Network name", ""),
                    ("Its CIDR", ""), ("Reach the inception", ""), ("Egress allowed", ""), ("CIDRs allowed", ""),
                    ("Number", ""), ("Number", ""), ("SSH keypair", ""), ("Keypair name", ""), ("Number", ""),
                    ("disk size", ""), ("Director IP", ""), ("Stemcell", ""), ("SHA-1", ""), ("template", ""),
                    ("system domain", ""), (r"cf-release version.*\(172\)", "168")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    after = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert after["releases"]["cf"].pop("version") == 168 and before["releases"]["cf"].pop("version") == 172
    assert after == before


def test_interrupted_wizard_resumes_with_unanswered_questions_only(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wiz2"), ("Number", "1"), ("Security group to create", "wiz2-sg"),
                    ("CIDRs allowed", "")])
    child.expect("Number")                # the inception offering menu: interrupt here
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    saved = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert saved["networks"] == [{"name": "default", "security_groups": ["wiz2-sg"]}]
    assert "inception" in saved and "offering" not in saved["inception"]

    child = _spawn(cloud, tmp_path)
    index = child.expect(["Environment name", "Zones", "Compute offerings for the inception VM"])
    assert index == 2                      # name, zone and networking are not asked again
    child.sendline("")
    _answer(child, [("Number", ""), ("SSH keypair", "create"), ("Keypair name", ""), ("Number", ""),
                    ("disk size", ""), ("Stemcell", "bosh-stemcell.tgz"), ("template", ""),
                    ("system domain", ""), ("cf-release version", "")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    config = load_config(tmp_path / "inception.yml")
    assert config.name == "wiz2" and config["stemcell"] == {"file": "bosh-stemcell.tgz",
                                                            "name": "bosh-cloudstack-kvm-ubuntu", "version": "latest"}


def test_wrong_credentials_are_reported_and_asked_again_with_the_tried_ones_as_defaults(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path, CLOUDSTACK_SECRET="not-the-secret")
    transcript = io.StringIO()
    child.logfile_read = transcript
    _answer(child, [("Environment name", "creds")])
    child.expect("unable to verify user credentials and/or request signature")
    _answer(child, [(r"API endpoint \(http://127\.0\.0\.1:\d+/client/api\)", ""),   # the endpoint tried
                    ("API key", ""),
                    ("Secret key", cloud.secret_key)])
    child.expect("answers with these")
    child.expect(r"Number \(1\)")   # the zones menu: credentials accepted
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    saved = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert saved["cloudstack"]["secret_key"] == cloud.secret_key and saved["cloudstack"]["api_key"] == cloud.api_key
    assert (tmp_path / "inception.yml").stat().st_mode & 0o777 == 0o600
    assert cloud.secret_key not in transcript.getvalue()   # typed without echo, never printed
    assert "Traceback" not in transcript.getvalue()
    assert f"APIkey({cloud.api_key}):" in "".join(transcript.getvalue().split())   # the key tried, as the default
