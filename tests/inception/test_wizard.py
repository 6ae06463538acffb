"""`inception init` through a pseudo-terminal: every prompt answered, the config saved after each answer, a
re-run asking only what is still unanswered, wrong answers explained and asked again (never the end of the
wizard), and the configs it writes brought up and torn down with no manual step."""
from __future__ import annotations

import io
import re
import subprocess
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


def _env(cloud, cwd: Path, **env: str) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "TERM": "vt100", "NO_COLOR": "1",
            **cloud.env(), **env}


def _spawn(cloud, cwd: Path, *args: str, **env: str) -> pexpect.spawn:
    """`inception init ARGS` in a pty; `env` adds to or overrides the environment (the simulator's credentials)."""
    child = pexpect.spawn(INCEPTION[0], ["init", *args], cwd=str(cwd), env=_env(cloud, cwd, **env), encoding="utf-8",
                          timeout=30, dimensions=(60, 200))
    child.logfile_read = sys.stdout
    return child


def _answer(child: pexpect.spawn, pairs: list[tuple[str, str]]) -> None:
    for prompt, answer in pairs:
        child.expect(prompt)
        child.sendline(answer)


def _refused(child: pexpect.spawn, answer: str, hint: str, prompt: str) -> None:
    """A wrong `answer`: the wizard says why (`hint`, no regex) and asks `prompt` again."""
    child.sendline(answer)
    child.expect(hint)
    child.expect(prompt)
    assert "^" not in child.before and "Traceback" not in child.before


