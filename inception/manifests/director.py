"""BOSH director manifests: `micro` (bosh create-env) and `bosh` (a full BOSH deployed by Micro BOSH).

Both run the same jobs on one VM (nats, postgres, blobstore, director, health_monitor and this project's
`cloudstack_cpi`), following bosh-deployment's bosh.yml property layout; secrets are ((variables))
defined in the manifest's `variables:` section and generated into the vars store.
"""
from __future__ import annotations

from typing import Any

from inception.config.loader import ConfigError, Problem, ProjectConfig
from inception.manifests.common import (
    AGENT_CACHE,
    CPI_JOB,
    CPI_RELEASE,
    bosh_network,
    cpi_properties,
    release_entry,
    stemcell_ref,
    stemcell_source,
    vm_cloud_properties,
    vm_offering,
)
from inception.manifests.jobspecs import known_versions

PUBLIC_NETWORK = "public"


def _address(ip: str | None, var: str) -> str:
    """The director's reachable address: its static IP, or a variable when the network is dynamic."""
    return ip if ip else f"(({var}))"


def _variables(address: str, public_ip: str | None) -> list[dict[str, Any]]:
    names = [address, *([public_ip] if public_ip else [])]
    passwords = ["admin_password", "blobstore_director_password", "blobstore_agent_password", "hm_password",
                 "mbus_bootstrap_password", "nats_password", "postgres_password"]
    certs = [
        ("default_ca", {"common_name": "ca", "is_ca": True}),
        ("mbus_bootstrap_ssl", {"ca": "default_ca", "common_name": address, "alternative_names": names}),
        ("director_ssl", {"ca": "default_ca", "common_name": address, "alternative_names": names}),
    ]
    return ([{"name": n, "type": "password"} for n in passwords]
            + [{"name": n, "type": "certificate", "options": o} for n, o in certs])


def _director_properties(config: ProjectConfig, name: str, address: str) -> dict[str, Any]:
    """Properties of the bosh 262.3 jobs (nats, postgres-9.4, blobstore, director, health_monitor) and the CPI.

    262.3 has no TLS for nats or the blobstore (nats.tls first appears in v262.8.0/v264.1): agents reach nats with
    user/password in `agent.mbus`, and the blobstore over http with the agent's user/password in
    `agent.blobstore`, both read by the CPI job, which hands them to every VM's agent settings."""
    ntp = list(config.director["ntp"])
    db = {"user": "postgres", "password": "((postgres_password))", "database": "bosh"}
    return {
        "agent": {
            "mbus": f"nats://nats:((nats_password))@{address}:4222",
            "ntp": ntp,
            "blobstore": {"provider": "dav", "options": {"endpoint": f"http://{address}:25250", "user": "agent",
                                                         "password": "((blobstore_agent_password))"}},
        },
        "nats": {"address": address, "user": "nats", "password": "((nats_password))"},
        "postgres": {"listen_address": "127.0.0.1", **db},  # the postgres-9.4 job's properties
        "blobstore": {
            "address": address, "port": 25250, "provider": "dav",
            "director": {"user": "director", "password": "((blobstore_director_password))"},
            "agent": {"user": "agent", "password": "((blobstore_agent_password))"},
        },
        "director": {
            "address": "127.0.0.1", "name": name, "db": {**db, "host": "127.0.0.1", "adapter": "postgres"}, "cpi_job": CPI_JOB, "workers": 4,
            "enable_dedicated_status_worker": True, "enable_post_deploy": True, "generate_vm_passwords": True,
            "flush_arp": True, "local_dns": {"enabled": True},
            "ssl": {"cert": "((director_ssl.certificate))", "key": "((director_ssl.private_key))"},
            "user_management": {"provider": "local", "local": {"users": [
                {"name": "admin", "password": "((admin_password))"}, {"name": "hm", "password": "((hm_password))"}]}},
        },
        "hm": {"director_account": {"user": "hm", "password": "((hm_password))", "ca_cert": "((director_ssl.ca))"},
               "resurrector_enabled": True},
        "ntp": ntp,
        "cloudstack": cpi_properties(config),
    }


def _jobs(config: ProjectConfig) -> list[dict[str, str]]:
    jobs = [{"name": "bpm", "release": "bpm"}] if (config.get("releases") or {}).get("bpm") else []
    jobs += [{"name": j, "release": "bosh"} for j in ("nats", "postgres-9.4", "blobstore", "director", "health_monitor")]
    return jobs + [{"name": CPI_JOB, "release": CPI_RELEASE}]


def _instance_networks(config: ProjectConfig, ip: str | None, public_ip: str | None,
                       address: str) -> tuple[list, list]:
    """(manifest networks, instance networks) for the director VM. On a manual network the VM gets `address` as
    its static IP even when that is a ((variable)) (e.g. -v full_bosh_address=<IP>): nats, the blobstore and
    agent.mbus point at it, so the VM must really hold it."""
    net = config.director_network
    networks = [bosh_network(config, net, [ip] if ip else [])]
    mine: dict[str, Any] = {"name": net["name"]}
    if ip or config.network_type(net) == "manual":
        mine["static_ips"] = [address]
    instance = [mine]
    if public_ip:
        networks.append({"name": PUBLIC_NETWORK, "type": "vip", "cloud_properties": {}})
        mine["default"] = ["dns", "gateway"]
        instance.append({"name": PUBLIC_NETWORK, "static_ips": [public_ip]})
    return networks, instance


