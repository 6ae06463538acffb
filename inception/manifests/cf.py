"""cf-release V2 deployment manifests (BOSH v1 schema) for cf-release v161 to v180 on CloudStack.

One availability zone (`*_z1` jobs), the topology of cf-release's cf-minimal-dev plus the CloudStack CPI
README: NFS blobstore, postgres, one of each component. The job set follows the version:
- the worker/clock split (cloud_controller_worker, cloud_controller_clock) and etcd_metrics_server;
- v177+: metron_agent colocated, `{name, release}` template lists, metron_endpoint/dropsonde properties;
- up to v170 the cloud controller reads `ccng`/`ccdb_ng`, later `cc`/`ccdb` (both written up to v170).
Fixed addresses (nats, etcd, postgres, nfs, loggregator, traffic controller, router) are static IPs on a
manual network: the bosh 262.3 director runs no powerdns and publishes no index names, so a DNS name
handed to a job never resolves. What is refused, and why, is the support matrix of docs/manifests.md.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from inception.config.loader import ConfigError, Problem, ProjectConfig
from inception.config.stemcell import stemcell_os
from inception.manifests.common import (
    bosh_network,
    foreign_ips,
    static_pool,
    stemcell_ref,
    vm_cloud_properties,
    vm_offering,
)
from inception.manifests.jobspecs import load_release

METRON_VERSION = 177
LEGACY_CC_MAX = 170
POOLS = ("small", "medium", "large", "runner", "router")
VIP_NETWORK = "floating"
ZONE = "z1"


@dataclass
class JobSpec:
    name: str
    templates: list[str]
    pool: str
    instances: int = 1
    persistent_disk: int = 0
    fixed: bool = False  # other jobs are handed its address: it gets a static IP
    properties: dict[str, Any] | None = None


# Stemcell lines cf-release v160-v180 was built for: warden runs containers on the lucid64 rootfs and
# debian_nfs_server unpacks Ubuntu 10.04 .debs. precise and trusty need the Ubuntu 12.04 patch (render.py).
CF_STEMCELL_LINES = ("ubuntu-lucid", "ubuntu-precise", "ubuntu-trusty")


def cf_version(config: ProjectConfig) -> int:
    raw = config.require("releases.cf.version", "to render the cf manifest (161 to 180; 175 is checked)")
    return int(str(raw).lstrip("v"))


def refuse_unbound_jobs(config: ProjectConfig, version: int, jobs: list[JobSpec]) -> None:
    """Refuse a version whose kept job specs (releases/cf/<version>.yml) say a job we deploy gets no properties
    from the bosh 262.3 director although its templates read some: v160's debian_nfs_server and postgres."""
    release = load_release("cf", str(version))
    names = sorted({t for job in jobs for t in job.templates if release and t in release.jobs and release.jobs[t].unbound})
    if names:
        raise ConfigError(config.source, [Problem(
            "releases.cf.version", f"cf-release v{version} cannot be deployed by the bosh 262.3 director: the specs "
            f"of {' and '.join(names)} declare no properties, so it binds none to them, and their templates read "
            "some (2014 directors handed such jobs every global property)",
            "set releases.cf.version: 175; the support matrix in docs/manifests.md says why")])


def check_stemcell_line(config: ProjectConfig, version: int) -> None:
    """Refuse a stemcell line cf-release v160-v180 jobs were not built for (jammy and the like)."""
    os_name = stemcell_os(config)
    if os_name and os_name.startswith("ubuntu-") and os_name not in CF_STEMCELL_LINES:
        raise ConfigError(config.source, [Problem(
            "stemcell", f"cf-release v{version} does not run on a {os_name} stemcell: its jobs are built for "
            "Ubuntu 10.04-14.04 stemcells (warden containers on the lucid64 rootfs, debian_nfs_server installs "
            "Ubuntu 10.04 packages)", "use an ubuntu-lucid, ubuntu-precise or ubuntu-trusty stemcell and say so in stemcell.os")])


