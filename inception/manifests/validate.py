"""Manifest validation: BOSH v1 director rules, bosh-cli create-env rules, cloud-config rules, the
completeness checklist for cf-release manifests, and the job specs of the releases a manifest names
(release_check.py); docs/manifests.md lists every rule.

`validate(doc, zone_type=None, stemcell_os=None)` returns Violations, errors and warnings; `check(...)` raises
ManifestError when there is an error and returns the warnings. A Violation names its subject
(`job 'router_z1'`), the rule and what is wrong.
"""
from __future__ import annotations

import ipaddress
import re
from collections import Counter
from typing import Any

from cryptography.hazmat.primitives import serialization

from inception.config.loader import parse_range
from inception.config.stemcell import RUN_PIPEFS_OS
from inception.manifests.addresses import parse_ip, static_ips
from inception.manifests.findings import Violation
from inception.manifests.release_check import get, merge, release_findings
from inception.manifests.shape import shape_problems

SAMPLE_SECRETS = {"c1oudc0w", "admin", "password", "changeme"}
SECRET_KEYS = re.compile(r"(password|secret|_key|token)$")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

# cf-release (release `cf`) job template -> properties it needs (cloudfoundry/cf-release jobs/*/spec at v170, properties without defaults)
NATS = ["nats.user", "nats.password", "nats.port", "nats.machines", "nats.address"]
REQUIRED_PROPERTIES: dict[str, list[str]] = {
    "nats": ["nats.user", "nats.password", "nats.port", "nats.address"],
    "nats_stream_forwarder": NATS,
    "etcd": ["etcd.machines"],
    "etcd_metrics_server": ["etcd_metrics_server.nats.machines", "etcd_metrics_server.nats.username",
                            "etcd_metrics_server.nats.password", "etcd.machines"],
    "postgres": ["databases.db_scheme", "databases.address", "databases.port", "databases.roles", "databases.databases"],
    "cloud_controller_ng": ["domain", "system_domain", "system_domain_organization", "app_domains", "networks.apps",
                            "cc.bulk_api_password", "cc.db_encryption_key", "cc.staging_upload_user",
                            "cc.staging_upload_password", "cc.srv_api_uri", "cc.quota_definitions",
                            "cc.default_quota_definition", "cc.install_buildpacks", "ccdb.address", "ccdb.port",
                            "ccdb.roles", "ccdb.databases", "ccdb.db_scheme", "uaa.url", "uaa.cc.token_secret",
                            "login.url", "loggregator_endpoint.host", "loggregator_endpoint.shared_secret",
                            "uaa.clients.cc_service_broker_client.secret", "nfs_server.address",
                            "nfs_server.pipefs_directory", *NATS],
    "cloud_controller_worker": ["cc.db_encryption_key", "cc.srv_api_uri", "ccdb.address", "ccdb.roles",
                                "nfs_server.address", "nfs_server.pipefs_directory", *NATS],
    "cloud_controller_clock": ["cc.db_encryption_key", "cc.srv_api_uri", "ccdb.address", "ccdb.roles", *NATS],
    "uaa": ["uaa.url", "uaa.jwt.signing_key", "uaa.jwt.verification_key", "uaa.cc.client_secret",
            "uaa.admin.client_secret", "uaa.batch.username", "uaa.batch.password", "uaa.scim.users", "uaa.clients",
            "uaa.spring_profiles", "uaa.catalina_opts", "uaadb.db_scheme", "uaadb.address", "uaadb.port",
            "uaadb.roles", "uaadb.databases", *NATS],
    "login": ["login.catalina_opts", "login.url", "login.links", "login.protocol", "uaa.clients.login.secret",
              "uaa.login.client_secret", *NATS],
    "gorouter": ["router.status.user", "router.status.password", "router.status.port", "router.port",
                 "loggregator_endpoint.shared_secret", *NATS],
    "haproxy": ["ha_proxy.ssl_pem", "router.servers"],
    "dea_next": ["dea_next.memory_mb", "dea_next.disk_mb", "dea_next.deny_networks", "dea_next.allow_networks",
                 "dea_next.directory_server_protocol", "dea_next.stacks", "loggregator_endpoint.shared_secret",
                 "domain", "networks.apps", *NATS],
    "dea_logging_agent": ["loggregator_endpoint.shared_secret", *NATS],
    "hm9000": ["cc.srv_api_uri", "cc.bulk_api_password", "etcd.machines", *NATS],
    "loggregator": ["loggregator.servers", "loggregator_endpoint.shared_secret", "etcd.machines",
                    "loggregator.blacklisted_syslog_ranges", *NATS],
    "loggregator_trafficcontroller": ["traffic_controller.zone", "loggregator.servers", "system_domain",
                                      "cc.srv_api_uri", "loggregator_endpoint.shared_secret", *NATS],
    "metron_agent": ["metron_endpoint.shared_secret", "metron_agent.zone", "etcd.machines", *NATS],
    "debian_nfs_server": ["nfs_server.network", "nfs_server.idmapd_domain", "nfs_server.pipefs_directory"],
    "syslog_aggregator": ["syslog_aggregator.port", "domain"],
}
LEGACY_CC = {"cc.": "ccng.", "ccdb.": "ccdb_ng."}
LEGACY_NAMES = {"etcd.machines": "etcd_ips"}  # cf-release v160's hm9000 and loggregator (releases/cf/160.yml)


