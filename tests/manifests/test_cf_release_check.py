"""cf manifests against the cf-release job specs the project keeps (inception/manifests/releases/cf/): what the
project renders passes; the defects of issue 10 are refused."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from inception.manifests.jobspecs import load_release
from inception.manifests.release_check import release_findings
from inception.manifests.validate import ManifestError, check, validate

GOLDEN = Path(__file__).parent / "golden"
CF_GOLDENS = {"cf-advanced-v175.yml": ("advanced", "ubuntu-trusty"), "cf-basic-v175-lucid.yml": ("basic", "ubuntu-lucid")}


def golden(name):
    return yaml.safe_load((GOLDEN / name).read_text())


def job(m, name):
    return next(j for j in m["jobs"] if j["name"] == name)


@pytest.mark.parametrize("name", sorted(CF_GOLDENS))
def test_every_rendered_cf_manifest_passes_the_release_check(name):
    """Both stemcell lines: trusty (Ubuntu 12.04 patch applied) in the advanced zone, lucid in the basic one."""
    zone, os_name = CF_GOLDENS[name]
    doc = golden(name)
    assert release_findings(doc) == []
    assert check(doc, name, zone_type=zone, stemcell_os=os_name) == []


def test_the_kept_job_lists_are_the_release_manifests():
    v160, v175 = load_release("cf", "160"), load_release("cf", "175")
    assert "health_manager_next" in v160.jobs and "cloud_controller_clock" not in v160.jobs
    assert {"cloud_controller_clock", "cloud_controller_worker", "etcd_metrics_server"} <= set(v175.jobs)
    assert "metron_agent" not in v175.jobs  # colocated from v177 on, never in a v175 render
    assert v160.jobs["debian_nfs_server"].properties == {} and v160.jobs["postgres"].properties == {}


@pytest.mark.parametrize("prop", ["security_group_definitions", "default_running_security_groups",
                                  "default_staging_security_groups"])
def test_a_v175_render_without_a_security_group_property_is_refused(prop):
    doc = golden("cf-advanced-v175.yml")
    del doc["properties"]["cc"][prop]
    with pytest.raises(ManifestError) as err:
        check(doc, "cf.yml", zone_type="advanced")
    text = str(err.value)
    for group, template in (("api_z1", "cloud_controller_ng"), ("clock_global", "cloud_controller_clock"),
                            ("api_worker_z1", "cloud_controller_worker")):
        assert f"job {group!r} job {template!r}" in text
    assert f"property cc.{prop} is missing" in text


def test_a_v160_manifest_with_etcd_machines_is_refused():
    """v160's hm9000 and loggregator read etcd_ips; the v161+ names (etcd.machines, cloud_controller_clock ...)
    do not exist there."""
    doc = golden("cf-advanced-v175.yml")
    doc["releases"] = [{"name": "cf", "version": "160"}]
    findings = [str(v) for v in release_findings(doc) if not v.warning]
    assert any("job 'hm9000_z1' job 'hm9000'" in f and "etcd_ips is missing" in f for f in findings)
    assert any("job 'loggregator_z1' job 'loggregator'" in f and "etcd_ips is missing" in f for f in findings)
    assert any("has no job 'cloud_controller_clock'" in f for f in findings)
    fixed = copy.deepcopy(doc)
    fixed["properties"]["etcd_ips"] = fixed["properties"]["etcd"]["machines"]
    assert not any("etcd_ips" in str(v) for v in release_findings(fixed) if not v.warning)


def test_two_jobs_sharing_one_static_ip_are_refused():
    """Issue 10: 10.0.0.7 for nats_z1 and etcd_z1."""
    doc = golden("cf-advanced-v175.yml")
    shared = job(doc, "nats_z1")["networks"][0]["static_ips"][0]
    job(doc, "etcd_z1")["networks"][0]["static_ips"] = [shared]
    doc["properties"]["etcd"]["machines"] = [shared]
    with pytest.raises(ManifestError) as err:
        check(doc, "cf.yml", zone_type="advanced")
    assert shared in str(err.value) and "etcd_z1" in str(err.value)


def v160_manifest():
    """The v175 render rewritten the way a correct v160 manifest looks: the cloud controller template runs the
    clock and the worker (ccng.process_group), etcd alone, etcd_ips, ccng/ccdb_ng."""
    doc = golden("cf-advanced-v175.yml")
    doc["releases"] = [{"name": "cf", "version": "160"}]
    job(doc, "etcd_z1")["template"] = ["etcd"]
    for name, group in (("clock_global", "clock"), ("api_worker_z1", "worker")):
        job(doc, name)["template"] = ["cloud_controller_ng"]
        job(doc, name)["properties"] = {"ccng": {"process_group": group}}
    props = doc["properties"]
    props["etcd_ips"] = props.pop("etcd")["machines"]
    props.pop("etcd_metrics_server")
    props["ccng"], props["ccdb_ng"] = props.pop("cc"), props.pop("ccdb")
    return doc


def test_a_v160_manifest_is_refused_for_its_spec_less_nfs_and_postgres_jobs():
    """Even written right for v160 (etcd_ips, no v161 job names), the 262.3 director binds nothing to v160's
    debian_nfs_server and postgres, whose templates read properties: refused, naming both and why."""
    errors = [str(v) for v in release_findings(v160_manifest()) if not v.warning]
    assert len(errors) == 2, errors
    assert "job 'nfs_z1' job 'debian_nfs_server'" in errors[0] and "properties.nfs_server" in errors[0]
    assert "job 'postgres_z1' job 'postgres'" in errors[1] and "properties.db" in errors[1]
    assert all("declares no properties" in e for e in errors)
    # the rest of the manifest is what v160 asks for: the generic checklist takes etcd_ips and ccng/ccdb_ng
    assert [str(v) for v in validate(v160_manifest(), zone_type="advanced") if not v.warning] == errors


@pytest.mark.parametrize("prop, value", [("nats.machines", ["10.0.0.99"]), ("etcd.machines", ["10.0.0.7"]),
                                         ("ccdb.address", "10.0.0.7")])
def test_an_address_that_misses_its_serving_job_is_refused(prop, value):
    """nats.machines must be nats_z1's static IPs, etcd.machines etcd_z1's, the databases postgres_z1's."""
    doc = golden("cf-advanced-v175.yml")
    section, key = prop.split(".")
    doc["properties"][section][key] = value
    errors = [str(v) for v in release_findings(doc) if not v.warning]
    assert any(prop in e and "not an IP of" in e for e in errors), errors