def job_specs(version: int, dea_instances: int, routers: int) -> list[JobSpec]:
    metron = ["metron_agent"] if version >= METRON_VERSION else []
    jobs = [
        JobSpec("nats_z1", ["nats", "nats_stream_forwarder"], "medium", fixed=True),
        JobSpec("etcd_z1", ["etcd", "etcd_metrics_server"], "medium", persistent_disk=10024, fixed=True),
        JobSpec("nfs_z1", ["debian_nfs_server"], "medium", persistent_disk=102400, fixed=True),
        JobSpec("postgres_z1", ["postgres"], "medium", persistent_disk=4096, fixed=True,
                properties={"db": "databases"}),
        JobSpec("uaa_z1", ["uaa"], "medium"),
        JobSpec("login_z1", ["login"], "medium"),
        JobSpec("api_z1", ["cloud_controller_ng"] + metron, "large"),
        JobSpec("clock_global", ["cloud_controller_clock"] + metron, "medium"),
        JobSpec("api_worker_z1", ["cloud_controller_worker"] + metron, "small"),
        JobSpec("hm9000_z1", ["hm9000"], "medium"),
        JobSpec("runner_z1", ["dea_next", "dea_logging_agent"] + metron, "runner", instances=dea_instances),
        JobSpec("loggregator_z1", ["loggregator"], "medium", fixed=True),
        JobSpec("loggregator_trafficcontroller_z1", ["loggregator_trafficcontroller"] + metron, "small", fixed=True),
        JobSpec("router_z1", ["gorouter"] + metron, "router", instances=routers, fixed=True),
    ]
    return jobs


class Addresses:
    """The static IPs of the fixed-address jobs, handed out from the network's static ranges in job order."""

    def __init__(self, config: ProjectConfig, net: dict[str, Any], jobs: list[JobSpec]):
        index = config.networks.index(net)
        if config.network_type(net) != "manual":
            raise ConfigError(config.source, [Problem(
                f"networks[{index}].type", f"cf needs static IPs for nats, etcd, nfs, postgres and loggregator, and "
                f"network {net['name']!r} is dynamic (the bosh 262.3 director publishes no DNS names for them)",
                "set type: manual with cidr, gateway, dns and static ranges (in a basic zone: the shared guest "
                "network's range), or point cf.network at such a network")])
        pool = static_pool(config, net, foreign_ips(config, net))
        needed = sum(j.instances for j in jobs if j.fixed)
        if len(pool) < needed:
            raise ConfigError(config.source, [Problem(
                f"networks[{index}].static", f"{needed} static IPs needed for cf's fixed-address jobs, {len(pool)} free",
                "widen the static ranges")])
        self.static: dict[str, list[str]] = {}
        for job in jobs:
            if job.fixed:
                self.static[job.name], pool = pool[: job.instances], pool[job.instances:]

    def of(self, job: str) -> list[str]:
        return self.static[job]

    def first(self, job: str) -> str:
        return self.static[job][0]


SECURITY_GROUPS = [
    {"name": "public_networks", "rules": [{"protocol": "all", "destination": d} for d in (
        "0.0.0.0-9.255.255.255", "11.0.0.0-169.253.255.255", "169.255.0.0-172.15.255.255",
        "172.32.0.0-192.167.255.255", "192.169.0.0-255.255.255.255")]},
    {"name": "dns", "rules": [{"protocol": p, "destination": "0.0.0.0/0", "ports": "53"} for p in ("tcp", "udp")]},
]