def _inception(cloud, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([*INCEPTION, *args], cwd=cwd, env={**_env(cloud, cwd), "COLUMNS": "200"},
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"inception {' '.join(args)}: rc {result.returncode}\n{result.stdout}{result.stderr}"
    return result


def _bring_up_and_tear_down(cloud, cwd: Path, name: str) -> str:
    """plan -> up -> status -> destroy on the config the wizard wrote, no flag, no edit; returns what plan and
    up printed."""
    plan = _inception(cloud, cwd, "plan")
    assert "create" in plan.stdout and "refused" not in plan.stdout.lower()
    up = _inception(cloud, cwd, "up", "--non-interactive")
    status = _inception(cloud, cwd, "status")
    assert f"{name}-inception" in status.stdout and "Running" in status.stdout
    _inception(cloud, cwd, "destroy", "--yes")
    assert _inception(cloud, cwd, "plan").stdout.count("create") >= 2     # all gone: everything to create again
    tags = [t for t in cloud.resources().get("tag", []) if t["key"] == "inception-environment" and t["value"] == name]
    assert tags == []
    return plan.stdout + up.stdout


ADVANCED = [("Environment name", "wiz")]
ADVANCED_AFTER_CREDENTIALS = [
    ("Number or name", "sim-adv"),                     # zones by (a prefix of) name, in any case
    ("Number or name", "1"),                           # networks: 1 = create a new one
    ("Network name", ""), ("Its CIDR", "10.9.0.0/24"), ("Reach the inception", "port"),
    ("Egress allowed", "")]


def test_wizard_advanced_zone_asks_again_on_bad_answers_and_writes_a_config_that_comes_up(cloud, tmp_path) -> None:
    child = _spawn(cloud, tmp_path)
    _answer(child, ADVANCED)
    child.expect("CloudStack API at .* answers with these")
    _answer(child, ADVANCED_AFTER_CREDENTIALS)
    child.expect("CIDRs allowed")
    _refused(child, "foo", "'foo' is not a CIDR: write a network and its prefix length", "CIDRs allowed")
    _refused(child, "10.0.0.300/8", "is not a CIDR: write four numbers 0-255", "CIDRs allowed")
    child.sendline("198.51.100.0/24, 203.0.113.0/24")
    _answer(child, [(r"Number or name.{0,12}\(2\)", "small"),      # inception offering by name
                    (r"Number or name.{0,12}\(1\)", ""),          # template
                    ("SSH keypair", "create"), ("Keypair name", ""),
                    (r"Number or name.{0,12}\(2\)", "9"),         # director offering: no such number...
                    ("there is no number 9 here: pick 1 to 3", ""),   # ...asked again, Enter takes the default
                    ("disk size", "20480")])
    child.expect("Director IP")
    _refused(child, "10.9.0.1", "10.9.0.1 is the network's gateway", "Director IP")
    _refused(child, "10.9.1.5", "outside the network 10.9.0.0/24", "Director IP")
    child.sendline("10.9.0.99")
    child.expect("none: reach the director through the inception VM")   # the network does not exist yet
    _answer(child, [("Number or name", ""),
                    ("Stemcell", "https://example.com/stemcell.tgz")])
    child.expect("SHA-1")
    _refused(child, "not-hex-at-all", "is not a checksum: a SHA-1 is 40 hex digits", "SHA-1")
    child.sendline("a" * 40)
    _answer(child, [("template", "url"), ("bosh release for the director", ""), ("SHA-1", "b" * 40)])
    child.expect("system domain")
    _refused(child, "not a domain", "is not a DNS domain", "system domain")
    child.sendline("cf.wiz.example.com")
    child.expect("cf-release version")
    _refused(child, "v99", "renders cf-release 160 to 180", "cf-release version")
    child.sendline("v172")                               # the docs' form
    child.expect("is complete")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    config = load_config(tmp_path / "inception.yml")
    assert config.name == "wiz" and config.cloudstack["zone"] == "Sim-Advanced" and config.zone_type == "advanced"
    assert config.networks[0]["cloudstack_network"] == "wiz-net" and config.networks[0]["cidr"] == "10.9.0.0/24"
    assert config["inception"]["public_access"] == "port-forwarding"
    assert config["inception"]["allowed_cidrs"] == ["198.51.100.0/24", "203.0.113.0/24"]
    assert config["inception"]["offering"] == "Small Instance" and config["inception"]["template"] == "Ubuntu 22.04 LTS"
    assert config["offerings"]["director"] == {"compute": "Medium Instance", "disk_size": 20480}
    assert config.director["ip"] == "10.9.0.99" and config["stemcell"]["sha1"] == "a" * 40
    assert config["releases"]["bosh"] == {"version": "262.3", "sha1": "b" * 40,
                                          "url": "https://bosh.io/d/github.com/cloudfoundry/bosh?v=262.3"}
    assert config["releases"]["cf"]["version"] == 172 and config["inception"]["upload_mode"] == "url"
    assert "secret_key" not in config.cloudstack      # it came from CLOUDSTACK_SECRET: never copied into the file
    assert (tmp_path / "inception.yml").stat().st_mode & 0o777 == 0o600

    # --reconfigure asks everything again with the current answers as defaults: Enter keeps each one; a new
    # CIDR makes the old director IP wrong: it is dropped and asked again with a default inside the new CIDR,
    # and a bad answer on the way loses none of the new ones
    before = yaml.safe_load((tmp_path / "inception.yml").read_text())
    child = _spawn(cloud, tmp_path, "--reconfigure")
    _answer(child, [("Environment name", ""), ("Number or name", ""), ("Number or name", ""), ("Network name", ""),
                    ("Its CIDR", "10.8.0.0/24")])
    child.expect("director.ip no longer fits")
    _answer(child, [("Reach the inception", ""), ("Egress allowed", ""), ("CIDRs allowed", "")])
    _answer(child, [("Number or name", ""), ("Number or name", ""), ("SSH keypair", ""), ("Keypair name", ""),
                    ("Number or name", ""), ("disk size", "")])
    child.expect(r"Director IP \(a free address of 10.8.0.0/24\).{0,12}\(10.8.0.10\)")
    _refused(child, "10.8.0.1", "is the network's gateway", "Director IP")
    child.sendline("")
    _answer(child, [("Number or name", ""), ("Stemcell", ""), ("SHA-1", ""), ("template", ""),
                    ("bosh release", ""), ("SHA-1", ""), ("system domain", "")])
    _answer(child, [(r"cf-release version.*\(172\)", "168")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    after = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert after["networks"][0]["cidr"] == "10.8.0.0/24" and after["director"] == {"ip": "10.8.0.10"}
    assert after["releases"]["cf"]["version"] == 168
    for changed in (after, before):
        changed["releases"]["cf"].pop("version"), changed.pop("networks"), changed.pop("director")
    assert after == before

    up = _bring_up_and_tear_down(cloud, tmp_path, "wiz")
    assert "network wiz-net" in up                          # the network it was told to create


def test_wizard_basic_zone_gives_the_director_a_fixed_address_and_comes_up(cloud, tmp_path: Path) -> None:
    (tmp_path / "bosh-stemcell.tgz").write_bytes(b"not really a stemcell")
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wizb"), ("Number or name", "Sim-Basic"),
                    ("Security group to create", "")])
    child.expect(r"guest network guestNetworkForBasicZone is 192\.0\.2\.0/24")
    _answer(child, [("CIDRs allowed", ""), ("Number or name", ""), ("Number or name", "")])
    child.expect("SSH keypair")
    _refused(child, "maybe", "'maybe' is not one of create, import", "SSH keypair")
    child.sendline("IMP")                                   # any case, any unambiguous start
    child.expect("Public key file")
    (tmp_path / "not-a-key.pub").write_text("hello\n")
    _refused(child, str(tmp_path / "not-a-key.pub"), "is not an OpenSSH public key", "Public key file")
    key = tmp_path / "id_ed25519.pub"
    key.write_text("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGkz2Yq1LiJ8ZsWl0cx4h0yEY0b8d9pyKZgB6JmB6fVu wiz@test\n")
    child.sendline(str(key))
    _answer(child, [("Keypair name", ""), ("Number or name", ""), ("disk size", "")])
    child.expect(r"Director IP \(a free address of 192\.0\.2\.0/24\).{0,12}\(192\.0\.2\.10\)")
    _refused(child, "192.0.2.1", "is the network's gateway", "Director IP")
    child.sendline("")
    child.expect("Stemcell")
    _refused(child, "missing.tgz", "missing.tgz does not exist", "Stemcell")
    child.sendline("bosh-stemcell.tgz")
    _answer(child, [("template", ""), ("bosh release", ""),
                    ("SHA-1", "c" * 40), ("system domain", ""), ("cf-release version", "")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    config = load_config(tmp_path / "inception.yml")
    assert config.networks == [{"name": "default", "type": "manual", "cidr": "192.0.2.0/24", "gateway": "192.0.2.1",
                                "reserved": ["192.0.2.2-192.0.2.9"], "static": ["192.0.2.10-192.0.2.100"],
                                "security_groups": ["wizb-bosh"], "dns": ["8.8.8.8"]}]
    assert config.director["ip"] == "192.0.2.10" and config["inception"]["public_key_file"] == str(key)
    _bring_up_and_tear_down(cloud, tmp_path, "wizb")


def test_interrupted_wizard_resumes_with_unanswered_questions_only(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wiz2"), ("Number or name", "1"), ("Security group to create", "wiz2-sg"),
                    ("CIDRs allowed", "")])
    child.expect("Number or name")        # the inception offering menu: interrupt here
    child.sendcontrol("c")
    child.expect("answers given so far are saved")
    child.expect(pexpect.EOF)
    saved = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert saved["networks"][0]["security_groups"] == ["wiz2-sg"]
    assert "inception" in saved and "offering" not in saved["inception"]

    (tmp_path / "bosh-stemcell.tgz").write_bytes(b"stemcell")
    child = _spawn(cloud, tmp_path)
    index = child.expect(["Environment name", "Zones", "Compute offerings for the inception VM"])
    assert index == 2                      # name, zone and networking are not asked again
    child.sendline("")
    _answer(child, [("Number or name", ""), ("SSH keypair", "create"), ("Keypair name", ""), ("Number or name", ""),
                    ("disk size", ""), ("Director IP", ""), ("Stemcell", "bosh-stemcell.tgz"), ("template", ""),
                    ("bosh release", "https://example.com/bosh-270.1.tgz"), ("SHA-1", "d" * 40),
                    ("needs the bpm release too", ""), ("SHA-1", "e" * 40),
                    ("system domain", ""), ("cf-release version", "")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    config = load_config(tmp_path / "inception.yml")
    assert config.name == "wiz2" and config["stemcell"] == {"file": "bosh-stemcell.tgz"}   # no made-up name
    assert config["releases"]["bosh"]["version"] == "270.1" and config["releases"]["bpm"]["version"] == "1.1.0"


def test_wrong_credentials_are_reported_and_asked_again_with_the_tried_ones_as_defaults(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path, CLOUDSTACK_SECRET="not-the-secret")
    transcript = io.StringIO()
    child.logfile_read = transcript
    _answer(child, [("Environment name", "creds")])
    child.expect("unable to verify user credentials and/or request signature")
    _answer(child, [(r"API endpoint.{0,12}\(http://127\.0\.0\.1:\d+/client/api\)", ""),   # the endpoint tried
                    ("API key", ""),
                    ("Secret key", cloud.secret_key)])
    child.expect("answers with these")
    child.expect(r"Number or name.{0,12}\(1\)")   # the zones menu: credentials accepted
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    saved = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert saved["cloudstack"]["secret_key"] == cloud.secret_key and saved["cloudstack"]["api_key"] == cloud.api_key
    assert (tmp_path / "inception.yml").stat().st_mode & 0o777 == 0o600
    assert cloud.secret_key not in transcript.getvalue()   # typed without echo, never printed
    assert "Traceback" not in transcript.getvalue()
    plain = re.sub(r"\x1b\[[0-9;]*m", "", transcript.getvalue())   # without the bold of the defaults
    assert f"APIkey({cloud.api_key}):" in "".join(plain.split())   # the key tried, as the default


def test_init_without_a_terminal_says_why_and_what_to_do_instead(tmp_path: Path) -> None:
    result = subprocess.run([*INCEPTION, "init"], cwd=tmp_path, stdin=subprocess.DEVNULL, capture_output=True,
                            text=True, timeout=60, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 2 and result.stdout == ""
    message = " ".join(result.stderr.split())
    assert "needs a terminal" in message and "docs/config.md" in message and "inception up" in message
    assert len(result.stderr.strip().splitlines()) == 1 and "Aborted" not in result.stderr
    assert not (tmp_path / "inception.yml").exists()


def _hand_written(tmp_path: Path) -> Path:
    """A complete basic-zone config written by hand but for its keypair, upload mode and CF domain, whose
    director offering does not exist in the cloud: the config's own validation passes it, only pre-flight can
    tell."""
    config = {
        "name": "hand", "cloudstack": {"zone": "Sim-Basic"},
        "networks": [{"name": "default", "type": "manual", "cidr": "192.0.2.0/24", "gateway": "192.0.2.1",
                      "reserved": ["192.0.2.2-192.0.2.9"], "static": ["192.0.2.10-192.0.2.40"],
                      "security_groups": ["hand-bosh"]}],
        "director": {"ip": "192.0.2.10"},
        "offerings": {"director": {"compute": "Huge Instance", "disk_size": 40960},
                      "vm_types": {t: {"compute": "Small Instance"}
                                   for t in ("small", "medium", "large", "runner", "router")}},
        "stemcell": {"url": "https://example.com/bosh-stemcell.tgz", "sha1": "f" * 40},
        "releases": {"bosh": {"version": "262.3", "url": "https://bosh.io/d/github.com/cloudfoundry/bosh?v=262.3",
                              "sha1": "3" * 40},
                     "cf": {"version": 175}},
        "inception": {"offering": "Small Instance", "template": "Ubuntu 22.04 LTS", "allowed_cidrs": ["0.0.0.0/0"]}}
    path = tmp_path / "inception.yml"
    path.write_text(yaml.safe_dump(config))
    return path


HAND_WRITTEN_GAPS = [("SSH keypair", ""), ("Keypair name", ""), ("template", ""), ("system domain", "")]


def test_wizard_says_complete_only_when_preflight_passes_and_asks_the_wrong_answers_again(cloud, tmp_path) -> None:
    path = _hand_written(tmp_path)
    child = _spawn(cloud, tmp_path)
    _answer(child, HAND_WRITTEN_GAPS)
    child.expect("`inception up` would refuse it")
    child.expect(r"offerings.director.compute: no compute offering named 'Huge Instance'")
    child.expect(r"Answer offerings.director.compute again now\?")
    child.sendline("y")
    child.expect("Compute offerings for the director")
    _answer(child, [("Number or name", "large")])
    child.expect("is complete and passes the pre-flight checks")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert load_config(path)["offerings"]["director"]["compute"] == "Large Instance"


def test_wizard_declined_reanswer_lists_what_to_do_and_fails(cloud, tmp_path) -> None:
    _hand_written(tmp_path)
    child = _spawn(cloud, tmp_path)
    _answer(child, [*HAND_WRITTEN_GAPS, (r"Answer offerings.director.compute again now\?", "n")])
    child.expect("inception init --reconfigure")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1 and "is complete" not in child.before


def test_wizard_acquires_the_directors_public_ip_on_an_existing_network(cloud, tmp_path: Path) -> None:
    api = cloud.cs()
    zone = api.listZones(name="Sim-Advanced")["zone"][0]
    offering = api.listNetworkOfferings(guestiptype="Isolated")["networkoffering"][0]
    network = api.createNetwork(name="wiza-net", displaytext="wiza-net", networkofferingid=offering["id"],
                                zoneid=zone["id"], gateway="10.6.0.1", netmask="255.255.255.0")["network"]
    source_nat = api.associateIpAddress(networkid=network["id"], fetch_result=True)["ipaddress"]  # its first one
    assert source_nat["issourcenat"]
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wiza"), ("Number or name", "Sim-Advanced"),
                    ("Number or name", "wiza-net"),        # the existing network, by name
                    ("Reach the inception", ""), ("Egress allowed", ""), ("CIDRs allowed", ""),
                    ("Number or name", ""), ("Number or name", ""), ("SSH keypair", ""), ("Keypair name", ""),
                    ("Number or name", ""), ("disk size", ""), ("Director IP", "")])
    child.expect(r"acquire a new one on wiza-net now")
    _answer(child, [("Number or name", "(acq")])
    child.expect(r"acquired (\d+\.\d+\.\d+\.\d+) \(kept by `inception destroy`")
    address = child.match.group(1)
    _answer(child, [("Stemcell", "https://example.com/stemcell.tgz"), ("SHA-1", "a" * 40), ("template", ""),
                    ("bosh release", ""), ("SHA-1", "b" * 40), ("system domain", ""), ("cf-release version", "")])
    child.expect("is complete")
    child.expect(pexpect.EOF)
    config = load_config(tmp_path / "inception.yml")
    assert config.director["public_ip"] == address != source_nat["ipaddress"]
    assert config.networks[0]["cloudstack_network"] == "wiza-net" and config.networks[0]["cidr"] == "10.6.0.0/24"
    held = api.listPublicIpAddresses(ipaddress=address)["publicipaddress"][0]
    assert held["associatednetworkid"] == network["id"] and not held["issourcenat"]


def test_wizard_asks_for_the_bosh_cli_when_create_env_runs_on_the_inception_vm(cloud, tmp_path) -> None:
    path = _hand_written(tmp_path)
    config = yaml.safe_load(path.read_text())
    config["offerings"]["director"]["compute"] = "Large Instance"
    del config["releases"]["bosh"]["sha1"]
    config["inception"]["ssh_address"] = "127.0.0.1:2222"    # SSH elsewhere: up bootstraps even on a simulator
    path.write_text(yaml.safe_dump(config))
    child = _spawn(cloud, tmp_path)
    _answer(child, HAND_WRITTEN_GAPS[:-1])
    child.expect("bosh CLI for the inception VM")
    child.sendline("")
    child.expect("Its SHA-256")
    _refused(child, "abc", "is not a SHA-256: 64 hex digits", "Its SHA-256")
    child.sendline("0" * 64)
    _answer(child, [("system domain", "")])
    # releases.bosh came without a sha1, which the inception VM's download needs: pre-flight says so
    child.expect(r"releases.bosh.sha1: a URL the inception VM downloads needs its checksum")
    _answer(child, [(r"Answer releases.bosh again now\?", "y"), ("bosh release", ""), ("SHA-1", "1" * 40)])
    child.expect("is complete and passes the pre-flight checks")
    child.expect(pexpect.EOF)
    saved = load_config(path)
    assert saved["inception"]["bosh_cli"]["sha256"] == "0" * 64
    assert saved["inception"]["bosh_cli"]["url"].endswith("bosh-cli-7.9.5-linux-amd64")
    assert saved["releases"]["bosh"]["sha1"] == "1" * 40


@pytest.mark.parametrize("check, answer, words", [
    ("cidr_problem", "foo", "write a network and its prefix length"),
    ("cidr_problem", "10.1.2.3/8", "did you mean 10.0.0.0/8?"),
    ("cidr_list_problem", "10.0.0.0/8, 1.2.3.4/33", "prefix length 0-32"),
    ("domain_problem", "cf_example", "is not a DNS domain"),
    ("domain_problem", "-cf.example.com", "is not a DNS domain"),
    ("checksum_problem", "A" * 40, "lower case"),
    ("checksum_problem", "a" * 64, "sha256:<its 64 hex digits>"),
    ("checksum_problem", "g" * 40, "40 hex digits"),
    ("cf_version_problem", "v181", "160 to 180"),
    ("name_problem", "Dev", "lower-case letters"),
])
def test_answer_checks_explain_in_words(check, answer, words) -> None:
    from inception.wizard import checks

    problem = getattr(checks, check)(answer)
    assert problem is not None and words in problem and "^" not in problem and "[" not in problem


@pytest.mark.parametrize("check, answer", [
    ("cidr_problem", "0.0.0.0/0"), ("cidr_list_problem", "10.0.0.0/8, 203.0.113.7/32"),
    ("domain_problem", "cf.example.com"), ("checksum_problem", "a" * 40), ("checksum_problem", "sha256:" + "b" * 64),
    ("cf_version_problem", "v175"), ("cf_version_problem", "V160"), ("cf_version_problem", "180"),
    ("name_problem", "cf-prod"),
])
def test_answer_checks_accept_what_the_docs_accept(check, answer) -> None:
    from inception.wizard import checks

    assert getattr(checks, check)(answer) is None


def test_release_versions_are_read_from_bosh_io_urls_and_file_names() -> None:
    from inception.wizard.checks import release_version

    assert release_version("https://bosh.io/d/github.com/cloudfoundry/bosh?v=262.3") == "262.3"
    assert release_version("releases/bosh-270.1.tgz") == "270.1"
    assert release_version("https://example.com/bpm-release-1.1.0.tgz") == "1.1.0"
    assert release_version("https://example.com/latest.tgz") is None


def test_the_network_answered_survives_an_interrupt_before_the_next_question(cloud, tmp_path: Path) -> None:
    child = _spawn(cloud, tmp_path)
    _answer(child, [("Environment name", "wiz3"), ("Number or name", "Sim-Advanced"), ("Number or name", "1"),
                    ("Network name", ""), ("Its CIDR", "10.5.0.0/24")])
    child.expect("Reach the inception")
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
    saved = yaml.safe_load((tmp_path / "inception.yml").read_text())
    assert saved["networks"][0]["cloudstack_network"] == "wiz3-net" and saved["networks"][0]["cidr"] == "10.5.0.0/24"
    child = _spawn(cloud, tmp_path)
    assert child.expect(["Network name", "Reach the inception"]) == 1     # continues with the next question
    child.sendcontrol("c")
    child.expect(pexpect.EOF)