def metrics_group(**properties):
    """A v175 job running etcd_metrics_server alone: its spec is the one cf job the project knows completely."""
    return {"name": "metrics_z1", "template": ["etcd_metrics_server"], "instances": 1, "resource_pool": "small",
            "networks": [{"name": "cf"}], "properties": properties}


def test_a_property_no_job_of_a_cf_group_declares_warns():
    """The director drops it; a typo (`etcd_metrics_server.nats.user` for `.username`) is said, the declared
    ones are not."""
    doc = golden("cf-advanced-v175.yml")
    doc["jobs"].append(metrics_group(etcd_metrics_server={"status": {"port": 5679}, "nats": {"user": "nats"}},
                                     nats={"user": "nats"}))
    found = [v for v in release_findings(doc) if v.subject == "job 'metrics_z1'"]
    assert [v.warning for v in found] == [True, True], found
    assert "property etcd_metrics_server.nats.user is declared by no job of this instance group" in str(found[0])
    assert "property nats is declared by no job of this instance group" in str(found[1])


def test_a_group_with_a_job_of_unknown_spec_is_not_called_undeclared():
    """etcd_z1 runs etcd (spec not known completely) next to etcd_metrics_server: a property only etcd may
    declare is not reported, since the director would bind it if etcd's spec declares it."""
    doc = golden("cf-advanced-v175.yml")
    job(doc, "etcd_z1")["properties"] = {"etcd": {"machines": job(doc, "etcd_z1")["networks"][0]["static_ips"]}}
    assert [v for v in release_findings(doc) if v.subject == "job 'etcd_z1'"] == []


@pytest.mark.parametrize("key", ["machines", "username", "password"])
def test_a_v175_render_without_an_etcd_metrics_server_nats_property_is_refused(key):
    """etcd_metrics_server_ctl.erb reads etcd_metrics_server.nats.{machines,username,password} with p() and
    the spec gives them no default: the template cannot render without them."""
    doc = golden("cf-advanced-v175.yml")
    del doc["properties"]["etcd_metrics_server"]["nats"][key]
    with pytest.raises(ManifestError) as err:
        check(doc, "cf.yml", zone_type="advanced")
    assert f"job 'etcd_z1' job 'etcd_metrics_server'" in str(err.value)
    assert f"property etcd_metrics_server.nats.{key} is missing" in str(err.value)


def test_etcd_metrics_server_must_reach_the_nats_job():
    doc = golden("cf-advanced-v175.yml")
    doc["properties"]["etcd_metrics_server"]["nats"]["machines"] = ["10.0.0.99"]
    errors = [str(v) for v in release_findings(doc) if not v.warning]
    assert any("etcd_metrics_server.nats.machines has 10.0.0.99, not an IP of nats_z1" in e for e in errors), errors


def test_the_v175_data_names_its_source():
    """Every job names its spec path in cloudfoundry-attic/cf-release; a job whose property list the check
    enforces (complete) names the stored commit it was read at and the templates whose p() calls set `required`."""
    v175 = load_release("cf", "175")
    assert v175.source["repo"] == "cloudfoundry-attic/cf-release" and v175.source["tag"] == "v175"
    assert v175.source["release_manifest"] == "releases/cf-175.yml" and v175.source["built_from"] == "8b458e34"
    for name, spec in v175.jobs.items():
        assert spec.spec_path == f"jobs/{name}/spec", name
        if spec.complete:
            assert len(spec.commit) == 40 and int(spec.commit, 16) >= 0, name
            assert spec.templates, name
    complete = sorted(n for n, s in v175.jobs.items() if s.complete)
    assert complete == ["etcd_metrics_server"]
    assert v175.jobs["etcd_metrics_server"].required == {
        "etcd_metrics_server.nats.machines", "etcd_metrics_server.nats.username", "etcd_metrics_server.nats.password"}
