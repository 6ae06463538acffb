"""`manifests check` against the job specs of the release versions a manifest names (release_check.py, the data in
inception/manifests/releases/): each rule fails a broken manifest the way the real director or bosh CLI would,
and every director manifest the project renders passes with no error and no warning."""
from __future__ import annotations

import copy

import pytest

from inception.config import ConfigError, load_config
from inception.manifests.interpolate import VariablesError
from inception.manifests.jobspecs import RELEASES_DIR, NO_DEFAULT, JobSpecError, _load_file, known_versions, load_release
from inception.manifests.release_check import merge
from inception.manifests.render import render
from inception.manifests.validate import ManifestError, check, validate
from inception.manifests.varstore import VarsStore

from .conftest import UUID, stemcell_file


@pytest.fixture
def store(seeded_generator):
    return VarsStore(None, seeded_generator())


def edited(base, edit):
    doc = copy.deepcopy(base)
    edit(doc)
    return doc


def errors(doc, **options):
    return [str(v) for v in validate(doc, **options) if not v.warning]


def warnings(doc, **options):
    return [str(v) for v in validate(doc, **options) if v.warning]


def group_props(doc):
    return doc["instance_groups"][0]["properties"]


# -- the data ------------------------------------------------------------------------------------------------
def test_every_spec_file_loads_and_names_its_source():
    files = sorted(RELEASES_DIR.glob("*/*.yml"))
    assert RELEASES_DIR / "bosh" / "262.3.yml" in files
    for path in files:
        spec = load_release(path.parent.name, path.stem)
        assert spec is not None and spec.jobs, path
        assert spec.source.get("repo") and spec.source.get("tag"), f"{path}: source repo and tag"
        for job in spec.jobs.values():
            assert job.spec_path, f"{path}: jobs.{job.name}.spec"
            assert all(job.properties[p] is NO_DEFAULT for p in job.required)


def test_bosh_262_3_has_postgres_9_4_and_no_tls():
    bosh = load_release("bosh", "262.3")
    assert "postgres-9.4" in bosh.jobs and "postgres" not in bosh.jobs
    declared = {p for job in bosh.jobs.values() for p in job.properties}
    assert not [p for p in declared if p.startswith(("nats.tls", "blobstore.tls", "agent.env"))]
    assert "director.db.listen_address" not in declared
    assert {"nats.user", "nats.password"} <= bosh.jobs["nats"].required
    # exactly the jobs of the final release record (cloudfoundry/bosh releases/bosh-262.3.yml)
    assert set(bosh.jobs) == {"blobstore", "director", "health_monitor", "nats", "postgres-9.4", "powerdns", "registry"}
    # every spec that is kept whole says the upstream commit it was read at
    assert all(len(job.commit) == 40 and int(job.commit, 16) >= 0 for job in bosh.jobs.values() if job.complete)
    assert known_versions("bosh") == ["262.3"] and load_release("bosh", "280.1.6") is None


def test_malformed_spec_data_is_refused(tmp_path):
    bad = tmp_path / "1.yml"
    bad.write_text("source: {repo: r, tag: t}\njobs:\n  j:\n    properties: {a: {default: 1}}\n    required: [a]\n")
    with pytest.raises(JobSpecError, match="required names properties with a spec default"):
        _load_file(bad, "r", "1")
    bad.write_text("source: {repo: r, tag: t}\njobs:\n  j:\n    properties: {}\n    required: [b]\n")
    with pytest.raises(JobSpecError, match="undeclared properties"):
        _load_file(bad, "r", "1")
    bad.write_text("source: {repo: r, tag: t}\njobs:\n  j:\n    properties: {a: {}}\n"
                   "    conditions: [{if: {b: 1}, required: [a]}]\n")
    with pytest.raises(JobSpecError, match=r"conditions\[0\] tests undeclared property 'b'"):
        _load_file(bad, "r", "1")
    bad.write_text("source: {repo: r, tag: t}\njobs:\n  j:\n    properties: {a: {}, b: {default: 1}}\n"
                   "    conditions: [{if: {a: 1}, unless: {a: 2}, required: [a]}]\n")
    with pytest.raises(JobSpecError, match="must be"):
        _load_file(bad, "r", "1")


# -- job specs -------------------------------------------------------------------------------------------------
def test_unknown_job_is_an_error(micro):
    doc = edited(micro, lambda d: d["instance_groups"][0]["jobs"][1].update(name="postgres"))
    found = errors(doc, zone_type="advanced")
    assert any("instance group 'bosh' job 'postgres'" in e and "release bosh 262.3 has no job 'postgres'" in e
               and "postgres-9.4" in e for e in found), found


