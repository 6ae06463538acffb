"""Pieces every manifest kind shares: release and stemcell entries, CPI properties, networks, addresses."""
from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

from inception.config.loader import ConfigError, Problem, ProjectConfig, parse_range
from inception.config.stemcell import stemcell_identity

CPI_RELEASE = "bosh-cloudstack-cpi"
CPI_JOB = "cloudstack_cpi"
AGENT_CACHE = "/var/vcap/micro_bosh/data/cache"


def artifact_url(spec: dict[str, Any]) -> str | None:
    """`url` as given, or `file` as a file:// URL (relative paths stay relative to the manifest)."""
    if spec.get("url"):
        return spec["url"]
    if spec.get("file"):
        return f"file://{spec['file']}"
    return None


def release_entry(config: ProjectConfig, key: str, name: str, *, need_source: bool) -> dict[str, Any]:
    """A `releases:` item; create-env needs a url (or file), a director deployment only name/version."""
    spec = (config.get("releases") or {}).get(key) or {}
    entry: dict[str, Any] = {"name": name, "version": str(spec.get("version", "latest"))}
    url = artifact_url(spec)
    if need_source and not url:
        raise ConfigError(config.source, [Problem(f"releases.{key}.url", f"missing: the {name} release has no url or file",
                                                  f"set releases.{key}.url (or .file) and releases.{key}.version", True)])
    if need_source:
        entry["url"] = url
        if spec.get("sha1"):
            entry["sha1"] = spec["sha1"]
    return entry


def stemcell_source(config: ProjectConfig) -> dict[str, Any]:
    spec = config.get("stemcell") or {}
    url = artifact_url(spec)
    if not url:
        raise ConfigError(config.source, [Problem("stemcell.url", "missing: create-env needs the stemcell tarball",
                                                  "set stemcell.url (+ sha1) or stemcell.file", True)])
    return {"url": url, **({"sha1": spec["sha1"]} if spec.get("sha1") else {})}


def stemcell_ref(config: ProjectConfig) -> dict[str, Any]:
    """The stemcell a director deployment names; refused when nothing says which it is (a made-up name would
    only fail later, in `bosh deploy`, as a stemcell the director does not have)."""
    found = stemcell_identity(config)
    if found is None:
        given = (config.get("stemcell") or {}).get("file") or (config.get("stemcell") or {}).get("url") or "none"
        raise ConfigError(config.source, [Problem(
            "stemcell.name", f"cannot tell which stemcell {given} is (no stemcell.MF read, not a name "
            "bosh-linux-stemcell-builder or bosh.io gives)",
            "set stemcell.name and stemcell.version as its stemcell.MF says", True)])
    return {"name": found[0], "version": found[1]}


def vm_cloud_properties(offering: dict[str, Any]) -> dict[str, Any]:
    """Offering config -> the CPI's VM cloud_properties (Go-CPI / bosh-deployment names)."""
    props: dict[str, Any] = {"compute_offering": offering["compute"]}
    if offering.get("ephemeral_disk_offering"):
        props["ephemeral_disk_offering"] = offering["ephemeral_disk_offering"]
    if offering.get("ephemeral_disk_size"):
        props["disk"] = offering["ephemeral_disk_size"]
    if offering.get("root_disk_size"):
        props["root_disk_size"] = offering["root_disk_size"]
    return props


def vm_offering(config: ProjectConfig, *path: str) -> dict[str, Any]:
    node: Any = config.get("offerings") or {}
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    if not isinstance(node, dict):
        dotted = ".".join(("offerings", *path))
        raise ConfigError(config.source, [Problem(dotted, "missing", f"set {dotted}: {{compute: <compute offering name>}}", True)])
    return node


