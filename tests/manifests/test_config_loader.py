"""The project config format: schema, defaults, error messages, zone detection, credentials, stemcell OS."""
from __future__ import annotations

import os
import stat
import tarfile
from io import BytesIO
from pathlib import Path

import pytest

from inception.config import ConfigError, load_config, save_config, validate_config
from inception.config.credentials import api_settings
from inception.config.stemcell import stemcell_identity, stemcell_os
from inception.manifests.render import render
from inception.config.zone import apply_zone_info


def test_examples_load_with_defaults(write_config):
    adv = load_config(write_config("advanced"))
    assert adv.zone_type == "advanced"
    assert adv.network_type(adv.director_network) == "manual"
    assert adv["cloudstack"]["verify"] is True and adv["cloudstack"]["state_timeout"] == 600
    assert adv.director_name == "dev-advanced-bosh" and adv.key_name == "dev-advanced-bosh"
    assert adv["offerings"]["director"]["disk_size"] == 40960
    basic = load_config(write_config("basic"))
    assert basic.network_type(basic.director_network) == "dynamic"
    assert basic["cf"]["deployment"] == "cf"


def test_unknown_key_named_with_place_and_allowed_keys(write_config):
    path = write_config(edit=lambda d: d["networks"][0].update(cdir="10.0.0.0/24"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert str(path) in text
    assert "networks[0].cdir: unknown key 'cdir' in networks[0]" in text
    assert "allowed here: cidr, cloudstack_network" in text


def test_unknown_top_level_and_nested_offering_key(write_config):
    path = write_config(edit=lambda d: (d.update(extra=1), d["offerings"]["director"].update(size=3)))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    keys = [p.key for p in err.value.problems]
    assert keys == ["extra", "offerings.director.size"]


def test_missing_required_key_named_with_fix(write_config):
    path = write_config(edit=lambda d: d["cloudstack"].pop("zone"))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == (f"{path}: cloudstack.zone: missing required key 'zone' in cloudstack "
                              "(fix: add zone: <value> (e.g. \"Zone1\"; CloudStack zone name))")


def test_partial_config_tolerates_missing_but_not_unknown(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("name: dev\ncloudstack: {}\n")
    assert load_config(path, partial=True).name == "dev"
    path.write_text("name: dev\ncloudstack: {zonee: x}\n")
    with pytest.raises(ConfigError, match="unknown key 'zonee'"):
        load_config(path, partial=True)


@pytest.mark.parametrize("edit, key, words", [
    (lambda d: d["networks"][0].update(cidr="10.0.0.1/24"), "networks[0].cidr", "not a valid CIDR"),
    (lambda d: d["networks"][0].update(gateway="10.9.0.1"), "networks[0].gateway", "outside 10.0.0.0/24"),
    (lambda d: d["networks"][0].update(static=["10.0.1.1-10.0.1.9"]), "networks[0].static[0]", "outside"),
    (lambda d: d["networks"][0].pop("cloudstack_network"), "networks[0].cloudstack_network", "advanced zone"),
    (lambda d: d["director"].update(ip="10.0.0.3"), "director.ip", "reserved"),
    (lambda d: d["director"].pop("ip"), "director.ip", "is manual"),
    (lambda d: d["director"].update(network="nope"), "director.network", "no network named 'nope'"),
    (lambda d: d["stemcell"].update(file="x.tgz"), "stemcell.file", "both url and file"),
    (lambda d: d["releases"]["cf"].update(version=181), "releases.cf.version", "above the maximum 180"),
    (lambda d: d["releases"]["cf"].update(version="v150"), "releases.cf.version", "wrong form"),
    (lambda d: d["cloudstack"].update(zone_type="hybrid"), "cloudstack.zone_type", "not allowed"),
    (lambda d: d["director"].update(ip="10.0.0.300"), "director.ip", "not a valid ipv4"),
    (lambda d: d.update(name="Dev_1"), "name", "wrong form"),
    (lambda d: d["cf"].update(router_public_ips=["203.0.113.11", "203.0.113.11"]), "cf.router_public_ips[1]",
     "203.0.113.11 is already cf.router_public_ips[0]"),
    (lambda d: d["cf"].update(router_public_ips=["203.0.113.200"]), "cf.router_public_ips[0]",
     "203.0.113.200 is already director.public_ip"),
    (lambda d: d["cf"].update(router_public_ips=["203.0.113.300"]), "cf.router_public_ips[0]", "not a valid ipv4"),
])
def test_semantic_and_value_errors(write_config, edit, key, words):
    with pytest.raises(ConfigError) as err:
        load_config(write_config("advanced", edit=edit))
    assert [p.key for p in err.value.problems] == [key]
    assert words in err.value.problems[0].message
    assert err.value.problems[0].fix


def test_basic_zone_rejects_advanced_only_values(write_config):
    def edit(d):
        d["networks"][0].update(cloudstack_network="x")
        d["director"] = {"public_ip": "203.0.113.5"}
        d["cf"]["router_public_ips"] = ["203.0.113.6"]
    with pytest.raises(ConfigError) as err:
        load_config(write_config("basic", edit=edit))
    assert [p.key for p in err.value.problems] == [
        "networks[0].cloudstack_network", "director.public_ip", "cf.router_public_ips"]


def test_yaml_errors_name_line_and_duplicates(tmp_path):
    path = tmp_path / "c.yml"
    path.write_text("name: dev\ncloudstack:\n  zone: a\n  zone: b\n")
    with pytest.raises(ConfigError, match=r"c.yml: line 4, column 3: invalid YAML: duplicate key .zone. \(first defined on line 3\)"):
        load_config(path)
    path.write_text("name: [dev\n")
    with pytest.raises(ConfigError, match="invalid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yml")
    path.write_text("- a\n")
    with pytest.raises(ConfigError, match="YAML mapping"):
        load_config(path)


def test_save_config_is_private_and_round_trips(tmp_path, write_config):
    config = load_config(write_config("advanced"))
    target = tmp_path / "saved" / "inception.yml"
    save_config(target, {**config.data, "cloudstack": {**config.cloudstack, "secret_key": "s3cr3t"}})
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    again = load_config(target)
    assert again.data["networks"] == config.data["networks"]
    assert "s3cr3t" not in repr(again)


class FakeZones:
    """Stands in for CloudStackClient.list with recorded listZones data (tested with the simulator elsewhere)."""

    def __init__(self, zones):
        self.zones = zones

    def list(self, command, **params):
        assert command == "listZones"
        return [z for z in self.zones if "name" not in params or z["name"] == params["name"]]


ZONES = [{"name": "Sim-Basic", "networktype": "Basic", "securitygroupsenabled": True},
         {"name": "Sim-Advanced", "networktype": "Advanced", "securitygroupsenabled": False}]


def test_zone_type_filled_from_api(write_config):
    config = load_config(write_config("basic", edit=lambda d: d["cloudstack"].pop("zone_type")))
    assert config.zone_type is None
    apply_zone_info(config, FakeZones(ZONES))
    assert config.zone_type == "basic" and config.security_groups_enabled is True


def test_zone_missing_or_contradicting(write_config):
    config = load_config(write_config("advanced", edit=lambda d: d["cloudstack"].update(zone="Nope")))
    with pytest.raises(ConfigError, match="zone 'Nope' does not exist.*Sim-Advanced, Sim-Basic"):
        apply_zone_info(config, FakeZones(ZONES))
    config = load_config(write_config("advanced", edit=lambda d: d["cloudstack"].update(zone="Sim-Basic")))
    with pytest.raises(ConfigError, match="is 'advanced' but zone 'Sim-Basic' is basic"):
        apply_zone_info(config, FakeZones(ZONES))


def test_api_settings_precedence(write_config, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_KEY", "CLOUDSTACK_SECRET", "CLOUDSTACK_CONFIG", "CLOUDSTACK_REGION"):
        monkeypatch.delenv(var, raising=False)
    config = load_config(write_config("advanced"))
    with pytest.raises(ConfigError) as err:
        api_settings(config)
    assert [p.key for p in err.value.problems] == ["cloudstack.api_key", "cloudstack.secret_key"]
    (tmp_path / "cloudstack.ini").write_text("[lab]\nendpoint = http://ini/client/api\nkey = K\nsecret = S\n")
    config.cloudstack["region"] = "lab"
    settings = api_settings(config)
    assert (settings.endpoint, settings.api_key, settings.secret_key) == ("https://cloud.example.com/client/api", "K", "S")
    assert "S'" not in repr(settings)
    monkeypatch.setenv("CLOUDSTACK_KEY", "envkey")
    monkeypatch.setenv("CLOUDSTACK_SECRET", "envsecret")
    monkeypatch.setenv("CLOUDSTACK_ENDPOINT", "http://env/client/api")
    config.cloudstack.pop("region")
    assert api_settings(config).api_key == "envkey"


def _stemcell_tarball(path: Path, os_name: str) -> Path:
    manifest = f"name: bosh-cloudstack-kvm-ubuntu\nversion: '1'\noperating_system: {os_name}\n".encode()
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo("stemcell.MF")
        info.size = len(manifest)
        tar.addfile(info, BytesIO(manifest))
    return path


def test_stemcell_os_detection(write_config, tmp_path):
    cfg = load_config(write_config("advanced"))
    assert stemcell_os(cfg) == "ubuntu-trusty"
    cfg.data["stemcell"] = {"url": "https://x/bosh-stemcell-2641-cloudstack-kvm-ubuntu-12.04.tgz"}
    assert stemcell_os(cfg) == "ubuntu-precise"
    cfg.data["stemcell"] = {"file": str(_stemcell_tarball(tmp_path / "s.tgz", "ubuntu-precise"))}
    assert stemcell_os(cfg) == "ubuntu-precise"
    cfg.data["stemcell"] = {"name": "bosh-cloudstack-kvm-ubuntu", "os": "ubuntu-jammy"}
    assert stemcell_os(cfg) == "ubuntu-jammy"
    cfg.data["stemcell"] = {"name": "bosh-cloudstack-kvm-ubuntu"}
    assert stemcell_os(cfg) is None


def test_stemcell_identity_is_what_the_director_will_list(write_config, tmp_path):
    """Name and version: as given; a local tarball's stemcell.MF; the builder's tarball name
    (bosh-stemcell-<version>-<name without bosh->.tgz); a bosh.io URL; never a made-up default."""
    cfg = load_config(write_config("advanced"))
    assert stemcell_identity(cfg) == ("bosh-cloudstack-xen-ubuntu-trusty-go_agent", "3262.3")
    cfg.data["stemcell"] = {"file": str(_stemcell_tarball(tmp_path / "s.tgz", "ubuntu-trusty"))}
    assert stemcell_identity(cfg) == ("bosh-cloudstack-kvm-ubuntu", "1")
    cfg.data["stemcell"] = {"url": "https://x/light-bosh-stemcell-3586.25-google-kvm-ubuntu-trusty-go_agent.tgz"}
    assert stemcell_identity(cfg) == ("bosh-google-kvm-ubuntu-trusty-go_agent", "3586.25")
    cfg.data["stemcell"] = {"file": "bosh-stemcell-3421.11-openstack-kvm-ubuntu-trusty-go_agent-raw.tgz"}
    assert stemcell_identity(cfg) == ("bosh-openstack-kvm-ubuntu-trusty-go_agent-raw", "3421.11")
    cfg.data["stemcell"] = {"url": "https://bosh.io/d/stemcells/bosh-openstack-kvm-ubuntu-trusty-go_agent?v=3421.11"}
    assert stemcell_identity(cfg) == ("bosh-openstack-kvm-ubuntu-trusty-go_agent", "3421.11")
    cfg.data["stemcell"] = {"name": "my-stemcell"}
    assert stemcell_identity(cfg) == ("my-stemcell", "latest")
    cfg.data["stemcell"] = {"file": "bosh-stemcell.tgz"}
    assert stemcell_identity(cfg) is None
    with pytest.raises(ConfigError, match=r"stemcell.name: cannot tell which stemcell bosh-stemcell.tgz is"):
        render("cf", cfg, variables={"director_uuid": "12345678-90ab-cdef-1234-567890abcdef"})


def test_api_settings_take_keys_from_the_environment_and_the_endpoint_from_the_file(write_config, monkeypatch,
                                                                                    tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    for var in ("CLOUDSTACK_ENDPOINT", "CLOUDSTACK_CONFIG", "CLOUDSTACK_REGION"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("CLOUDSTACK_KEY", "envkey")
    monkeypatch.setenv("CLOUDSTACK_SECRET", "envsecret")
    settings = api_settings(load_config(write_config("advanced")))
    assert (settings.endpoint, settings.api_key, settings.secret_key) == (
        "https://cloud.example.com/client/api", "envkey", "envsecret")
    assert settings.verify is True