def test_every_job_of_the_release_is_known(micro):
    """powerdns is a 262.3 job (the bosh-google-cpi-release 262.3 manifest deploys it): not an unknown job."""
    doc = edited(micro, lambda d: d["instance_groups"][0]["jobs"].append({"name": "powerdns", "release": "bosh"}))
    assert not [e for e in errors(doc, zone_type="advanced") if "has no job" in e]


def test_missing_required_property_is_an_error(micro):
    doc = edited(micro, lambda d: group_props(d)["nats"].pop("user"))
    found = errors(doc, zone_type="advanced")
    assert any("job 'nats'" in e and "property nats.user is missing" in e for e in found), found
    # a null value is as unset as a missing one for p()
    doc = edited(micro, lambda d: group_props(d)["postgres"].update(password=None))
    assert any("job 'postgres-9.4'" in e and "postgres.password is missing" in e
               for e in errors(doc, zone_type="advanced"))


def test_director_db_password_is_required(micro):
    """director.yml.erb.erb (release/jobs/director at 1819299c) reads p('director.db.password'), no default."""
    doc = edited(micro, lambda d: group_props(d)["director"]["db"].pop("password"))
    found = errors(doc, zone_type="advanced")
    assert any("job 'director'" in e and "property director.db.password is missing" in e for e in found), found


def test_conditional_required_properties_follow_the_value_or_the_spec_default(micro):
    """`if p('blobstore.provider') == 's3' ... else` needs the dav endpoint and users; the spec default (dav) counts."""
    doc = edited(micro, lambda d: group_props(d)["blobstore"].pop("address"))
    found = errors(doc, zone_type="advanced")
    assert any("job 'director'" in e and "property blobstore.address is missing" in e
               and "when blobstore.provider is not 's3'" in e for e in found), found
    doc = edited(micro, lambda d: group_props(d)["blobstore"].pop("provider"))   # default dav: still needed
    assert errors(doc, zone_type="advanced") == []
    doc = edited(doc, lambda d: group_props(d)["blobstore"].pop("address"))
    assert any("property blobstore.address is missing" in e for e in errors(doc, zone_type="advanced"))
    # s3: the bucket instead of the dav endpoint
    doc = edited(micro, lambda d: group_props(d)["blobstore"].update(provider="s3", address=None))
    found = errors(doc, zone_type="advanced")
    assert any("property blobstore.bucket_name is missing" in e and "when blobstore.provider is 's3'" in e
               for e in found), found
    assert not any("property blobstore.address is missing" in e for e in found), found
    # config server: its URL and UAA client only when enabled
    doc = edited(micro, lambda d: group_props(d)["director"].update(config_server={"enabled": True}))
    found = errors(doc, zone_type="advanced")
    assert any("property director.config_server.url is missing" in e for e in found), found
    doc = edited(micro, lambda d: group_props(d)["hm"].update(email_notifications=True))
    assert any("job 'health_monitor'" in e and "property hm.email_recipients is missing" in e
               for e in errors(doc, zone_type="advanced"))


def test_spec_defaults_of_the_director_job(micro):
    """Defaults the stored director spec gives (the earlier data had none for these): unset, nothing is missing."""
    director = load_release("bosh", "262.3").jobs["director"]
    assert director.default("director.workers") == 3 and director.default("director.db.host") == "127.0.0.1"
    assert director.default("director.local_dns") == {} and "env.http_proxy" in director.properties
    doc = edited(micro, lambda d: [group_props(d)["director"].pop(k) for k in ("workers", "local_dns", "flush_arp")])
    assert errors(doc, zone_type="advanced") == [] and warnings(doc, zone_type="advanced") == []


def test_job_level_properties_replace_the_groups(micro):
    """As the director does: a job with its own properties gets nothing from the instance group or global ones."""
    doc = edited(micro, lambda d: d["instance_groups"][0]["jobs"][0].update(properties={"nats": {"user": "n"}}))
    found = errors(doc, zone_type="advanced")
    assert any("job 'nats'" in e and "nats.password is missing: set it in the job's properties" in e for e in found)


def test_spec_defaults_count_as_set(micro):
    doc = edited(micro, lambda d: group_props(d)["blobstore"].pop("port"))
    assert errors(doc, zone_type="advanced") == []


@pytest.mark.parametrize("prop, value, node", [
    ("agent", {"env": {"bosh": {"blobstores": []}}}, "agent.env"),
    ("director", {"db": {"listen_address": "127.0.0.1"}}, "director.db.listen_address"),
    ("nats", {"tls": {"ca": "x", "server": {"certificate": "y"}}}, "nats.tls"),
    ("blobstore", {"tls": {"cert": {"ca": "x"}}}, "blobstore.tls"),
    # the 260-262 director spec names its proxy settings env.*, not director.env.*
    ("director", {"env": {"http_proxy": "http://proxy.example.com:3128"}}, "director.env"),
])
def test_undeclared_property_is_a_warning(micro, prop, value, node):
    doc = edited(micro, lambda d: group_props(d).update({prop: merge(group_props(d)[prop], value)}))
    assert errors(doc, zone_type="advanced") == []
    found = warnings(doc, zone_type="advanced")
    assert [w for w in found if f"property {node} is declared by no job of this instance group" in w], found
    assert check(doc, "m.yml", zone_type="advanced")  # warnings come back, no error raised


