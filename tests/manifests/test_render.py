"""Rendering every KIND for both zone types and several cf-release versions, checked structurally and by
the validator; precise auto-patch; user ops/vars precedence; golden files for a fixed seed."""
from __future__ import annotations

import copy
import os
from pathlib import Path

import pytest
import yaml

from inception.config import ConfigError, load_config
from inception.manifests.interpolate import VariablesError
from inception.manifests.render import PRECISE_OPS, render
from inception.manifests.validate import validate
from inception.manifests.varstore import VarsStore

from .conftest import UUID, cf_manual_network, stemcell_file

GOLDEN = Path(__file__).parent / "golden"


def job(manifest, name):
    return next(j for j in manifest["jobs"] if j["name"] == name)


def templates(j):
    items = j.get("templates", j.get("template"))
    return [t["name"] if isinstance(t, dict) else t for t in items]


def set_version(version, zone="advanced"):
    def edit(d):
        d["releases"]["cf"]["version"] = version
        d.setdefault("director", {})["uuid"] = UUID
        if zone == "basic":
            cf_manual_network(d)
    return edit


@pytest.fixture
def store(seeded_generator):
    return VarsStore(None, seeded_generator())


@pytest.mark.parametrize("zone", ["advanced", "basic"])
@pytest.mark.parametrize("version", [170, 175, 180])
def test_cf_render_per_zone_and_version(write_config, store, zone, version):
    config = load_config(write_config(zone, edit=set_version(version, zone)))
    m = render("cf", config, store=store).manifest
    found = validate(m, zone_type=zone)
    assert [v for v in found if not v.warning] == []
    # only the versions whose job specs the project keeps are checked against them; the others say so
    assert [v.detail for v in found] == ([] if version == 175 else
                                         [f"version {version} has no job specs here, its jobs are not checked "
                                          "(known versions: 160, 175)"])
    assert m["releases"] == [{"name": "cf", "version": str(version)}] and m["director_uuid"] == UUID
    names = [j["name"] for j in m["jobs"]]
    assert {"nats_z1", "etcd_z1", "nfs_z1", "postgres_z1", "uaa_z1", "api_z1", "clock_global", "api_worker_z1",
            "hm9000_z1", "runner_z1", "loggregator_z1", "loggregator_trafficcontroller_z1", "router_z1"} <= set(names)
    assert templates(job(m, "clock_global"))[0] == "cloud_controller_clock"
    assert templates(job(m, "api_worker_z1"))[0] == "cloud_controller_worker"
    assert "etcd_metrics_server" in templates(job(m, "etcd_z1"))
    metron = version >= 177
    assert ("metron_agent" in templates(job(m, "router_z1"))) is metron
    assert ("templates" in job(m, "router_z1")) is metron and ("metron_endpoint" in m["properties"]) is metron
    assert ("ccng" in m["properties"] and "ccdb_ng" in m["properties"]) is (version <= 170)
    props = m["properties"]
    assert props["networks"]["apps"] == job(m, "nats_z1")["networks"][0]["name"]
    assert props["uaa"]["jwt"]["signing_key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert all(j["networks"][0].get("default") == ["dns", "gateway"] for j in m["jobs"])
    sizes = {p["name"]: p["size"] for p in m["resource_pools"]}
    for pool in sizes:
        assert sizes[pool] == sum(j["instances"] for j in m["jobs"] if j["resource_pool"] == pool)
    # every address handed to a job is a static IP of the job serving it (the 262.3 director resolves no names)
    fixed = {name: job(m, name)["networks"][0]["static_ips"] for name in ("nats_z1", "etcd_z1", "nfs_z1",
                                                                            "postgres_z1", "loggregator_z1")}
    assert props["nats"]["machines"] == fixed["nats_z1"] and props["etcd"]["machines"] == fixed["etcd_z1"]
    assert props["nfs_server"]["address"] == fixed["nfs_z1"][0] and props["ccdb"]["address"] == fixed["postgres_z1"][0]
    assert props["loggregator"]["servers"] == {"z1": fixed["loggregator_z1"]}


def leaves(node, path=""):
    if isinstance(node, dict):
        return [leaf for key, value in node.items() for leaf in leaves(value, f"{path}.{key}" if path else key)]
    return [(path, node)]


@pytest.mark.parametrize("zone, version", [("advanced", 175), ("basic", 175), ("advanced", 170)])
def test_cf_renders_no_empty_or_null_property(write_config, store, zone, version):
    """Issue 10: syslog_aggregator.address and nfs_server.share rendered null; nothing may render empty."""
    m = render("cf", load_config(write_config(zone, edit=set_version(version, zone))), store=store).manifest
    empty = [path for path, value in leaves(m["properties"]) if value is None or value == ""]
    assert empty == []
    assert "syslog_aggregator" not in m["properties"] and "share" not in m["properties"]["nfs_server"]


def test_cf_v175_sets_the_application_security_groups(write_config, store):
    """cloud_controller_ng, _clock and _worker of v175 read them with p() and no default: cf-release's own
    defaults (templates/cf-properties.yml): public networks and DNS, not the private ranges of the VMs."""
    m = render("cf", load_config(write_config("advanced", edit=set_version(175))), store=store).manifest
    cc = m["properties"]["cc"]
    groups = {g["name"]: g["rules"] for g in cc["security_group_definitions"]}
    assert set(groups) == {"public_networks", "dns"}
    assert cc["default_running_security_groups"] == cc["default_staging_security_groups"] == ["public_networks", "dns"]
    assert {"protocol": "udp", "destination": "0.0.0.0/0", "ports": "53"} in groups["dns"]
    assert not any(r["destination"].startswith("10.") for r in groups["public_networks"])  # 10/8 stays closed


def test_cf_refuses_a_dynamic_network(write_config, store):
    """No powerdns, no index names on the 262.3 director: a job handed a DNS name would reach nothing."""
    config = load_config(write_config("basic", edit=lambda d: d["cf"].pop("network")))   # cf on the dynamic one
    with pytest.raises(ConfigError) as err:
        render("cf", config, store=store)
    text = str(err.value)
    assert "networks[0].type" in text and "dynamic" in text and "static IPs" in text and "\n" not in text


def test_cf_v160_is_refused_with_the_reason(write_config, store):
    config = load_config(write_config("advanced", edit=set_version(160)))
    with pytest.raises(ConfigError) as err:
        render("cf", config, store=store)
    text = str(err.value)
    assert "releases.cf.version" in text and "debian_nfs_server and postgres" in text and "262.3" in text
    assert "\n" not in text


@pytest.mark.parametrize("os_name", ["ubuntu-jammy", "ubuntu-xenial", "ubuntu-noble"])
def test_cf_refuses_a_modern_stemcell(write_config, store, os_name):
    def edit(d):
        set_version(175)(d)
        d["stemcell"]["os"] = os_name
    with pytest.raises(ConfigError) as err:
        render("cf", load_config(write_config("advanced", edit=edit)), store=store)
    text = str(err.value)
    assert text.count("\n") == 0 and f"cf-release v175 does not run on a {os_name} stemcell" in text
    assert "lucid64" in text


def test_cf_advanced_shape_manual_static_ips_and_vip(write_config, store):
    m = render("cf", load_config(write_config("advanced", edit=set_version(175))), store=store).manifest
    nets = {n["name"]: n for n in m["networks"]}
    assert nets["default"]["type"] == "manual" and nets["floating"]["type"] == "vip"
    subnet = nets["default"]["subnets"][0]
    assert subnet["cloud_properties"] == {"name": "bosh-net"}
    assert "10.0.0.6" in subnet["reserved"]  # the director's IP is never handed out
    router = job(m, "router_z1")
    assert router["networks"][1] == {"name": "floating", "static_ips": ["203.0.113.201"]}
    nats_ip = job(m, "nats_z1")["networks"][0]["static_ips"]
    assert m["properties"]["nats"]["machines"] == nats_ip and nats_ip[0] != "10.0.0.6"
    # trusty (14.04) keeps rpc_pipefs at /run/rpc_pipefs like precise (cf-release c51b60ac7): patched too
    assert m["properties"]["nfs_server"]["pipefs_directory"] == "/run/rpc_pipefs"


@pytest.mark.parametrize("stemcell_os, patched", [("ubuntu-lucid", False), ("ubuntu-precise", True),
                                                  ("ubuntu-trusty", True)])
def test_ubuntu_patch_follows_the_rpc_pipefs_location(write_config, store, stemcell_os, patched):
    def edit(d):
        set_version(175)(d)
        d["stemcell"]["os"] = stemcell_os
    result = render("cf", load_config(write_config("advanced", edit=edit)), store=store)
    assert (result.ops_applied == [str(PRECISE_OPS)]) is patched
    expected = "/run/rpc_pipefs" if patched else "/var/lib/nfs/rpc_pipefs"
    assert result.manifest["properties"]["nfs_server"]["pipefs_directory"] == expected
    wrong = copy.deepcopy(result.manifest)
    wrong["properties"]["nfs_server"]["pipefs_directory"] = "/var/lib/nfs/rpc_pipefs"
    assert bool(validate(wrong, zone_type="advanced", stemcell_os=stemcell_os)) is patched


def test_cf_basic_shape_manual_network_on_the_shared_guest_network(write_config, store):
    config = load_config(write_config("basic", edit=set_version(175, "basic")))
    result = render("cf", config, store=store)
    m = result.manifest
    assert result.ops_applied == []  # lucid keeps cf-release's default rpc_pipefs
    assert [n["name"] for n in m["networks"]] == ["cf"] and m["networks"][0]["type"] == "manual"
    assert m["networks"][0]["subnets"][0]["cloud_properties"] == {"security_groups": ["bosh"]}
    props = m["properties"]
    assert props["nats"]["machines"] == job(m, "nats_z1")["networks"][0]["static_ips"] == ["10.1.0.10"]
    assert props["nfs_server"]["network"] == "10.1.0.0/24"
    assert props["nfs_server"]["pipefs_directory"] == "/var/lib/nfs/rpc_pipefs"
    assert validate(m, zone_type="basic", stemcell_os="ubuntu-lucid") == []


def test_micro_manifest_shapes(write_config, store, credentials_env):
    adv = render("micro", load_config(write_config("advanced", edit=stemcell_file)), store=store).manifest
    cp = adv["cloud_provider"]
    assert cp["template"] == {"name": "cloudstack_cpi", "release": "bosh-cloudstack-cpi"}
    assert cp["mbus"].startswith("https://mbus:") and cp["mbus"].endswith("@10.0.0.6:6868")
    cs = cp["properties"]["cloudstack"]
    assert set(cs) == {"endpoint", "api_key", "secret_access_key", "default_zone", "default_key_name", "state_timeout",
                       "state_timeout_volume", "stemcell_public_visibility"}
    assert (cs["api_key"], cs["secret_access_key"], cs["default_zone"]) == ("test-api-key", "test-secret-key", "Sim-Advanced")
    assert set(cp["properties"]["agent"]) >= {"mbus", "ntp"} and cp["properties"]["agent"]["mbus"].endswith("@0.0.0.0:6868")
    group = adv["instance_groups"][0]
    assert group["networks"] == [{"name": "default", "static_ips": ["10.0.0.6"], "default": ["dns", "gateway"]},
                                 {"name": "public", "static_ips": ["203.0.113.200"]}]
    assert [j["name"] for j in group["jobs"]][-1] == "cloudstack_cpi"
    assert adv["resource_pools"][0]["cloud_properties"] == {"compute_offering": "Medium Instance"}
    assert adv["disk_pools"][0]["disk_size"] == 40960
    assert group["properties"]["director"]["cpi_job"] == "cloudstack_cpi"
    basic = render("micro", load_config(write_config("basic")), store=store,
                   variables={"director_address": "192.0.2.50"}).manifest
    assert basic["networks"] == [{"name": "default", "type": "dynamic", "dns": ["8.8.8.8"],
                                  "cloud_properties": {"security_groups": ["bosh"]}}]
    assert basic["cloud_provider"]["properties"]["cloudstack"]["default_security_groups"] == ["bosh"]
    assert basic["cloud_provider"]["mbus"].endswith("@192.0.2.50:6868")
    assert "static_ips" not in basic["instance_groups"][0]["networks"][0]


def test_micro_basic_without_address_explains(write_config, store, credentials_env):
    with pytest.raises(VariablesError, match="director_address.*dynamic network"):
        render("micro", load_config(write_config("basic")), store=store)


def test_full_bosh_and_cloud_config(write_config, store, credentials_env):
    config = load_config(write_config("advanced", edit=lambda d: d.update(
        full_bosh={"ip": "10.0.0.20"}, director={**d["director"], "uuid": UUID})))
    m = render("bosh", config, store=store).manifest
    assert validate(m, zone_type="advanced") == []
    assert job(m, "bosh")["networks"] == [{"name": "default", "static_ips": ["10.0.0.20"]}]
    assert m["jobs"][0]["properties"]["nats"]["address"] == "10.0.0.20"
    cc = render("cloud-config", config, store=store).manifest
    assert validate(cc, zone_type="advanced") == []
    assert [n["name"] for n in cc["networks"]] == ["default", "vip"]
    subnet = cc["networks"][0]["subnets"][0]
    assert subnet["az"] == "z1" and {"10.0.0.6", "10.0.0.20"} <= set(subnet["reserved"])
    assert "10.0.0.7-10.0.0.19" in subnet["static"]
    types = {v["name"]: v["cloud_properties"] for v in cc["vm_types"]}
    assert set(types) == {"small", "medium", "large", "runner", "router", "minimal", "small-highmem"}
    # cf-deployment's instance groups use vm types minimal, small and small-highmem (diego cells)
    assert types["minimal"] == types["small"] and types["small-highmem"] == types["runner"]
    assert {"10GB", "100GB"} <= {d["name"] for d in cc["disk_types"]}
    assert cc["azs"] == [{"name": "z1", "cloud_properties": {"availability_zone": "Sim-Advanced"}}]


def test_user_ops_and_variable_precedence(write_config, tmp_path, seeded_generator):
    ops = tmp_path / "scale.yml"
    ops.write_text("- {type: replace, path: /jobs/name=runner_z1/instances, value: 2}\n"
                   "- {type: replace, path: /resource_pools/name=runner/size, value: 2}\n"
                   "- {type: replace, path: /properties/nats/user, value: ((nats_user))}\n")
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text("nats_user: from-file\nnats_password: from-file-pw\n")
    store = VarsStore(tmp_path / "store.yml", seeded_generator())
    config = load_config(write_config("advanced", edit=set_version(175)))
    m = render("cf", config, ops_files=[ops], vars_files=[vars_file], variables={"nats_user": "from-flag"},
               store=store).manifest
    assert job(m, "runner_z1")["instances"] == 2
    assert m["properties"]["nats"]["user"] == "from-flag"
    assert m["properties"]["nats"]["password"] == "from-file-pw"  # vars file beats the store


def test_nothing_written_when_validation_fails(write_config, tmp_path, seeded_generator):
    ops = tmp_path / "break.yml"
    ops.write_text("- {type: replace, path: /jobs/name=router_z1/instances, value: 3}\n")
    path = tmp_path / "store.yml"
    with pytest.raises(Exception) as err:
        render("cf", load_config(write_config("advanced", edit=set_version(175))), ops_files=[ops],
               store=VarsStore(path, seeded_generator()))
    assert "job 'router_z1'" in str(err.value) and "static IP count equals instances" in str(err.value)
    assert not path.exists()


def test_render_needs_zone_type_and_sections(write_config):
    config = load_config(write_config("advanced", edit=lambda d: d["cloudstack"].pop("zone_type")))
    with pytest.raises(ConfigError, match="cloudstack.zone_type"):
        render("cf", config)
    config = load_config(write_config("advanced", edit=lambda d: d.pop("cf")))
    with pytest.raises(ConfigError, match="cf: missing"):
        render("cf", config)
    config = load_config(write_config("advanced", edit=lambda d: d["offerings"]["vm_types"].pop("runner")))
    with pytest.raises(ConfigError, match="offerings.vm_types.runner"):
        render("cf", config, variables={"director_uuid": UUID})


GOLDEN_CASES = {
    "cf-advanced-v175.yml": ("advanced", "cf", set_version(175)),
    "cf-basic-v175-lucid.yml": ("basic", "cf", set_version(175, "basic")),
    "micro-advanced.yml": ("advanced", "micro", stemcell_file),
    "cloud-config-advanced.yml": ("advanced", "cloud-config", None),
}


@pytest.mark.parametrize("name", sorted(GOLDEN_CASES))
def test_golden(write_config, seeded_generator, credentials_env, name):
    zone, kind, edit = GOLDEN_CASES[name]
    text = render(kind, load_config(write_config(zone, edit=edit)), store=VarsStore(None, seeded_generator())).text
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} changed; re-run with UPDATE_GOLDEN=1 after checking the diff"
    assert yaml.safe_load(text)  # and it is valid YAML


