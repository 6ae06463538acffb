"""Pre-flight: everything `up` can know is wrong before it changes anything, found at once.

`preflight(config, client)` looks up every name the config uses (zone, offerings of every kind, network
offering, template, keypair), checks every CIDR, address, range, key file, URL and checksum, what CloudStack
reports about capacity (the account's limits against what `up` creates, Free public addresses, static addresses
another VM holds, room in the networks' dynamic parts: see capacity.py), and that the releases and stemcell the
bootstrap needs are there. It calls only list APIs and returns a list of
`Problem(key, message, fix)` (empty: go). `plan`, `up` and the wizard all use it, so they agree.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from inception.cloud import capacity
from inception.cloud.capacity import Lister
from inception.cloud.choices import default_offering, default_template
from inception.cloud.director_address import place_director
from inception.config.loader import ConfigError, Problem, ProjectConfig, check_semantics
from inception.config.sshkey import key_kind
from inception.config.zone import apply_zone_info
from inception.state import State

__all__ = ["Problem", "preflight", "BOOTSTRAP_RELEASES"]

BOOTSTRAP_RELEASES = ("bosh",)       # besides the CPI (built here unless releases.cpi.file): what create-env needs
DEFAULT_NETWORK_OFFERING = "DefaultIsolatedNetworkOfferingWithSourceNatService"


def preflight(config: ProjectConfig, client: Lister, *, state: State | None = None, bootstrap: bool = True,
              remote: bool = True) -> list[Problem]:
    """Every problem that would stop `up`, each with its fix; calls no mutating API.

    `state`: the environment's state, when there is one (a zone switch under existing resources, a director
    address the running director holds). `bootstrap`: check what create-env needs too (not for
    `up --cloud-only`). `remote`: create-env runs on a real inception VM (artifacts by URL need checksums,
    the bosh CLI download must be configured); False on a simulator, where only the bundle is prepared."""
    problems: list[Problem] = list(check_semantics(config))
    problems += _local_files(config, bootstrap)
    if bootstrap:
        problems += _bootstrap(config, remote)
    problems += _against_cloud(config, client, state, bootstrap, remote)
    return list(dict.fromkeys(problems))     # the same problem found twice is said once


# -- local: files, URLs, what create-env needs --------------------------------------------------------------

def _base(config: ProjectConfig) -> Path:
    return Path(config.source).resolve().parent


def _local_files(config: ProjectConfig, bootstrap: bool) -> Iterator[Problem]:
    settings = config.get("inception") or {}
    if settings.get("public_key_file"):
        yield from _public_key(config, settings["public_key_file"])
    if not bootstrap:
        return
    specs = [("stemcell", config.get("stemcell") or {})]
    specs += [(f"releases.{name}", spec) for name, spec in (config.get("releases") or {}).items() if name != "cf"]
    for key, spec in specs:
        if spec.get("file"):
            path = (_base(config) / spec["file"]).expanduser()
            if not path.is_file():
                yield Problem(f"{key}.file", f"{path} does not exist", f"download it there, or set {key}.url "
                              "(with sha1) instead")
        if spec.get("url"):
            yield from _url(config, f"{key}.url", spec["url"])


def _public_key(config: ProjectConfig, name: str) -> Iterator[Problem]:
    key = "inception.public_key_file"
    path = (_base(config) / name).expanduser()
    try:
        text = path.read_bytes()
    except OSError as exc:
        yield Problem(key, f"cannot read {path}: {exc.strerror}", "point it at an OpenSSH public key (.pub)")
        return
    kind = key_kind(text)
    if kind != "public":
        hint = "it is a private key: point at its .pub" if kind == "private" else "it is not one"
        yield Problem(key, f"{path} is not an SSH public key ({hint})",
                      "point it at an OpenSSH public key such as ~/.ssh/id_ed25519.pub, or remove it to let "
                      "`up` generate a keypair")


def _url(config: ProjectConfig, key: str, text: str) -> Iterator[Problem]:
    parsed = urlparse(text)
    if parsed.scheme == "file":
        if not Path(parsed.path).is_file():
            yield Problem(key, f"{parsed.path} does not exist", "point the file:// URL at an existing file")
    elif not parsed.hostname or " " in text:
        yield Problem(key, f"{text!r} is not a usable URL (no host)", "write https://host/path")


def _bootstrap(config: ProjectConfig, remote: bool) -> Iterator[Problem]:
    """What rendering the Micro BOSH manifest and create-env need from the config."""
    director = (config.get("offerings") or {}).get("director") or {}
    if not director.get("compute"):
        yield Problem("offerings.director.compute", "missing: the director VM needs a compute offering",
                      "set offerings.director: {compute: <offering name>}")
    stemcell = config.get("stemcell") or {}
    if not stemcell.get("url") and not stemcell.get("file"):
        yield Problem("stemcell", "no stemcell: create-env needs one", "set stemcell.url (with sha1) or stemcell.file")
    releases = config.get("releases") or {}
    for name in BOOTSTRAP_RELEASES:
        spec = releases.get(name) or {}
        if not spec.get("url") and not spec.get("file"):
            yield Problem(f"releases.{name}", f"no {name} release: create-env needs one",
                          f"set releases.{name}: {{version: ..., url: ..., sha1: ...}} (or file:)")
    if not remote:
        return
    for key, spec in [("stemcell", stemcell), *((f"releases.{n}", s) for n, s in releases.items() if n != "cf")]:
        if spec.get("url") and not spec.get("sha1"):
            yield Problem(f"{key}.sha1", "a URL the inception VM downloads needs its checksum",
                          f"set {key}.sha1 (the SHA-1, or sha256:<hex>), or use {key}.file")
    cli = (config.get("inception") or {}).get("bosh_cli") or {}
    if not cli.get("url") or not cli.get("sha256"):
        yield Problem("inception.bosh_cli", "where to get the bosh CLI is not set",
                      "set inception.bosh_cli: {url: ..., sha256: ...}")


# -- against the cloud: names, capacity --------------------------------------------------------------------

def _names(items: list[dict[str, Any]]) -> str:
    return ", ".join(sorted({str(i.get("name")) for i in items})) or "none"


def _against_cloud(config: ProjectConfig, client: Lister, state: State | None, bootstrap: bool,
                   remote: bool) -> Iterator[Problem]:
    try:
        apply_zone_info(config, client)
    except ConfigError as exc:        # a missing zone: nothing else can be looked up in it
        yield from exc.problems
        if any(p.key.startswith("cloudstack.zone") for p in exc.problems):
            return
    zone = next(z for z in client.list("listZones", name=config.cloudstack["zone"])
                if z.get("name") == config.cloudstack["zone"])
    yield from _zone_switch(config, zone, state)
    compute = client.list("listServiceOfferings")
    yield from _offerings(config, client, compute)
    yield from _template(config, client, zone)
    networks = {n.get("name"): n for n in client.list("listNetworks", zoneid=zone["id"])}
    if config.zone_type == "advanced":
        yield from _advanced(config, client, zone, networks)
    else:
        yield from _basic(config, zone, networks)
    need = capacity.demand(config, client, compute, networks, state, bootstrap=bootstrap, remote=remote)
    yield from capacity.account_limits(client, need)
    yield from capacity.public_addresses(client, zone, need)
    yield from capacity.guest_addresses(config, client, zone, networks, state, bootstrap=bootstrap)
    if not bootstrap:
        return   # the director's address matters to create-env only
    try:
        place_director(config, client, zone["id"], state)
    except ConfigError as exc:
        yield from exc.problems


def _zone_switch(config: ProjectConfig, zone: dict[str, Any], state: State | None) -> Iterator[Problem]:
    recorded = state.get_value("zone") if state is not None else None
    if recorded and state is not None and state.resources and recorded.get("id") != zone.get("id"):
        yield Problem("cloudstack.zone", f"the environment's {len(state.resources)} resources are in zone "
                      f"{recorded.get('name')!r}, not {zone.get('name')!r}; a zone cannot change in place",
                      f"set it back to {recorded.get('name')} and `inception destroy`, then switch; or give this "
                      "config another name")


def _offerings(config: ProjectConfig, client: Lister, compute: list[dict[str, Any]]) -> Iterator[Problem]:
    disk = client.list("listDiskOfferings")
    compute_names = {o.get("name") for o in compute}
    disk_names = {o.get("name") for o in disk}

    def need(key: str, name: str | None, offered: set, items: list, what: str) -> Iterator[Problem]:
        if name and name not in offered:
            yield Problem(key, f"no {what} named {name!r}", f"use one of: {_names(items)}")

    settings = config.get("inception") or {}
    yield from need("inception.offering", settings.get("offering"), compute_names, compute, "compute offering")
    if not settings.get("offering"):
        try:
            default_offering(compute)
        except LookupError as exc:
            yield Problem("inception.offering", str(exc), "set inception.offering")
    sections = config.get("offerings") or {}
    pools = [("offerings.director", sections.get("director") or {}),
             ("offerings.compilation", sections.get("compilation") or {})]
    pools += [(f"offerings.vm_types.{n}", s) for n, s in (sections.get("vm_types") or {}).items()]
    for key, spec in pools:
        yield from need(f"{key}.compute", spec.get("compute"), compute_names, compute, "compute offering")
        yield from need(f"{key}.ephemeral_disk_offering", spec.get("ephemeral_disk_offering"), disk_names, disk,
                        "disk offering")
    yield from need("offerings.director.disk_offering", (sections.get("director") or {}).get("disk_offering"),
                    disk_names, disk, "disk offering")
    for name, spec in (sections.get("disk_types") or {}).items():
        yield from need(f"offerings.disk_types.{name}.disk_offering", spec.get("disk_offering"), disk_names, disk,
                        "disk offering")


def _template(config: ProjectConfig, client: Lister, zone: dict[str, Any]) -> Iterator[Problem]:
    templates = client.list("listTemplates", templatefilter="executable", zoneid=zone["id"])
    wanted = (config.get("inception") or {}).get("template")
    if wanted and not any(t.get("name") == wanted for t in templates):
        yield Problem("inception.template", f"no template named {wanted!r} in zone {zone['name']}",
                      f"use one of: {_names(templates)}")
    elif not wanted and default_template(templates) is None:
        yield Problem("inception.template", f"no Ubuntu template in zone {zone['name']}",
                      "set inception.template to an Ubuntu template's name")


def _advanced(config: ProjectConfig, client: Lister, zone: dict[str, Any],
              networks: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    settings = config.get("inception") or {}
    offering = settings.get("network_offering") or DEFAULT_NETWORK_OFFERING
    wanted = [(i, net) for i, net in enumerate(config.networks) if net.get("cloudstack_network")]
    if any(net["cloudstack_network"] not in networks for _, net in wanted):
        offerings = client.list("listNetworkOfferings", zoneid=zone["id"], guestiptype="Isolated")
        if not any(o.get("name") == offering for o in offerings):
            yield Problem("inception.network_offering", f"no isolated network offering named {offering!r} in "
                          f"zone {zone['name']} (needed to create the network)", f"use one of: {_names(offerings)}")
    for i, net in wanted:
        live = networks.get(net["cloudstack_network"])
        if live is None:
            continue
        if live.get("type") not in (None, "Isolated"):
            yield Problem(f"networks[{i}].cloudstack_network", f"{live['name']} is a {live['type']} network; BOSH "
                          "here needs an isolated one", "name an isolated network, or a new one `up` creates")
        elif net.get("cidr") and live.get("cidr") and live["cidr"] != net["cidr"]:
            yield Problem(f"networks[{i}].cidr", f"network {live['name']} has cidr {live['cidr']}, not {net['cidr']}",
                          f"set networks[{i}].cidr: {live['cidr']} (and gateway, ranges, IPs inside it)")
    yield from _public_ips(config, client, networks)


def _basic(config: ProjectConfig, zone: dict[str, Any], networks: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    """A manual network in a basic zone is the zone's shared guest network: its cidr must be that one's."""
    shared = next((n for n in networks.values() if n.get("type") == "Shared" and n.get("cidr")), None)
    if shared is None:
        return
    subnet = ipaddress.IPv4Network(shared["cidr"], strict=False)
    for i, net in enumerate(config.networks):
        if config.network_type(net) != "manual" or not net.get("cidr"):
            continue
        try:
            mine = ipaddress.IPv4Network(net["cidr"])
        except ValueError:
            continue   # reported by the config check
        if not mine.subnet_of(subnet):
            yield Problem(f"networks[{i}].cidr", f"{mine} is not inside zone {zone['name']}'s shared guest network "
                          f"{shared['name']} ({subnet}): CloudStack gives a basic zone's VMs addresses there only",
                          f"set networks[{i}].cidr: {subnet}, gateway: {shared.get('gateway')} and addresses "
                          "inside it, or leave the network dynamic (up then picks the director's address)")


def _public_ips(config: ProjectConfig, client: Lister, networks: dict[str, dict[str, Any]]) -> Iterator[Problem]:
    """The director's configured public IP: acquired by this account on its network, or acquirable by `up`."""
    address = config.director.get("public_ip")
    if not address:
        return
    ip = capacity.held_address(client, address)
    if ip is None:
        return   # `up` acquires it: capacity.public_addresses checks it is Free
    network = networks.get(config.director_network.get("cloudstack_network") or "")
    if ip.get("issourcenat"):
        yield Problem("director.public_ip", f"{address} is the source NAT address of network "
                      f"{ip.get('associatednetworkname')}; it cannot take static NAT", "use another public IP")
    elif network is not None and ip.get("associatednetworkid") not in (None, network.get("id")):
        yield Problem("director.public_ip", f"{address} is acquired for network {ip.get('associatednetworkname')}, "
                      f"not the director's {network.get('name')}", "release it there, or use another public IP")