def test_global_property_declared_by_no_job_of_the_manifest_warns(micro):
    doc = edited(micro, lambda d: d.update(properties={"unused": {"thing": 1}}))
    assert any(w.startswith("warning: properties: property unused is declared by no job of the manifest")
               for w in warnings(doc, zone_type="advanced"))


# -- static IPs ------------------------------------------------------------------------------------------------
def _static_ip(doc, job_name):
    return next(j for j in doc["jobs"] if j["name"] == job_name)["networks"][0]["static_ips"]


def test_two_jobs_sharing_a_static_ip_is_an_error(cf):
    def edit(d):
        _static_ip(d, "etcd_z1")[:] = list(_static_ip(d, "nats_z1"))
    found = errors(edited(cf, edit), zone_type="advanced")
    ip = _static_ip(cf, "nats_z1")[0]
    assert any("job 'etcd_z1'" in e and f"{ip} on network" in e and "also a static IP of job 'nats_z1'" in e
               for e in found), found


def test_static_ip_outside_the_subnet_is_an_error(micro):
    doc = edited(micro, lambda d: d["instance_groups"][0]["networks"][0].update(static_ips=["10.9.9.9"]))
    assert any("10.9.9.9 is outside every subnet range of network 'default'" in e
               for e in errors(doc, zone_type="advanced"))


# -- addresses handed to jobs ------------------------------------------------------------------------------------
def test_agent_mbus_must_reach_the_nats_ip(micro):
    doc = edited(micro, lambda d: group_props(d)["agent"].update(
        mbus=group_props(d)["agent"]["mbus"].replace("@10.0.0.6:", "@10.0.0.99:")))
    assert any("agent.mbus has 10.0.0.99, not an IP of bosh (10.0.0.6, 203.0.113.200)" in e
               for e in errors(doc, zone_type="advanced"))
    doc = edited(micro, lambda d: group_props(d)["agent"].update(mbus="nats://nats:pw@127.0.0.1:4222"))
    assert any("agent.mbus is 127.0.0.1" in e for e in errors(doc, zone_type="advanced"))


def test_loopback_of_either_ip_version_never_reaches_an_agent(micro):
    """::1 and 127.0.0.0/8 are the agent's own host: a loopback address, not a wrong IP of the nats group."""
    for host in ("[::1]", "127.0.0.2"):
        doc = edited(micro, lambda d: group_props(d)["agent"].update(mbus=f"nats://nats:pw@{host}:4222"))
        assert any(f"agent.mbus is {host.strip('[]')}, which is not where nats runs" in e
                   for e in errors(doc, zone_type="advanced")), host


def test_an_address_inside_a_static_ip_range_reaches_its_job(cf):
    """static_ips may be a range `a - b` (the director expands it): an address inside it is one of the job's IPs."""
    def edit(d):
        nats = next(j for j in d["jobs"] if j["name"] == "nats_z1")
        first = nats["networks"][0]["static_ips"][0]
        d["properties"]["nats"]["machines"] = [first]
        nats["networks"][0]["static_ips"] = [f"{first} - {first}"]
    assert not [e for e in errors(edited(cf, edit), zone_type="advanced") if "nats.machines" in e]


def test_nats_machines_must_be_the_nats_jobs_ips(cf):
    def edit(d):
        d["properties"]["nats"]["machines"] = ["10.0.0.250"]
    found = errors(edited(cf, edit), zone_type="advanced")
    assert any("nats.machines has 10.0.0.250, not an IP of nats_z1" in e for e in found), found


def test_director_dns_names_do_not_resolve(cf):
    """`<index>.<group>.<network>.<deployment>.<domain>`: no powerdns job, no published index names (262.3)."""
    net = cf["jobs"][0]["networks"][0]["name"]
    def edit(d):
        d["properties"]["nats"]["machines"] = [f"0.nats-z1.{net}.{d['name']}.microbosh"]
    found = errors(edited(cf, edit), zone_type="advanced")
    assert any("a director DNS name" in e and "never resolves" in e for e in found), found


# -- bosh CLI rules -----------------------------------------------------------------------------------------------
def test_http_release_url_without_sha1_is_refused_like_bosh_cli(micro):
    doc = edited(micro, lambda d: d["releases"][0].pop("sha1"))
    assert d_url(doc).startswith("https://")
    assert any("releases[0].sha1 must be provided for http URL" in e for e in errors(doc, zone_type="advanced"))


