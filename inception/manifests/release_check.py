"""Check a manifest against the job specs of the release versions it names (data in jobspecs.py).

What the BOSH director does with a job (bosh `DeploymentPlan::Job#bind_properties`): for each property the job
spec declares it takes the value from the job-level `properties` when the job has them, else from the instance
group's `properties` deep-merged over the global `properties`, else the spec default; everything else is dropped
without a word. Templates then fail to render on `p("x")` when x is unset and has no default. So:

- a job that is not in the release version -> error (the director refuses the deployment);
- a property a template reads with `p()`, no default anywhere -> error (template rendering fails);
- a property no job of its instance group declares (global: no job of the manifest) -> warning (silently dropped);
- an address handed to a job (nats.machines, etcd.machines, agent.mbus...) that is not an IP of the instance
  group serving it -> error (the job would talk to nothing);
- create-env: an http(s) release or stemcell URL without sha1 -> error, as bosh-cli does
  (cloudfoundry/bosh-cli release/set/manifest/validator.go, deployment/manifest/validator.go).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from inception.manifests.addresses import is_loopback, parse_ip, static_ips
from inception.manifests.findings import Violation
from inception.manifests.jobspecs import NO_DEFAULT, JobSpec, ReleaseSpec, has_specs, known_versions, load_release


@dataclass(frozen=True)
class Reference:
    """A property whose value is the address of the instances running one of `serving` jobs."""
    prop: str
    serving: frozenset[str]
    url: bool = False  # the value is a URL; its host is the address
    remote: bool = False  # handed to other VMs (agents): a loopback address never works
    zone_map: bool = False  # {zone: [IPs]} (cf-release loggregator.servers)


REFERENCES = (
    Reference("nats.machines", frozenset({"nats"})),
    Reference("nats.address", frozenset({"nats"})),
    Reference("etcd_metrics_server.nats.machines", frozenset({"nats"})),  # cf-release etcd_metrics_server
    Reference("etcd.machines", frozenset({"etcd"})),
    Reference("etcd_ips", frozenset({"etcd"})),
    Reference("blobstore.address", frozenset({"blobstore"})),
    Reference("databases.address", frozenset({"postgres", "postgres-9.4"})),
    Reference("ccdb.address", frozenset({"postgres", "postgres-9.4"})),
    Reference("ccdb_ng.address", frozenset({"postgres", "postgres-9.4"})),
    Reference("uaadb.address", frozenset({"postgres", "postgres-9.4"})),
    Reference("nfs_server.address", frozenset({"debian_nfs_server"})),
    Reference("syslog_aggregator.address", frozenset({"syslog_aggregator"})),
    Reference("loggregator.servers", frozenset({"loggregator"}), zone_map=True),
    Reference("agent.mbus", frozenset({"nats"}), url=True, remote=True),
    Reference("agent.blobstore.options.endpoint", frozenset({"blobstore"}), url=True, remote=True),
)


@dataclass
class Job:
    name: str
    release: str | None
    properties: dict[str, Any] | None  # job-level properties (None: the group's apply)
    spec: JobSpec | None = None


@dataclass
class Group:
    name: str
    subject: str
    jobs: list[Job]
    properties: dict[str, Any]
    ips: list[str] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        """Every job's spec is fully known (only then can a property be called undeclared)."""
        return all(job.spec is not None and job.spec.complete for job in self.jobs)


def get(props: Any, dotted: str) -> tuple[bool, Any]:
    """(found, value) of a dotted property; a null value counts as not set, as for `p()`."""
    node = props
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return node is not None, node