class ManifestError(Exception):
    def __init__(self, source: str, violations: list[Violation]):
        self.source = source
        self.violations = violations
        lines = [f"{source}: {len(violations)} problem{'s' if len(violations) != 1 else ''}:", *map(str, violations)]
        super().__init__("\n  ".join(lines))


def manifest_kind(doc: Any) -> str:
    """'create-env', 'deployment-v1', 'deployment-v2' or 'cloud-config'."""
    if not isinstance(doc, dict):
        return "unknown"
    if "cloud_provider" in doc:
        return "create-env"
    if "jobs" in doc or "resource_pools" in doc:
        return "deployment-v1"
    if "instance_groups" in doc:
        return "deployment-v2"
    if "vm_types" in doc or "azs" in doc:
        return "cloud-config"
    return "unknown"


class _Checker:
    def __init__(self, doc: dict[str, Any], zone_type: str | None, stemcell_os: str | None):
        self.doc = doc
        self.zone_type = zone_type
        self.stemcell_os = stemcell_os
        self.out: list[Violation] = []
        self.ip_owner: dict[tuple[str, str], str] = {}  # (network, static IP) -> the job holding it

    def add(self, subject: str, rule: str, detail: str) -> None:
        self.out.append(Violation(subject, rule, detail))

    # -- shared -----------------------------------------------------------------------------------
    def networks(self) -> dict[str, dict[str, Any]]:
        nets = self.doc.get("networks")
        if not isinstance(nets, list) or not nets:
            self.add("manifest", "networks are required", "no networks defined")
            return {}
        found: dict[str, dict[str, Any]] = {}
        for n, net in enumerate(nets):
            if not isinstance(net, dict) or not net.get("name"):
                self.add(f"networks[{n}]", "every network has a name", "name missing")
                continue
            if net["name"] in found:
                self.add(f"network {net['name']!r}", "network names are unique", "defined twice")
            kind = net.get("type", "manual")
            if kind not in ("manual", "dynamic", "vip"):
                self.add(f"network {net['name']!r}", "network type is manual, dynamic or vip", f"type {kind!r}")
            if kind == "vip" and self.zone_type == "basic":
                self.add(f"network {net['name']!r}", "no vip network in a basic zone",
                         "basic zones have no public IPs to bind")
            if kind == "vip" and set(net.get("cloud_properties") or {}) & {"name", "network_name"}:
                self.add(f"network {net['name']!r}", "a vip network carries no guest network name",
                         "remove cloud_properties name/network_name")
            if kind == "manual":
                self.subnets(net)
            found[net["name"]] = net
        return found

    def subnets(self, net: dict[str, Any]) -> None:
        subject = f"network {net['name']!r}"
        subnets = net.get("subnets")
        if not isinstance(subnets, list) or not subnets:
            self.add(subject, "a manual network has subnets", "no subnets")
            return
        for subnet in subnets:
            try:
                cidr = ipaddress.IPv4Network(str(subnet.get("range")))
            except ValueError:
                self.add(subject, "a manual subnet has a range (CIDR)", f"range {subnet.get('range')!r}")
                continue
            gateway = parse_ip(subnet.get("gateway"), 4)
            if gateway is None or gateway not in cidr:
                self.add(subject, "a manual subnet's gateway is inside its range", f"gateway {subnet.get('gateway')!r}")
            for field in ("static", "reserved"):
                for text in subnet.get(field) or []:
                    try:
                        first, last = parse_range(str(text))
                    except ValueError:
                        self.add(subject, f"{field} entries are IPs or ranges", f"{text!r}")
                        continue
                    if first not in cidr or last not in cidr:
                        self.add(subject, f"{field} addresses are inside the subnet range", f"{text} outside {cidr}")

    def in_subnet(self, net: dict[str, Any], ip: str) -> bool:
        for subnet in net.get("subnets") or []:
            try:
                if ipaddress.IPv4Address(ip) in ipaddress.IPv4Network(str(subnet.get("range"))):
                    return True
            except ValueError:
                continue
        return False

    def static_in_range(self, net: dict[str, Any], ip: str) -> bool:
        for subnet in net.get("subnets") or []:
            for text in subnet.get("static") or []:
                try:
                    first, last = parse_range(str(text))
                except ValueError:
                    continue
                if first <= ipaddress.IPv4Address(ip) <= last:
                    return True
        return False

    def job_networks(self, subject: str, job: dict[str, Any], nets: dict[str, dict[str, Any]], instances: int) -> None:
        job_nets = job.get("networks")
        if not isinstance(job_nets, list) or not job_nets:
            self.add(subject, "every job has at least one network", "no networks")
            return
        vips = 0
        for jn in job_nets:
            name = jn.get("name") if isinstance(jn, dict) else None
            if name not in nets:
                self.add(subject, "job networks exist", f"network {name!r} is not defined")
                continue
            kind = nets[name].get("type", "manual")
            ips: list[str] = []
            for entry in jn.get("static_ips") or []:
                expanded = static_ips(entry)
                if expanded is None:
                    self.add(subject, "static IPs are valid IP addresses or ranges", f"{entry!r} on network {name!r}")
                else:
                    ips += expanded
            defaults = jn.get("default") or []
            if not set(defaults) <= {"dns", "gateway"}:
                self.add(subject, "default is a subset of [dns, gateway]", f"network {name!r} default {defaults}")
            if ips and kind == "dynamic":
                self.add(subject, "static IPs only on manual or vip networks",
                         f"network {name!r} is dynamic (did not match magic DYNAMIC IP)")
            if ips and len(ips) != instances:
                self.add(subject, "static IP count equals instances",
                         f"{len(ips)} static IPs on network {name!r} for {instances} instance(s)")
            if kind == "vip":
                vips += 1
                if not ips:
                    self.add(subject, "a vip network needs static IPs", f"no static_ips on network {name!r}")
                if defaults:
                    self.add(subject, "a vip network is never the default network", f"network {name!r} has default {defaults}")
            for ip in ips:
                owner = self.ip_owner.setdefault((name, ip), subject)
                if owner != subject:
                    self.add(subject, "a static IP belongs to one instance (director: IP already reserved)",
                             f"{ip} on network {name!r} is also a static IP of {owner}: give each job its own IPs")
            if kind == "manual":
                for ip in ips:   # IPv4 strings: static_ips expands them with parse_range
                    if not self.in_subnet(nets[name], ip):
                        self.add(subject, "static IPs are inside a subnet range of the network",
                                 f"{ip} is outside every subnet range of network {name!r}: use an IP of its static range")
                    elif not self.static_in_range(nets[name], ip):
                        self.add(subject, "static IPs are in the network's static ranges",
                                 f"{ip} is not in network {name!r}'s static ranges: add it to static or use one there")
        if vips > 1:
            self.add(subject, "at most one vip network per VM (CloudStack static NAT)", f"{vips} vip networks")
        if len(job_nets) > 1:
            for item in ("dns", "gateway"):
                holders = [jn.get("name") for jn in job_nets if isinstance(jn, dict) and item in (jn.get("default") or [])]
                if len(holders) != 1:
                    self.add(subject, "with several networks exactly one is default for dns and for gateway",
                             f"{len(holders)} networks hold default {item}")

    def releases(self) -> set[str]:
        releases = self.doc.get("releases")
        if "release" in self.doc and releases is not None:
            self.add("manifest", "release xor releases", "both release and releases are set")
        if "release" in self.doc:
            releases = [self.doc["release"]]
        if not isinstance(releases, list) or not releases:
            self.add("manifest", "releases are required", "no releases")
            return set()
        names = set()
        for n, rel in enumerate(releases):
            if not isinstance(rel, dict) or not rel.get("name") or "version" not in rel:
                self.add(f"releases[{n}]", "a release has a name and a version", repr(rel))
                continue
            names.add(rel["name"])
        return names

    def secrets(self, node: Any, path: str = "") -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                self.secrets(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                self.secrets(item, f"{path}[{i}]")
        elif isinstance(node, str):
            leaf = path.rsplit(".", 1)[-1]
            if (node in SAMPLE_SECRETS and SECRET_KEYS.search(leaf)) or "c1oudc0w" in node:
                self.add(f"property {path}", "no well-known sample secrets", f"value {node!r} is a published default")

    # -- v1 deployments (cf, full bosh) ---------------------------------------------------------
    def deployment_v1(self) -> None:
        doc = self.doc
        for key in ("name", "compilation", "update", "resource_pools"):
            if not doc.get(key):
                self.add("manifest", f"{key} is required", f"{key} missing")
        if "director_uuid" in doc and not UUID.match(str(doc["director_uuid"])):
            self.add("manifest", "director_uuid is a UUID", f"{doc['director_uuid']!r}")
        releases = self.releases()
        nets = self.networks()
        comp = doc.get("compilation") or {}
        if isinstance(comp, dict) and doc.get("compilation"):
            if comp.get("network") not in nets:
                self.add("compilation", "compilation has a network that exists", f"network {comp.get('network')!r}")
            if not isinstance(comp.get("cloud_properties"), dict):
                self.add("compilation", "compilation has cloud_properties", "cloud_properties missing")
        pools: dict[str, dict[str, Any]] = {}
        for n, pool in enumerate(doc.get("resource_pools") or []):
            subject = f"resource pool {pool.get('name', n)!r}"
            if not pool.get("name"):
                self.add(subject, "a resource pool has a name", "name missing")
                continue
            stemcell = pool.get("stemcell") or {}
            if not (stemcell.get("name") and "version" in stemcell):
                self.add(subject, "a resource pool has stemcell name and version", f"stemcell {stemcell!r}")
            if pool.get("network") not in nets:
                self.add(subject, "a resource pool's network exists", f"network {pool.get('network')!r}")
            if not isinstance(pool.get("cloud_properties"), dict):
                self.add(subject, "a resource pool has cloud_properties (a hash)", "cloud_properties missing")
            pools[pool["name"]] = pool
        used: Counter[str] = Counter()
        props = doc.get("properties") or {}
        job_names: set[str] = set()
        for n, job in enumerate(doc.get("jobs") or []):
            subject = f"job {job.get('name', n)!r}"
            if job.get("name") in job_names:
                self.add(subject, "job names are unique", "defined twice")
            job_names.add(job.get("name"))
            has_t, has_ts = "template" in job, "templates" in job
            if has_t == has_ts:
                self.add(subject, "template xor templates", "both set" if has_t else "neither template nor templates")
            templates = self.template_names(subject, job, releases)
            cf_templates = [t for t, rel in zip(templates, self.template_releases(job)) if rel == "cf"]
            instances = job.get("instances")
            if not isinstance(instances, int) or isinstance(instances, bool) or instances < 0:
                self.add(subject, "instances is an integer >= 0", f"instances {instances!r}")
                instances = 0
            if job.get("resource_pool") not in pools:
                self.add(subject, "a job's resource pool exists", f"resource pool {job.get('resource_pool')!r}")
            else:
                used[job["resource_pool"]] += instances
            if not isinstance(job.get("persistent_disk", 0), int) or job.get("persistent_disk", 0) < 0:
                self.add(subject, "persistent_disk >= 0", f"persistent_disk {job.get('persistent_disk')!r}")
            self.job_networks(subject, job, nets, instances)
            if instances:
                self.job_properties(subject, cf_templates, merge(props, job.get("properties") or {}))
        for name, pool in pools.items():
            size = pool.get("size")
            if isinstance(size, int) and size < used[name]:
                self.add(f"resource pool {name!r}", "size covers the instances of its jobs",
                         f"size {size} < {used[name]} instances (no more VMs to allocate)")
        if any(t == "cloud_controller_ng" for j in doc.get("jobs") or [] for t in self.template_names("", j, None)):
            self.cf_checklist(props, nets)
        self.secrets(props, "properties")

    def template_names(self, subject: str, job: dict[str, Any], releases: set[str] | None) -> list[str]:
        raw = job.get("templates", job.get("template"))
        items = raw if isinstance(raw, list) else [raw] if raw else []
        names = []
        for item in items:
            if isinstance(item, dict):
                names.append(item.get("name"))
                if releases is not None and item.get("release") and item["release"] not in releases:
                    self.add(subject, "a template's release is in releases", f"release {item['release']!r}")
            else:
                names.append(item)
        if releases is not None and len(names) != len(set(names)):
            self.add(subject, "template names are unique per job", f"templates {names}")
        return [n for n in names if isinstance(n, str)]

    def template_releases(self, job: dict[str, Any]) -> list[str | None]:
        """Release of each template: its own `release`, else the manifest's only release."""
        raw = job.get("templates", job.get("template"))
        items = raw if isinstance(raw, list) else [raw] if raw else []
        releases = self.doc.get("releases") or ([self.doc["release"]] if "release" in self.doc else [])
        only = releases[0].get("name") if len(releases) == 1 and isinstance(releases[0], dict) else None
        return [item.get("release", only) if isinstance(item, dict) else only for item in items]

    def job_properties(self, subject: str, templates: list[str], props: dict[str, Any]) -> None:
        for template in templates:
            for key in REQUIRED_PROPERTIES.get(template, []):
                found, _ = get(props, key)
                if not found and key.split(".")[0] + "." in LEGACY_CC:
                    prefix = key.split(".")[0] + "."
                    found, _ = get(props, LEGACY_CC[prefix] + key[len(prefix):])
                if not found and key in LEGACY_NAMES:
                    found, _ = get(props, LEGACY_NAMES[key])
                if not found:
                    self.add(subject, f"template {template} needs property {key}", f"property {key} is missing")

    def cf_checklist(self, props: dict[str, Any], nets: dict[str, dict[str, Any]]) -> None:
        found, apps = get(props, "networks.apps")
        if found and apps not in nets:
            self.add("properties.networks.apps", "networks.apps names a network of the manifest", f"{apps!r}")
        for key in ("nats.machines", "etcd.machines"):
            ok, value = get(props, key)
            if ok and not value:
                self.add(f"properties.{key}", f"{key} is not empty", "empty list")
        ok, servers = get(props, "loggregator.servers")
        if ok and (not isinstance(servers, dict) or not any(servers.values())):
            self.add("properties.loggregator.servers", "loggregator.servers is not empty", f"{servers!r}")
        ok, stacks = get(props, "dea_next.stacks")
        if ok and "lucid64" not in (stacks or []):
            self.add("properties.dea_next.stacks", "dea_next.stacks contains lucid64", f"{stacks!r}")
        ok_s, signing = get(props, "uaa.jwt.signing_key")
        ok_v, verification = get(props, "uaa.jwt.verification_key")
        if ok_s and ok_v and not _rsa_pair(signing, verification):
            self.add("properties.uaa.jwt", "uaa.jwt signing and verification keys form an RSA pair", "they do not match")
        if self.stemcell_os in RUN_PIPEFS_OS:
            nfs = any("debian_nfs_server" in self.template_names("", j, None) for j in self.doc.get("jobs") or [])
            ok, pipefs = get(props, "nfs_server.pipefs_directory")
            if nfs and pipefs != "/run/rpc_pipefs":
                self.add("properties.nfs_server.pipefs_directory",
                         "Ubuntu 12.04/14.04 stemcells keep rpc_pipefs at /run/rpc_pipefs (ops/ubuntu-precise.yml)",
                         f"is {pipefs!r}")

    # -- create-env ------------------------------------------------------------------------------
    def create_env(self) -> None:
        doc = self.doc
        if not str(doc.get("name") or "").strip():
            self.add("manifest", "name is not blank", "name missing")
        releases = self.releases()
        nets = self.networks()
        pools = {}
        for pool in doc.get("resource_pools") or []:
            subject = f"resource pool {pool.get('name')!r}"
            if pool.get("network") not in nets:
                self.add(subject, "a resource pool's network exists", f"network {pool.get('network')!r}")
            if not (pool.get("stemcell") or {}).get("url"):
                self.add(subject, "create-env needs the stemcell url", "stemcell.url missing")
            pools[pool.get("name")] = pool
        disk_pools = {}
        for pool in doc.get("disk_pools") or []:
            if not isinstance(pool.get("disk_size"), int) or pool["disk_size"] <= 0:
                self.add(f"disk pool {pool.get('name')!r}", "disk_size > 0", f"disk_size {pool.get('disk_size')!r}")
            disk_pools[pool.get("name")] = pool
        groups = doc.get("instance_groups") or doc.get("jobs") or []
        if len(groups) != 1:
            self.add("manifest", "create-env deploys exactly one instance group", f"{len(groups)} found")
        for group in groups:
            subject = f"instance group {group.get('name')!r}"
            instances = group.get("instances", 0)
            if not isinstance(instances, int) or instances < 0:
                self.add(subject, "instances >= 0", f"instances {instances!r}")
                instances = 0
            if group.get("resource_pool") not in pools:
                self.add(subject, "the resource pool exists", f"resource pool {group.get('resource_pool')!r}")
            if group.get("persistent_disk_pool") and group["persistent_disk_pool"] not in disk_pools:
                self.add(subject, "the disk pool exists", f"disk pool {group['persistent_disk_pool']!r}")
            if group.get("persistent_disk", 0) < 0:
                self.add(subject, "persistent_disk >= 0", f"{group.get('persistent_disk')!r}")
            jobs = group.get("jobs") or group.get("templates") or []
            names = [j.get("name") for j in jobs]
            if len(names) != len(set(names)):
                self.add(subject, "template names are unique per job", f"{names}")
            for j in jobs:
                if j.get("release") not in releases:
                    self.add(subject, "a template's release is in releases", f"release {j.get('release')!r} of {j.get('name')!r}")
            self.job_networks(subject, group, nets, instances)
        provider = doc.get("cloud_provider") or {}
        template = provider.get("template") or {}
        if template.get("release") not in releases:
            self.add("cloud_provider", "the CPI template's release is in releases", f"release {template.get('release')!r}")
        if not provider.get("mbus"):
            self.add("cloud_provider", "cloud_provider.mbus is set", "mbus missing")
        self.cpi_block("cloud_provider.properties.cloudstack", (provider.get("properties") or {}).get("cloudstack"), nets)
        self.secrets(doc)

    def cpi_block(self, subject: str, block: Any, nets: dict[str, dict[str, Any]]) -> None:
        if not isinstance(block, dict):
            self.add(subject, "the CPI needs its cloudstack properties", "missing")
            return
        for key in ("endpoint", "api_key", "secret_access_key", "default_key_name", "default_zone"):
            if not block.get(key):
                self.add(subject, f"cloudstack.{key} is set", f"{key} missing")
        if self.zone_type == "basic":
            for name, net in nets.items():
                cps = [net.get("cloud_properties") or {}] + [s.get("cloud_properties") or {} for s in net.get("subnets") or []]
                if any(("name" in cp or "network_name" in cp) for cp in cps):
                    self.add(f"network {name!r}", "a basic zone has no guest network to name",
                             "remove cloud_properties name/network_name")

    # -- cloud-config ------------------------------------------------------------------------------
    def cloud_config(self) -> None:
        doc = self.doc
        azs = {az.get("name") for az in doc.get("azs") or []}
        nets = self.networks()
        for section in ("vm_types", "disk_types", "vm_extensions"):
            names = [item.get("name") for item in doc.get(section) or []]
            if len(names) != len(set(names)):
                self.add(section, f"{section} names are unique", f"{names}")
        for item in doc.get("disk_types") or []:
            if not isinstance(item.get("disk_size"), int) or item["disk_size"] <= 0:
                self.add(f"disk type {item.get('name')!r}", "disk_size > 0", f"{item.get('disk_size')!r}")
        for name, net in nets.items():
            for subnet in net.get("subnets") or []:
                for az in subnet.get("azs") or ([subnet["az"]] if "az" in subnet else []):
                    if az not in azs:
                        self.add(f"network {name!r}", "subnet azs exist", f"az {az!r}")
        comp = doc.get("compilation")
        if not isinstance(comp, dict):
            self.add("compilation", "compilation is required", "missing")
        else:
            if comp.get("network") not in nets:
                self.add("compilation", "compilation has a network that exists", f"network {comp.get('network')!r}")
            if comp.get("az") and comp["az"] not in azs:
                self.add("compilation", "compilation az exists", f"az {comp['az']!r}")

    def deployment_v2(self) -> None:
        if not self.doc.get("name"):
            self.add("manifest", "name is required", "name missing")
        self.releases()
        self.secrets(self.doc)


def _rsa_pair(private_pem: Any, public_pem: Any) -> bool:
    try:
        key = serialization.load_pem_private_key(str(private_pem).encode(), password=None)
        public = serialization.load_pem_public_key(str(public_pem).encode())
    except (ValueError, TypeError):
        return False
    return key.public_key().public_numbers() == public.public_numbers()  # type: ignore[union-attr]


def validate(doc: Any, *, zone_type: str | None = None, stemcell_os: str | None = None) -> list[Violation]:
    """Every rule violation of `doc` (empty list: valid)."""
    kind = manifest_kind(doc)
    if kind == "unknown":
        return [Violation("manifest", "a BOSH manifest or cloud-config",
                          "not recognised (expected jobs/resource_pools, instance_groups, cloud_provider or vm_types)")]
    shape = shape_problems(doc)
    if shape:  # the rules below assume these types
        return [Violation(*problem) for problem in shape]
    checker = _Checker(doc, zone_type, stemcell_os)
    {"create-env": checker.create_env, "deployment-v1": checker.deployment_v1,
     "deployment-v2": checker.deployment_v2, "cloud-config": checker.cloud_config}[kind]()
    if kind != "cloud-config":
        checker.out += release_findings(doc)
    return checker.out


def check(doc: Any, source: str, **options: Any) -> list[Violation]:
    """Raise ManifestError when `validate` finds an error; return the warnings."""
    found = validate(doc, **options)
    errors = [v for v in found if not v.warning]
    if errors:
        raise ManifestError(source, errors)
    return [v for v in found if v.warning]
