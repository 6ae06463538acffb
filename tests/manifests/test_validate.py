"""One broken manifest per rule: each is refused with a message naming the job (or part) and the rule.
The valid starting points are the golden renders."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from inception.manifests.validate import ManifestError, check, validate

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def cf_basic():
    return yaml.safe_load((GOLDEN / "cf-basic-v175-lucid.yml").read_text())


@pytest.fixture(scope="module")
def cloud_config():
    return yaml.safe_load((GOLDEN / "cloud-config-advanced.yml").read_text())


def job(m, name):
    return next(j for j in m["jobs"] if j["name"] == name)


def broken(base, edit):
    doc = copy.deepcopy(base)
    edit(doc)
    return doc


def test_goldens_are_valid(cf, cf_basic, micro, cloud_config):
    assert validate(cf, zone_type="advanced") == []
    assert validate(cf_basic, zone_type="basic", stemcell_os="ubuntu-lucid") == []
    assert validate(micro, zone_type="advanced") == []
    assert validate(cloud_config, zone_type="advanced") == []


CF_CASES = [
    # (edit, subject, rule)
    (lambda m: m.pop("compilation"), "manifest", "compilation is required"),
    (lambda m: m.update(networks=[]), "manifest", "networks are required"),
    (lambda m: m.update(release={"name": "cf", "version": "175"}), "manifest", "release xor releases"),
    (lambda m: m.update(director_uuid="not-a-uuid"), "manifest", "director_uuid is a UUID"),
    (lambda m: m["compilation"].update(network="nope"), "compilation", "compilation has a network that exists"),
    (lambda m: m["resource_pools"][0].update(network="nope"), "resource pool 'small'", "a resource pool's network exists"),
    (lambda m: m["resource_pools"][0].pop("cloud_properties"), "resource pool 'small'", "cloud_properties (a hash)"),
    (lambda m: m["resource_pools"][0]["stemcell"].pop("version"), "resource pool 'small'", "stemcell name and version"),
    (lambda m: m["resource_pools"][0].update(size=0), "resource pool 'small'", "size covers the instances of its jobs"),
    (lambda m: job(m, "uaa_z1").update(templates=[{"name": "uaa", "release": "cf"}]), "job 'uaa_z1'", "template xor templates"),
    (lambda m: job(m, "uaa_z1").update(resource_pool="huge"), "job 'uaa_z1'", "a job's resource pool exists"),
    (lambda m: job(m, "uaa_z1").update(networks=[]), "job 'uaa_z1'", "every job has at least one network"),
    (lambda m: job(m, "uaa_z1").update(networks=[{"name": "other"}]), "job 'uaa_z1'", "job networks exist"),
    (lambda m: job(m, "nats_z1")["networks"][0].update(static_ips=["10.0.0.7", "10.0.0.8"]), "job 'nats_z1'",
     "static IP count equals instances"),
    (lambda m: job(m, "nats_z1")["networks"][0].update(static_ips=["10.0.0.200"]), "job 'nats_z1'",
     "static IPs are in the network's static ranges"),
    (lambda m: job(m, "router_z1")["networks"][1].update(default=["dns"]), "job 'router_z1'",
     "exactly one is default for dns"),
    (lambda m: job(m, "router_z1")["networks"][1].update(static_ips=[]), "job 'router_z1'", "a vip network needs static IPs"),
    (lambda m: job(m, "uaa_z1")["template"].append("uaa"), "job 'uaa_z1'", "template names are unique per job"),
    (lambda m: job(m, "uaa_z1").update(templates=[{"name": "uaa", "release": "other"}], template=None) or
     job(m, "uaa_z1").pop("template"), "job 'uaa_z1'", "a template's release is in releases"),
    (lambda m: job(m, "uaa_z1").update(instances=-1), "job 'uaa_z1'", "instances is an integer >= 0"),
    (lambda m: m["properties"]["uaa"]["jwt"].pop("signing_key"), "job 'uaa_z1'", "template uaa needs property uaa.jwt.signing_key"),
    (lambda m: m["properties"]["nats"].pop("machines"), "job 'router_z1'", "template gorouter needs property nats.machines"),
    (lambda m: m["properties"]["cc"].pop("db_encryption_key"), "job 'api_z1'",
     "template cloud_controller_ng needs property cc.db_encryption_key"),
    (lambda m: m["properties"]["nats"].update(password="c1oudc0w"), "property properties.nats.password",
     "no well-known sample secrets"),
    (lambda m: m["properties"]["networks"].update(apps="cf1"), "properties.networks.apps", "names a network"),
    (lambda m: m["properties"]["etcd"].update(machines=[]), "properties.etcd.machines", "etcd.machines is not empty"),
    (lambda m: m["properties"]["dea_next"].update(stacks=["trusty64"]), "properties.dea_next.stacks", "contains lucid64"),
    (lambda m: m["properties"]["uaa"]["jwt"].update(verification_key=m["properties"]["uaa"]["jwt"]["signing_key"]),
     "properties.uaa.jwt", "form an RSA pair"),
    (lambda m: m["networks"][0]["subnets"][0].update(gateway="10.9.9.9"), "network 'default'", "gateway is inside its range"),
    (lambda m: m["networks"][1].update(cloud_properties={"name": "x"}), "network 'floating'",
     "a vip network carries no guest network name"),
    (lambda m: m["networks"].append({"name": "default", "type": "dynamic"}), "network 'default'", "network names are unique"),
    (lambda m: m["jobs"].append(copy.deepcopy(m["jobs"][4])), "job 'uaa_z1'", "job names are unique"),
]


@pytest.mark.parametrize("edit, subject, rule", CF_CASES, ids=[c[2] for c in CF_CASES])
def test_cf_rules(cf, edit, subject, rule):
    with pytest.raises(ManifestError) as err:
        check(broken(cf, edit), "cf.yml", zone_type="advanced")
    assert any(v.subject == subject and rule in v.rule for v in err.value.violations), str(err.value)
    assert str(err.value).startswith("cf.yml: ")


def test_static_ips_on_dynamic_network(cf_basic):
    doc = broken(cf_basic, lambda m: (m["networks"][0].pop("subnets"), m["networks"][0].update(type="dynamic", dns=["8.8.8.8"])))
    violations = validate(doc, zone_type="basic")
    assert any(v.subject == "job 'nats_z1'" and v.rule == "static IPs only on manual or vip networks" for v in violations)


def test_no_vip_in_basic_zone(cf):
    violations = validate(cf, zone_type="basic")
    assert any(v.subject == "network 'floating'" and v.rule == "no vip network in a basic zone" for v in violations)


def test_precise_needs_pipefs(cf_basic):
    doc = broken(cf_basic, lambda m: m["properties"]["nfs_server"].update(pipefs_directory="/var/lib/nfs/rpc_pipefs"))
    assert validate(doc, stemcell_os="ubuntu-lucid") == []
    violations = validate(doc, stemcell_os="ubuntu-precise")
    assert [v.subject for v in violations] == ["properties.nfs_server.pipefs_directory"]


def test_legacy_ccng_accepted_for_old_versions(cf_basic):
    def v170(m):
        m["releases"] = [{"name": "cf", "version": "170"}]
        m["properties"]["ccng"] = m["properties"].pop("cc")
    doc = broken(cf_basic, v170)
    assert [v for v in validate(doc, stemcell_os="ubuntu-lucid") if not v.warning] == []  # ccng (<= v170) satisfies cc.*


MICRO_CASES = [
    (lambda m: m.update(name=" "), "manifest", "name is not blank"),
    (lambda m: m["networks"][0].update(type="static"), "network 'default'", "network type is manual, dynamic or vip"),
    (lambda m: m["resource_pools"][0].update(network="nope"), "resource pool 'vms'", "a resource pool's network exists"),
    (lambda m: m["disk_pools"][0].update(disk_size=0), "disk pool 'disks'", "disk_size > 0"),
    (lambda m: m["instance_groups"][0]["networks"][0].update(static_ips=["10.0.0.300"]), "instance group 'bosh'",
     "static IPs are valid IP addresses"),
    (lambda m: m["instance_groups"][0]["networks"][0].update(default=["dns", "routes"]), "instance group 'bosh'",
     "default is a subset of [dns, gateway]"),
    (lambda m: m["instance_groups"][0]["jobs"][0].update(release="nope"), "instance group 'bosh'",
     "a template's release is in releases"),
    (lambda m: m["cloud_provider"]["template"].update(release="other-cpi"), "cloud_provider",
     "the CPI template's release is in releases"),
    (lambda m: m["cloud_provider"]["properties"]["cloudstack"].pop("default_zone"),
     "cloud_provider.properties.cloudstack", "cloudstack.default_zone is set"),
    (lambda m: m["resource_pools"][0]["stemcell"].pop("url"), "resource pool 'vms'", "create-env needs the stemcell url"),
    (lambda m: m["instance_groups"].append(copy.deepcopy(m["instance_groups"][0])), "manifest",
     "create-env deploys exactly one instance group"),
]


@pytest.mark.parametrize("edit, subject, rule", MICRO_CASES, ids=[c[2] for c in MICRO_CASES])
def test_create_env_rules(micro, edit, subject, rule):
    violations = validate(broken(micro, edit), zone_type="advanced")
    assert any(v.subject == subject and rule in v.rule for v in violations), violations


def test_basic_zone_micro_rejects_guest_network_name(micro):
    violations = validate(micro, zone_type="basic")
    rules = {v.rule for v in violations}
    assert "a basic zone has no guest network to name" in rules and "no vip network in a basic zone" in rules


CLOUD_CONFIG_CASES = [
    (lambda m: m["compilation"].update(network="nope"), "compilation", "compilation has a network that exists"),
    (lambda m: m["compilation"].update(az="z9"), "compilation", "compilation az exists"),
    (lambda m: m["networks"][0]["subnets"][0].update(az="z2"), "network 'default'", "subnet azs exist"),
    (lambda m: m["vm_types"].append(copy.deepcopy(m["vm_types"][0])), "vm_types", "vm_types names are unique"),
    (lambda m: m["disk_types"][0].update(disk_size=0), "disk type '5GB'", "disk_size > 0"),
]


@pytest.mark.parametrize("edit, subject, rule", CLOUD_CONFIG_CASES, ids=[c[2] for c in CLOUD_CONFIG_CASES])
def test_cloud_config_rules(cloud_config, edit, subject, rule):
    violations = validate(broken(cloud_config, edit), zone_type="advanced")
    assert any(v.subject == subject and rule in v.rule for v in violations), violations


def test_unknown_documents():
    assert validate({"foo": 1})[0].rule == "a BOSH manifest or cloud-config"
    assert validate(["a"])[0].subject == "manifest"


MALFORMED = [
    # (document, subject, rule): wrong types anywhere are reported, never a crash inside a rule
    ({"name": "cf", "jobs": ["nats"]}, "job [0]", "jobs[0] is a hash"),
    ({"name": "cf", "jobs": {"nats": 1}}, "manifest", "jobs is a list"),
    ({"cloud_provider": "cpi"}, "manifest", "cloud_provider is a hash"),
    ({"cloud_provider": {}, "instance_groups": [{"name": "bosh", "jobs": ["director"]}]}, "instance group 'bosh'",
     "instance_groups[0].jobs[0] is a hash"),
    ({"cloud_provider": {}, "instance_groups": [{"name": "bosh", "persistent_disk": "big"}]}, "instance group 'bosh'",
     "instance_groups[0].persistent_disk is an integer"),
    ({"jobs": [{"name": "router_z1", "networks": [{"name": "n", "static_ips": "10.0.0.1"}]}]}, "job 'router_z1'",
     "jobs[0].networks[0].static_ips is a list"),
    ({"jobs": [], "networks": [{"name": "n", "type": "manual", "subnets": [{"range": "10.0.0.0/24", "static": 5}]}]},
     "network 'n'", "networks[0].subnets[0].static is a list"),
    ({"vm_types": [1]}, "vm type [0]", "vm_types[0] is a hash"),
    ({"jobs": [], "properties": ["a"]}, "manifest", "properties is a hash"),
]


@pytest.mark.parametrize("doc, subject, rule", MALFORMED, ids=[c[2] for c in MALFORMED])
def test_malformed_structure_is_a_violation(doc, subject, rule):
    violations = validate(doc)
    assert any(v.subject == subject and v.rule == rule for v in violations), violations


def test_static_ip_ranges_count_as_the_director_expands_them(cf):
    """BOSH v1 accepts `a - b` ranges in a job's static_ips; each address counts towards the instances."""
    two = broken(cf, lambda m: (job(m, "nats_z1").update(instances=2),
                                job(m, "nats_z1")["networks"][0].update(static_ips=["10.0.0.30 - 10.0.0.31"])))
    assert [v for v in validate(two, zone_type="advanced") if v.subject == "job 'nats_z1'"] == []
    three = broken(cf, lambda m: job(m, "nats_z1")["networks"][0].update(static_ips=["10.0.0.30 - 10.0.0.32"]))
    assert [v.rule for v in validate(three, zone_type="advanced") if v.subject == "job 'nats_z1'"] == [
        "static IP count equals instances"]
    backwards = broken(cf, lambda m: job(m, "nats_z1")["networks"][0].update(static_ips=["10.0.0.32 - 10.0.0.30"]))
    assert [v.rule for v in validate(backwards, zone_type="advanced") if v.subject == "job 'nats_z1'"] == [
        "static IPs are valid IP addresses or ranges"]


def test_one_ip_parser_each_rule_choosing_its_version(micro):
    """Manual subnets are IPv4 (an IPv6 gateway is not inside an IPv4 range); a handed address is an IP of either
    version, never a DNS name (inception/manifests/addresses.py)."""
    from inception.manifests.addresses import parse_ip, static_ips

    assert parse_ip("2001:db8::1", 4) is None and parse_ip("2001:db8::1") is not None
    assert parse_ip("10.0.0.1", 4) is not None and parse_ip("nats.example.com") is None
    assert static_ips("10.0.0.1 - 10.0.0.3") == ["10.0.0.1", "10.0.0.2", "10.0.0.3"] and static_ips("x") is None
    doc = copy.deepcopy(micro)
    doc["networks"][0]["subnets"][0]["gateway"] = "2001:db8::1"
    assert any("a manual subnet's gateway is inside its range" in str(v) for v in validate(doc, zone_type="advanced"))