def cpi_properties(config: ProjectConfig) -> dict[str, Any]:
    """The CPI's global `cloudstack` block (community CPI names); credentials stay ((variables))."""
    cs = config.cloudstack
    props: dict[str, Any] = {
        "endpoint": "((cloudstack_endpoint))",
        "api_key": "((cloudstack_api_key))",
        "secret_access_key": "((cloudstack_secret_access_key))",
        "default_zone": cs["zone"],
        "default_key_name": config.key_name,
        "state_timeout": cs["state_timeout"],
        "state_timeout_volume": cs["state_timeout_volume"],
        "stemcell_public_visibility": cs["stemcell_public_visibility"],
    }
    groups = config.director_network.get("security_groups")
    if groups and config.security_groups_enabled:
        props["default_security_groups"] = list(groups)
    upload = (config.get("inception") or {}).get("upload_mode")
    if upload:
        props["stemcell_upload"] = upload
    if cs.get("ca_cert"):
        props["ca_cert"] = Path(cs["ca_cert"]).read_text() if Path(cs["ca_cert"]).is_file() else cs["ca_cert"]
    if cs.get("verify") is False:
        props["skip_verify_ssl"] = True
    return props


def network_cloud_properties(config: ProjectConfig, net: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    if net.get("cloudstack_network"):
        props["name"] = net["cloudstack_network"]
    if net.get("security_groups"):
        props["security_groups"] = list(net["security_groups"])
    return props


def static_pool(config: ProjectConfig, net: dict[str, Any], exclude: list[str]) -> list[str]:
    """Every address of `net`'s static ranges, in order, minus `exclude`."""
    taken = set(exclude)
    pool = []
    for text in net.get("static", []):
        start, end = parse_range(text)
        for n in range(int(start), int(end) + 1):
            ip = str(ipaddress.IPv4Address(n))
            if ip not in taken:
                pool.append(ip)
    return pool


def subtract_ranges(ranges: list[str], exclude: list[str]) -> list[str]:
    """Static/reserved range strings with the `exclude` addresses cut out (single IPs stay single)."""
    out: list[str] = []
    for text in ranges:
        start, end = (int(ip) for ip in parse_range(text))
        cuts = sorted(int(ipaddress.IPv4Address(ip)) for ip in exclude)
        for cut in [c for c in cuts if start <= c <= end] + [end + 1]:
            if start <= cut - 1:
                first, last = ipaddress.IPv4Address(start), ipaddress.IPv4Address(cut - 1)
                out.append(str(first) if first == last else f"{first}-{last}")
            start = cut + 1
    return out


def manual_subnet(config: ProjectConfig, net: dict[str, Any], static: list[str],
                  reserve: list[str] | None = None) -> dict[str, Any]:
    """A manual subnet: `static` lists the IPs this manifest uses as static IPs (added to the static
    ranges when outside them); `reserve` lists addresses owned by other deployments (e.g. the director),
    cut out of the static ranges and reserved."""
    reserve = [ip for ip in reserve or [] if ip not in static]
    ranges = subtract_ranges(list(net.get("static", [])), reserve)
    for ip in static:
        if not any(parse_range(r)[0] <= ipaddress.IPv4Address(ip) <= parse_range(r)[1] for r in ranges):
            ranges.append(ip)
    subnet: dict[str, Any] = {"range": net["cidr"], "gateway": net["gateway"], "dns": list(net["dns"])}
    reserved = [*net.get("reserved", []), *reserve]
    if reserved:
        subnet["reserved"] = reserved
    if ranges:
        subnet["static"] = ranges
    subnet["cloud_properties"] = network_cloud_properties(config, net)
    return subnet


def foreign_ips(config: ProjectConfig, net: dict[str, Any]) -> list[str]:
    """Static IPs on `net` that belong to the directors (Micro BOSH, full BOSH), not to a deployment."""
    if net is not config.director_network:
        return []
    return [ip for ip in (config.director.get("ip"), (config.get("full_bosh") or {}).get("ip")) if ip]


def bosh_network(config: ProjectConfig, net: dict[str, Any], static: list[str]) -> dict[str, Any]:
    if config.network_type(net) == "manual":
        return {"name": net["name"], "type": "manual",
                "subnets": [manual_subnet(config, net, static, foreign_ips(config, net))]}
    return {"name": net["name"], "type": "dynamic", "dns": list(net["dns"]),
            "cloud_properties": network_cloud_properties(config, net)}