def _properties(config: ProjectConfig, version: int, addr: Addresses, net_name: str, deployment: str) -> dict[str, Any]:
    cf = config["cf"]
    domain = cf["system_domain"]
    app_domains = list(cf.get("app_domains") or [domain])
    nats_machines = addr.of("nats_z1")
    db_address = addr.first("postgres_z1")
    nfs_network = next(n for n in config.networks if n["name"] == net_name)["cidr"]
    ccadmin = {"tag": "admin", "name": "ccadmin", "password": "((ccdb_password))"}
    uaaadmin = {"tag": "admin", "name": "uaaadmin", "password": "((uaadb_password))"}
    ccdb = {"db_scheme": "postgres", "address": db_address, "port": 5524, "roles": [ccadmin],
            "databases": [{"tag": "cc", "name": "ccdb", "citext": True}]}
    buildpacks = [{"name": f"{lang}_buildpack", "package": f"buildpack_{lang}"} for lang in ("java", "ruby", "nodejs", "go")]
    cc = {
        "srv_api_uri": f"https://api.{domain}",
        "external_host": "api",
        "bulk_api_password": "((cc_bulk_api_password))",
        "db_encryption_key": "((cc_db_encryption_key))",
        "staging_upload_user": "staging_upload_user",
        "staging_upload_password": "((cc_staging_upload_password))",
        "quota_definitions": {"default": {"memory_limit": 10240, "total_services": 100, "total_routes": 1000,
                                          "non_basic_services_allowed": True, "trial_db_allowed": True}},
        "default_quota_definition": "default",
        "install_buildpacks": buildpacks,
        "default_fog_connection": {"provider": "Local", "local_root": "/var/vcap/nfs/shared"},
        "resource_pool": {"resource_directory_key": f"{deployment}-cc-resources"},
        "packages": {"app_package_directory_key": f"{deployment}-cc-packages"},
        "droplets": {"droplet_directory_key": f"{deployment}-cc-droplets"},
        "buildpacks": {"buildpack_directory_key": f"{deployment}-cc-buildpacks"},
        "jobs": {"global": {"timeout_in_seconds": 14400}},
        # Read with p() and no default by v175's cloud_controller_ng, _clock and _worker (releases/cf/175.yml);
        # versions before application security groups drop them unread. cf-release's own default
        # (templates/cf-properties.yml, meta.default_security_group_definitions): apps
        # reach every public network and DNS, not the private ranges where the CloudStack guest networks and
        # this deployment's VMs live.
        "security_group_definitions": copy.deepcopy(SECURITY_GROUPS),
        "default_running_security_groups": [g["name"] for g in SECURITY_GROUPS],
        "default_staging_security_groups": [g["name"] for g in SECURITY_GROUPS],
    }
    clients = {name: {"secret": f"((uaa_{name.replace('-', '_')}_secret))"}
               for name in ("app-direct", "developer_console", "notifications", "servicesmgmt", "space-mail",
                            "support-services", "cc_service_broker_client")}
    clients["login"] = {"secret": "((uaa_login_client_secret))", "authorized-grant-types": "authorization_code,client_credentials,refresh_token",
                        "scope": "openid,oauth.approvals", "authorities": "oauth.login"}
    clients["cf"] = {"id": "cf", "override": True, "authorized-grant-types": "implicit,password,refresh_token",
                     "scope": "cloud_controller.read,cloud_controller.write,openid,password.write,cloud_controller.admin,scim.read,scim.write",
                     "authorities": "uaa.none", "access-token-validity": 600, "refresh-token-validity": 2592000}
    props: dict[str, Any] = {
        "domain": domain,
        "system_domain": domain,
        "system_domain_organization": cf["organization"],
        "app_domains": app_domains,
        "description": "Cloud Foundry on CloudStack",
        "support_address": f"http://support.{domain}",
        "networks": {"apps": net_name, "management": net_name},
        "ssl": {"skip_cert_verify": True},
        "disk_quota_enabled": True,
        "cc_api_version": "v2",
        "nats": {"user": "nats", "password": "((nats_password))", "port": 4222, "address": nats_machines[0],
                 "machines": nats_machines},
        "etcd": {"machines": addr.of("etcd_z1")},
        "databases": {"db_scheme": "postgres", "address": db_address, "port": 5524, "roles": [ccadmin, uaaadmin],
                      "databases": [{"tag": "cc", "name": "ccdb", "citext": True}, {"tag": "uaa", "name": "uaadb", "citext": True}]},
        "ccdb": ccdb,
        "uaadb": {"db_scheme": "postgresql", "address": db_address, "port": 5524, "roles": [uaaadmin],
                  "databases": [{"tag": "uaa", "name": "uaadb", "citext": True}]},
        "cc": cc,
        "uaa": {
            "url": f"https://uaa.{domain}",
            "catalina_opts": "-Xmx768m -XX:MaxPermSize=256m",
            "spring_profiles": "postgresql",
            "no_ssl": True,
            "jwt": {"signing_key": "((uaa_jwt_signing_key.private_key))",
                    "verification_key": "((uaa_jwt_signing_key.public_key))"},
            "cc": {"client_secret": "((uaa_cc_client_secret))", "token_secret": "((uaa_cc_token_secret))"},
            "admin": {"client_secret": "((uaa_admin_client_secret))"},
            "batch": {"username": "batch", "password": "((uaa_batch_password))"},
            "login": {"client_secret": "((uaa_login_client_secret))"},
            "scim": {"users": ["admin|((uaa_scim_admin_password))|scim.write,scim.read,openid,cloud_controller.admin"]},
            "clients": clients,
        },
        "login": {"enabled": True, "protocol": "https", "url": f"https://login.{domain}",
                  "catalina_opts": "-Xmx384m -XX:MaxPermSize=128m",
                  "links": {"home": f"https://console.{domain}", "passwd": f"https://console.{domain}/password_resets/new",
                            "signup": f"https://console.{domain}/register"}},
        "router": {"port": 8081, "status": {"port": 8080, "user": "router_status", "password": "((router_status_password))"}},
        "dea_next": {"memory_mb": cf["dea"]["memory_mb"], "disk_mb": cf["dea"]["disk_mb"],
                     "directory_server_protocol": "http", "deny_networks": [], "allow_networks": [], "stacks": ["lucid64"]},
        "loggregator": {"servers": {ZONE: addr.of("loggregator_z1")}, "blacklisted_syslog_ranges": []},
        "loggregator_endpoint": {"host": addr.first("loggregator_trafficcontroller_z1"), "port": 4443,
                                 "shared_secret": "((loggregator_shared_secret))"},
        "traffic_controller": {"zone": ZONE},
        "nfs_server": {"address": addr.first("nfs_z1"), "network": nfs_network,
                       "idmapd_domain": domain, "nfsv4": False, "pipefs_directory": "/var/lib/nfs/rpc_pipefs"},
        "debian_nfs_server": {"no_root_squash": True},
    }
    props["etcd_metrics_server"] = {"nats": {"machines": nats_machines, "username": "nats", "password": "((nats_password))"}}
    if version <= LEGACY_CC_MAX:
        props["ccng"] = copy.deepcopy(cc)
        props["ccdb_ng"] = copy.deepcopy(ccdb)
    if version >= METRON_VERSION:
        props["metron_endpoint"] = {"shared_secret": "((metron_shared_secret))"}
        props["metron_agent"] = {"zone": ZONE}
        props["dropsonde"] = {"enabled": True}
    return props