def merge(base: Any, over: Any) -> Any:
    """The director's deep merge: hashes merge key by key, anything else in `over` wins."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            out[key] = merge(base.get(key), value)
        return out
    return over


def leaves(props: Any, prefix: str = "") -> list[str]:
    """Dotted paths of every set value (a hash's keys are walked; an empty hash or any other value is a leaf)."""
    if isinstance(props, dict) and props:
        out: list[str] = []
        for key, value in props.items():
            out += leaves(value, f"{prefix}{key}.")
        return out
    return [prefix[:-1]] if prefix else []


def undeclared_node(path: str, declared: set[str]) -> str | None:
    """The shallowest part of `path` no declared property covers (None: declared, or a parent of one)."""
    parts = path.split(".")
    for n in range(1, len(parts) + 1):
        node = ".".join(parts[:n])
        if node in declared:
            return None
        if not any(d.startswith(node + ".") for d in declared):
            return node
    return None


def _is_variable(value: Any) -> bool:
    return isinstance(value, str) and "((" in value


def _host(value: Any, url: bool) -> str | None:
    if not isinstance(value, str) or _is_variable(value):
        return None
    if url:
        try:
            return urlsplit(value).hostname
        except ValueError:
            return None
    return value


class ReleaseChecker:
    def __init__(self, doc: dict[str, Any]):
        self.doc = doc
        self.out: list[Violation] = []
        self.versions = self._release_versions()
        self.specs: dict[str, ReleaseSpec | None] = {}

    def add(self, subject: str, rule: str, detail: str, warning: bool = False) -> None:
        self.out.append(Violation(subject, rule, detail, warning))

    def _release_versions(self) -> dict[str, str]:
        releases = self.doc.get("releases") or ([self.doc["release"]] if isinstance(self.doc.get("release"), dict) else [])
        return {str(r["name"]): str(r.get("version", "")) for r in releases if isinstance(r, dict) and r.get("name")}

    def release(self, name: str) -> ReleaseSpec | None:
        if name not in self.specs:
            version = self.versions.get(name, "")
            spec = load_release(name, version) if version else None
            self.specs[name] = spec
            if spec is None and has_specs(name):
                self.add(f"release {name!r}", "manifests check knows the job specs of supported release versions",
                         f"version {version or '(none)'} has no job specs here, its jobs are not checked "
                         f"(known versions: {', '.join(known_versions(name))})", warning=True)
        return self.specs[name]

    # -- the manifest's instance groups, whatever its shape ------------------------------------------------
    def groups(self) -> list[Group]:
        only = next(iter(self.versions)) if len(self.versions) == 1 else None
        v2 = "instance_groups" in self.doc
        out = []
        for n, raw in enumerate(self.doc.get("instance_groups") or self.doc.get("jobs") or []):
            if not isinstance(raw, dict):
                continue
            name = str(raw.get("name", n))
            subject = f"instance group {name!r}" if v2 else f"job {name!r}"
            items = raw.get("jobs") if v2 else raw.get("templates", raw.get("template"))
            items = items if isinstance(items, list) else [items] if items else []
            jobs = []
            for item in items:
                if isinstance(item, dict):
                    props = item.get("properties")
                    jobs.append(Job(str(item.get("name")), item.get("release", only),
                                    props if isinstance(props, dict) else None))
                elif isinstance(item, str):
                    jobs.append(Job(item, only, None))
            ips = [ip for net in raw.get("networks") or [] if isinstance(net, dict)
                   for entry in net.get("static_ips") or [] for ip in static_ips(entry) or []]
            out.append(Group(name, subject, jobs, raw.get("properties") or {}, ips))
        return out

    def director_dns_name(self, host: str) -> bool:
        """`<index>.<instance-group>.<network>.<deployment>.<domain>` for a group, network and the deployment of
        this manifest: the names a BOSH director with powerdns would publish."""
        labels = host.lower().split(".")
        if len(labels) < 5:
            return False
        groups = {str(g.get("name", "")).replace("_", "-").lower()
                  for g in self.doc.get("instance_groups") or self.doc.get("jobs") or [] if isinstance(g, dict)}
        nets = {str(n.get("name", "")).replace("_", "-").lower() for n in self.doc.get("networks") or []
                if isinstance(n, dict)}
        deployment = str(self.doc.get("name", "")).replace("_", "-").lower()
        return labels[1] in groups and labels[2] in nets and labels[3] == deployment

    # -- the checks -------------------------------------------------------------------------------------
    def run(self) -> list[Violation]:
        self.urls()
        groups = self.groups()
        global_props = self.doc.get("properties") or {}
        for group in groups:
            for job in group.jobs:
                self.bind(group, job)
        for group in groups:
            group_props = merge(global_props, group.properties)
            for job in group.jobs:
                if job.spec is not None:
                    self.required(group, job, group_props if job.properties is None else job.properties)
        self.undeclared(groups, global_props)
        self.references(groups, global_props)
        return self.out

    def urls(self) -> None:
        """bosh-cli create-env: `strings.HasPrefix(url, "http") && isBlank(sha1)` is an error."""
        if "cloud_provider" not in self.doc:
            return
        for n, rel in enumerate(self.doc.get("releases") or []):
            if isinstance(rel, dict) and str(rel.get("url") or "").startswith("http") and not str(rel.get("sha1") or "").strip():
                self.add(f"releases[{n}] ({rel.get('name')})", "bosh-cli release/set/manifest/validator.go",
                         f"releases[{n}].sha1 must be provided for http URL: add the sha1 published with "
                         f"{rel['url']} (or download it and use a file:// URL)")
        for n, pool in enumerate(self.doc.get("resource_pools") or []):
            stemcell = pool.get("stemcell") if isinstance(pool, dict) else None
            if isinstance(stemcell, dict) and str(stemcell.get("url") or "").startswith("http") \
                    and not str(stemcell.get("sha1") or "").strip():
                self.add(f"resource pool {pool.get('name')!r}", "bosh-cli deployment/manifest/validator.go",
                         f"resource_pools[{n}].stemcell.sha1 must be provided for http URL: add the stemcell's "
                         f"published sha1 (or download it and use a file:// URL)")

    def bind(self, group: Group, job: Job) -> None:
        if job.release is None:
            return
        rel = self.release(job.release)
        if rel is None:
            return
        job.spec = rel.jobs.get(job.name)
        if job.spec is None:
            self.add(f"{group.subject} job {job.name!r}", f"jobs exist in the release ({rel.origin})",
                     f"release {rel.name} {rel.version} has no job {job.name!r}: use one of {', '.join(sorted(rel.jobs))}")
        elif job.spec.unbound:
            self.add(f"{group.subject} job {job.name!r}", f"the director binds only properties a job spec declares "
                     f"({rel.origin} {job.spec.spec_path})",
                     f"its spec declares no properties, so the bosh 262.3 director binds none to it, and {job.spec.unbound}: "
                     f"it cannot render (directors of 2014 handed such a job every global property)")

    def required(self, group: Group, job: Job, props: dict[str, Any]) -> None:
        """Every property the job's templates read with p() and no default, the conditional ones when their
        condition holds for the bound value (or the spec default)."""
        spec = job.spec
        assert spec is not None
        wanted = [(prop, "") for prop in sorted(spec.required)]
        for condition in spec.conditions:
            found, value = get(props, condition.prop)
            value = value if found else spec.default(condition.prop)
            if condition.applies(None if value is NO_DEFAULT else value):
                wanted += [(prop, f" when {condition}") for prop in sorted(condition.required)]
        where = "the job's properties" if job.properties is not None else "the instance group or global properties"
        rel = self.specs[str(job.release)]
        for prop, when in wanted:
            if not get(props, prop)[0]:
                self.add(f"{group.subject} job {job.name!r}",
                         f"{rel.origin if rel else job.release} {spec.spec_path}: templates read p({prop!r}) "
                         f"with no default{when}", f"property {prop} is missing: set it in {where}")

    def undeclared(self, groups: list[Group], global_props: dict[str, Any]) -> None:
        everywhere: set[str] = set()
        all_checked = all(g.checked for g in groups)
        for group in groups:
            declared = {p for job in group.jobs if job.spec for p in job.spec.properties}
            everywhere |= declared
            for job in group.jobs:
                if job.spec is not None and job.properties is not None:
                    self._report_undeclared(f"{group.subject} job {job.name!r}", job.properties,
                                            set(job.spec.properties), f"job {job.name}")
            if group.checked:
                self._report_undeclared(group.subject, group.properties, declared, "job of this instance group")
        if all_checked and groups:
            self._report_undeclared("properties", global_props, everywhere, "job of the manifest")

    def _report_undeclared(self, subject: str, props: dict[str, Any], declared: set[str], who: str) -> None:
        seen: list[str] = []
        for path in leaves(props):
            node = undeclared_node(path, declared)
            if node and node not in seen:
                seen.append(node)
                self.add(subject, "the director binds only properties a job spec declares",
                         f"property {node} is declared by no {who}: the director drops it; remove it or "
                         f"use the property name the release version expects", warning=True)

    def references(self, groups: list[Group], global_props: dict[str, Any]) -> None:
        servers: dict[str, list[Group]] = {}
        for group in groups:
            for job in group.jobs:
                servers.setdefault(job.name, []).append(group)
        read: set[str] = set()
        for ref in REFERENCES:
            serving = [g for name in ref.serving for g in servers.get(name, [])]
            if not serving:
                continue  # served outside this manifest
            for group in groups:
                declared = {p for job in group.jobs if job.spec for p in job.spec.properties}
                if not group.checked or not any(ref.prop == d or ref.prop.startswith(d + ".") for d in declared):
                    continue  # no job of this group reads it (or its specs are unknown)
                read.add(ref.prop)
                found, value = get(merge(global_props, group.properties), ref.prop)
                if found:
                    self._reference(group.subject, group in serving, ref, value, serving)
            found, value = get(global_props, ref.prop)
            if found and ref.prop not in read:  # read by jobs whose specs are unknown: check the value once
                self._reference("properties", True, ref, value, serving)

    def _reference(self, subject: str, serves: bool, ref: Reference, value: Any, serving: list[Group]) -> None:
        if ref.zone_map:
            values = [v for vs in (value.values() if isinstance(value, dict) else []) for v in (vs or [])]
        else:
            values = value if isinstance(value, list) else [value]
        allowed = {ip for g in serving for ip in g.ips}
        names = ", ".join(sorted({f"{g.name}" for g in serving}))
        jobs = "/".join(sorted(ref.serving))
        for item in values:
            host = _host(item, ref.url)
            if host is None:
                continue
            if is_loopback(host):
                if ref.remote or not serves:
                    self.add(subject, f"{ref.prop} reaches the {jobs} job",
                             f"{ref.prop} is {host}, which is not where {jobs} runs for the VMs using it: "
                             f"use the static IP of {names}")
                continue
            address = parse_ip(host)
            if address is None:
                if self.director_dns_name(host):
                    self.add(subject, f"{ref.prop} reaches the {jobs} job",
                             f"{ref.prop} names {host!r}, a director DNS name: no powerdns job serves it and the "
                             f"director publishes no index names, so it never resolves; use the static IP of {names}")
                continue  # an operator's own DNS name: not ours to verify
            if not allowed:
                continue  # the serving instances have no static IP (dynamic network): nothing to compare
            if address not in {parse_ip(ip) for ip in allowed}:
                self.add(subject, f"{ref.prop} reaches the {jobs} job",
                         f"{ref.prop} has {host}, not an IP of {names} ({', '.join(sorted(allowed))}): "
                         f"use those static IPs")


def release_findings(doc: dict[str, Any]) -> list[Violation]:
    """Errors and warnings of `doc` against the job specs of its releases."""
    return ReleaseChecker(doc).run()