def test_http_stemcell_url_without_sha1_is_refused_like_bosh_cli(micro):
    doc = edited(micro, lambda d: d["resource_pools"][0].update(stemcell={"url": "https://example.com/s.tgz"}))
    assert any("resource_pools[0].stemcell.sha1 must be provided for http URL" in e
               for e in errors(doc, zone_type="advanced"))
    doc = edited(micro, lambda d: d["resource_pools"][0].update(stemcell={"url": "file://s.tgz"}))
    assert errors(doc, zone_type="advanced") == []


def d_url(doc):
    return doc["releases"][0]["url"]


# -- every director manifest the project renders passes -------------------------------------------------------------
@pytest.mark.parametrize("zone, kind, variables", [
    ("advanced", "micro", {}),
    ("basic", "micro", {"director_address": "192.0.2.50"}),
    ("advanced", "bosh", {"full_bosh_address": "10.0.0.7"}),
    ("basic", "bosh", {"full_bosh_address": "192.0.2.51"}),
])
def test_director_manifests_pass_with_no_error_and_no_warning(write_config, store, credentials_env, zone, kind, variables):
    def edit(d):
        d.setdefault("director", {})["uuid"] = UUID
        if zone == "advanced":
            stemcell_file(d)
    config = load_config(write_config(zone, edit=edit))
    rendered = render(kind, config, store=store, variables=variables)
    assert rendered.warnings == []
    assert validate(rendered.manifest, zone_type=zone) == []


def test_full_bosh_address_on_a_manual_network_becomes_the_static_ip(write_config, store, credentials_env):
    config = load_config(write_config("advanced", edit=lambda d: d["director"].update(uuid=UUID)))
    m = render("bosh", config, store=store, variables={"full_bosh_address": "10.0.0.7"}).manifest
    job = m["jobs"][0]
    assert job["networks"][0]["static_ips"] == ["10.0.0.7"]
    assert job["properties"]["nats"]["address"] == "10.0.0.7"
    assert job["properties"]["agent"]["mbus"].endswith("@10.0.0.7:4222")
    with pytest.raises(ManifestError, match="10.0.0.200 is outside|not in network 'default''s static ranges"):
        render("bosh", config, store=store, variables={"full_bosh_address": "10.0.0.200"})


def test_director_agent_settings_reach_the_cpi(write_config, store, credentials_env):
    """agent.mbus with the nats user/password (the 262.3 nats job requires authorization) and agent.blobstore:
    properties the cloudstack_cpi job declares, so they reach every VM's agent settings."""
    config = load_config(write_config("advanced", edit=stemcell_file))
    props = render("micro", config, store=store).manifest["instance_groups"][0]["properties"]
    password = props["nats"]["password"]
    assert props["agent"]["mbus"] == f"nats://nats:{password}@10.0.0.6:4222"
    assert props["agent"]["blobstore"] == {"provider": "dav", "options": {
        "endpoint": "http://10.0.0.6:25250", "user": "agent", "password": props["blobstore"]["agent"]["password"]}}


def test_unsupported_bosh_version_is_refused(write_config, store, credentials_env):
    config = load_config(write_config("advanced", edit=lambda d: d["releases"]["bosh"].update(version="280.1.6")))
    with pytest.raises(ConfigError, match=r"releases.bosh.version: bosh 280.1.6 is not supported.*262.3"):
        render("micro", config, store=store)


def test_missing_uuid_hint_names_the_v2_cli(write_config, store, credentials_env):
    config = load_config(write_config("advanced"))
    with pytest.raises(VariablesError) as err:
        render("bosh", config, store=store, variables={"full_bosh_address": "10.0.0.7"})
    assert "bosh -e <env> env" in str(err.value) and "status" not in str(err.value)


def test_example_stemcell_url_carries_its_published_sha1(write_config, store, credentials_env):
    """The advanced example names a published stemcell with its published sha1, so create-env takes the URL;
    without the sha1 create-env would refuse it, and so does check."""
    stemcell = render("micro", load_config(write_config("advanced")), store=store).manifest["resource_pools"][0]["stemcell"]
    assert stemcell == {"url": "https://orange-candidate-cloudstack-xen-stemcell.s3.amazonaws.com/bosh-stemcell/"
                               "cloudstack/bosh-stemcell-3262.3-cloudstack-xen-ubuntu-trusty-go_agent.tgz",
                        "sha1": "cf6f6925d133d0b579d154694025c027bc64ef88"}
    with pytest.raises(ManifestError, match=r"resource_pools\[0\].stemcell.sha1 must be provided for http URL"):
        render("micro", load_config(write_config("advanced", edit=lambda d: d["stemcell"].pop("sha1"))), store=store)