def _variables(version: int) -> list[dict[str, Any]]:
    passwords = ["nats_password", "router_status_password", "loggregator_shared_secret", "cc_bulk_api_password",
                 "cc_db_encryption_key", "cc_staging_upload_password", "ccdb_password", "uaadb_password",
                 "uaa_admin_client_secret", "uaa_batch_password", "uaa_cc_client_secret", "uaa_cc_token_secret",
                 "uaa_scim_admin_password", "uaa_login_client_secret", "uaa_cc_service_broker_client_secret",
                 "uaa_app_direct_secret", "uaa_developer_console_secret", "uaa_notifications_secret",
                 "uaa_servicesmgmt_secret", "uaa_space_mail_secret", "uaa_support_services_secret"]
    if version >= METRON_VERSION:
        passwords.append("metron_shared_secret")
    return [{"name": n, "type": "password"} for n in passwords] + [{"name": "uaa_jwt_signing_key", "type": "rsa"}]


def cf_manifest(config: ProjectConfig) -> dict[str, Any]:
    cf = config.get("cf")
    if not cf:
        raise ConfigError(config.source, [Problem("cf", "missing: the cf section is needed to render cf",
                                                  "add cf: {system_domain: <domain>}", True)])
    version = cf_version(config)
    check_stemcell_line(config, version)
    deployment = cf["deployment"]
    net = config.cf_network
    public_ips = list(cf.get("router_public_ips") or [])
    jobs = job_specs(version, cf["dea"]["instances"], max(1, len(public_ips)))
    refuse_unbound_jobs(config, version, jobs)
    addr = Addresses(config, net, jobs)
    offerings = {name: vm_offering(config, "vm_types", name) for name in POOLS}
    compilation = (config.get("offerings") or {}).get("compilation") or offerings["large"]
    new_templates = version >= METRON_VERSION
    rendered_jobs = []
    for job in jobs:
        networks: list[dict[str, Any]] = [{"name": net["name"], "default": ["dns", "gateway"]}]
        if job.name in addr.static:
            networks[0]["static_ips"] = addr.static[job.name]
        if job.name == "router_z1" and public_ips:
            networks.append({"name": VIP_NETWORK, "static_ips": public_ips})
        item: dict[str, Any] = {"name": job.name}
        if new_templates:
            item["templates"] = [{"name": t, "release": "cf"} for t in job.templates]
        else:
            item["template"] = list(job.templates)
        item.update({"instances": job.instances, "resource_pool": f"{job.pool}", "persistent_disk": job.persistent_disk,
                     "networks": networks})
        if job.properties:
            item["properties"] = copy.deepcopy(job.properties)
        rendered_jobs.append(item)
    sizes = {pool: sum(j.instances for j in jobs if j.pool == pool) for pool in POOLS}
    static = [ip for ips in addr.static.values() for ip in ips]
    networks = [bosh_network(config, net, static)]
    if public_ips:
        networks.append({"name": VIP_NETWORK, "type": "vip", "cloud_properties": {}})
    stemcell = stemcell_ref(config)     # one look at the tarball's stemcell.MF, a copy per pool (no YAML aliases)
    return {
        "name": deployment,
        "director_uuid": "((director_uuid))",
        "releases": [{"name": "cf", "version": str(version)}],
        "compilation": {"workers": 4, "network": net["name"], "reuse_compilation_vms": True,
                        "cloud_properties": vm_cloud_properties(compilation)},
        "update": {"canaries": 1, "max_in_flight": 1, "canary_watch_time": "30000-600000",
                   "update_watch_time": "5000-600000", "serial": True},
        "networks": networks,
        "resource_pools": [{"name": pool, "network": net["name"], "size": sizes[pool], "stemcell": dict(stemcell),
                            "cloud_properties": vm_cloud_properties(offerings[pool])} for pool in POOLS],
        "jobs": rendered_jobs,
        "properties": _properties(config, version, addr, net["name"], deployment),
        "variables": _variables(version),
    }
