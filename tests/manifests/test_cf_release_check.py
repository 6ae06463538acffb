"""cf manifests against the cf-release job specs the project keeps (inception/manifests/releases/cf/): what the
project renders passes; the defects of issue 10 are refused."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from inception.manifests.jobspecs import load_release
from inception.manifests.release_check import release_findings
from inception.manifests.validate import ManifestError, check

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