def test_cpi_properties_match_the_cpi_job_spec(write_config, store, credentials_env):
    """create-env renders the cloudstack_cpi job with cloud_provider.properties, the director's copy with its
    instance group's properties: every key given must be one the job spec (cpi/release) declares (anything else
    never reaches the CPI), and every required one must be set."""
    from cpi.release.properties import PROPERTIES

    declared = {p.name for p in PROPERTIES}
    required = {p.name for p in PROPERTIES if p.required}

    def names(props, sections):
        out = set()
        for section in sections:
            value = props[section]
            out |= {f"{section}.{key}" for key in value} if isinstance(value, dict) else {section}
        return out

    for zone, variables in (("advanced", {}), ("basic", {"director_address": "192.0.2.50"})):
        micro = render("micro", load_config(write_config(zone, edit=stemcell_file if zone == "advanced" else None)),
                       store=store, variables=variables).manifest
        given = names(micro["cloud_provider"]["properties"], micro["cloud_provider"]["properties"])
        assert given <= declared, f"not in the cloudstack_cpi job spec: {sorted(given - declared)}"
        assert required <= given
        director = micro["instance_groups"][0]["properties"]
        on_director = names(director, ["cloudstack"]) | {f"agent.{k}" for k in ("mbus", "ntp") if k in director["agent"]}
        assert required <= on_director and names(director, ["cloudstack"]) <= declared


@pytest.mark.parametrize("example", sorted(p.name for p in (Path(__file__).parents[2] / "manifests" / "examples")
                                            .glob("config-*.yml")))
@pytest.mark.parametrize("kind", ["micro", "bosh", "cf", "cloud-config"])
def test_every_shipped_example_renders_every_kind_and_passes_the_check(tmp_path, credentials_env, store, example,
                                                                        kind):
    """The examples as shipped, not edited: each renders every manifest kind (cf included: a release version and
    a network the support matrix accepts) and the result passes `manifests check` with no error."""
    source = Path(__file__).parents[2] / "manifests" / "examples" / example
    (tmp_path / example).write_text(source.read_text())
    config = load_config(tmp_path / example)
    full_bosh = {"config-advanced.yml": "10.0.0.40"}.get(example, "192.0.2.51")   # a static IP on a manual net
    variables = {"director_uuid": UUID, "director_address": "192.0.2.50", "full_bosh_address": full_bosh}
    m = render(kind, config, store=store, variables=variables).manifest
    assert [v for v in validate(m, zone_type=config.zone_type) if not v.warning] == []