def _supported_bosh(config: ProjectConfig) -> None:
    """The director manifests bind the jobs and properties of the bosh versions whose specs the project keeps
    (postgres-9.4, nats without TLS...): any other version would get a manifest its release refuses."""
    version = str(((config.get("releases") or {}).get("bosh") or {}).get("version", ""))
    supported = known_versions("bosh")
    if version not in supported:
        raise ConfigError(config.source, [Problem(
            "releases.bosh.version", f"bosh {version or '(none)'} is not supported: the director manifests are "
            f"written for bosh {', '.join(supported)} (docs/manifests.md, Support matrix)",
            f"set releases.bosh to version {supported[-1]} with its url and sha1")])


def _releases(config: ProjectConfig, need_source: bool) -> list[dict[str, Any]]:
    _supported_bosh(config)
    releases = [release_entry(config, "bosh", "bosh", need_source=need_source)]
    if (config.get("releases") or {}).get("bpm"):
        releases.append(release_entry(config, "bpm", "bpm", need_source=need_source))
    releases.append(release_entry(config, "cpi", CPI_RELEASE, need_source=need_source))
    return releases


def micro_manifest(config: ProjectConfig) -> dict[str, Any]:
    """The `bosh create-env` manifest for Micro BOSH."""
    ip = config.director.get("ip")
    public_ip = config.director.get("public_ip")
    address = _address(ip, "director_address")
    name = config.director_name
    offering = vm_offering(config, "director")
    networks, instance_networks = _instance_networks(config, ip, public_ip, address)
    disk_pool: dict[str, Any] = {"name": "disks", "disk_size": offering["disk_size"], "cloud_properties": {}}
    if offering.get("disk_offering"):
        disk_pool["cloud_properties"]["disk_offering"] = offering["disk_offering"]
    ntp = list(config.director["ntp"])
    properties = _director_properties(config, name, address)
    return {
        "name": name,
        "releases": _releases(config, need_source=True),
        "resource_pools": [{
            "name": "vms", "network": config.director_network["name"], "stemcell": stemcell_source(config),
            "cloud_properties": vm_cloud_properties(offering),
            "env": {"bosh": {"password": "*", "mbus": {"cert": "((mbus_bootstrap_ssl))"}, "ntp": ntp,
                             "blobstores": [{"provider": "local", "options": {"blobstore_path": AGENT_CACHE}}]}},
        }],
        "disk_pools": [disk_pool],
        "networks": networks,
        "instance_groups": [{
            "name": "bosh", "instances": 1, "jobs": _jobs(config), "resource_pool": "vms",
            "persistent_disk_pool": "disks", "networks": instance_networks, "properties": properties,
        }],
        "cloud_provider": {
            "template": {"name": CPI_JOB, "release": CPI_RELEASE},
            "mbus": f"https://mbus:((mbus_bootstrap_password))@{address}:6868",
            "cert": "((mbus_bootstrap_ssl))",
            "properties": {
                "cloudstack": cpi_properties(config),
                "agent": {"mbus": "https://mbus:((mbus_bootstrap_password))@0.0.0.0:6868", "ntp": ntp,
                          "blobstore": {"provider": "local", "options": {"blobstore_path": AGENT_CACHE}}},
            },
        },
        "variables": _variables(address, public_ip),
    }


def full_bosh_manifest(config: ProjectConfig) -> dict[str, Any]:
    """A BOSH v1 deployment of a full BOSH director, deployed by Micro BOSH (director_uuid from -v or config)."""
    full = config.get("full_bosh") or {}
    ip, public_ip = full.get("ip"), full.get("public_ip")
    address = _address(ip, "full_bosh_address")
    name = full.get("name") or f"{config.name}-full-bosh"
    offering = vm_offering(config, "director")
    networks, instance_networks = _instance_networks(config, ip, public_ip, address)
    compilation_offering = (config.get("offerings") or {}).get("compilation") or offering
    job: dict[str, Any] = {
        "name": "bosh", "instances": 1, "resource_pool": "director", "persistent_disk": offering["disk_size"],
        "templates": _jobs(config), "networks": instance_networks,
        "properties": _director_properties(config, name, address),
    }
    return {
        "name": name,
        "director_uuid": "((director_uuid))",
        "releases": _releases(config, need_source=False),
        "compilation": {"workers": 2, "network": config.director_network["name"], "reuse_compilation_vms": True,
                        "cloud_properties": vm_cloud_properties(compilation_offering)},
        "update": {"canaries": 1, "max_in_flight": 1, "canary_watch_time": "30000-600000",
                   "update_watch_time": "30000-600000", "serial": True},
        "networks": networks,
        "resource_pools": [{"name": "director", "network": config.director_network["name"], "size": 1,
                            "stemcell": stemcell_ref(config), "cloud_properties": vm_cloud_properties(offering)}],
        "jobs": [job],
        "variables": _variables(address, public_ip),
    }
