"""Capacity pre-flight: what `up` will create, counted against what CloudStack says is left.

- The account's limits (listAccounts: `<x>limit`, `<x>total`): VMs (with their CPUs and memory), volumes, public
  IPs, networks, snapshots and templates `up` creates, counted from the steps it runs (the inception VM, its network and public IPs, the
  director VM create-env makes on a real cloud or the CPI check's VM, volume, snapshot and stemcell on a
  simulator). What the environment already has (recorded in its state, or found in CloudStack) is not counted.
- Public addresses: a director.public_ip to acquire must be Free in the zone; the addresses acquired without a
  choice (the inception VM's, a new network's source NAT) need as many Free ones
  (listPublicIpAddresses allocatedonly=false state=Free, CloudStack 4.18).
- Guest addresses of the manual networks that live in existing CloudStack networks: no static address (director.ip,
  the `static` ranges) may be held by a VM this account sees (the inception VM included; the running director
  holds director.ip itself), and the dynamic part (cidr minus gateway,
  reserved, static and held addresses) must have room for the compilation workers of the cloud-config and the
  inception VM (CloudStack gives it any free address).

Only list calls. Resource type numbers and field names: apache/cloudstack 4.18 Resource.ResourceType and
AccountResponse.
"""
from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from cpi.cloudstack.errors import CloudStackError
from inception.cloud.choices import default_offering, offering_size
from inception.cloud.layout import IP_KEY, VM_KEY
from inception.config.loader import Problem, ProjectConfig, in_ranges, parse_range
from inception.manifests.cloud_config import COMPILATION_WORKERS
from inception.state import State

log = logging.getLogger(__name__)

DIRECTOR_IP_KEY = "ip:director"
NOT_ALLOWED = 432   # CloudStack: the caller's role may not call the command (or it does not exist)
GONE = ("Destroyed", "Expunging", "Expunged", "Error")


class Lister(Protocol):
    def list(self, command: str, **params: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class Kind:
    field: str       # listAccounts prefix
    number: int      # updateResourceLimit resourcetype
    label: str


KINDS = {"user_vm": Kind("vm", 0, "VMs"), "public_ip": Kind("ip", 1, "public IPs"),
         "volume": Kind("volume", 2, "volumes"), "snapshot": Kind("snapshot", 3, "snapshots"),
         "template": Kind("template", 4, "templates"), "network": Kind("network", 6, "networks"),
         "cpu": Kind("cpu", 8, "CPU cores"), "memory": Kind("memory", 9, "MB of memory")}
CPI_CHECK_VM = (1, 1024)   # cpu, MB the CPI check asks calculate_vm_cloud_properties for (cpi/lifecycle.py)


@dataclass
class Demand:
    """What `up` will create, per resource type, with what each is for."""

    reasons: dict[str, list[str]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    acquire: str | None = None      # director.public_ip, when `up` acquires it (the one address it chooses)

    def add(self, kind: str, count: int, what: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + count
        self.reasons.setdefault(kind, []).append(what if count == 1 else f"{count} for {what}")

    def vm(self, what: str, size: tuple[int, int] | None) -> None:
        """A VM, and its CPUs and memory when its offering is fixed (a custom one's are known to the CPI only)."""
        self.add("user_vm", 1, what)
        if size is not None and all(size):
            self.add("cpu", size[0], what)
            self.add("memory", size[1], what)


def _size(offerings: list[dict[str, Any]], name: str | None) -> tuple[int, int] | None:
    found = next((o for o in offerings if o.get("name") == name and not o.get("iscustomized")), None)
    return offering_size(found) if found is not None else None


def _exists(state: State | None, key: str) -> bool:
    record = state.get(key) if state is not None else None
    return record is not None and record.status != "failed"


def _step(state: State | None, name: str) -> str | None:
    return state.step(name).get("status") if state is not None else None


def demand(config: ProjectConfig, client: Lister, offerings: list[dict[str, Any]], networks: dict[str, dict[str, Any]],
           state: State | None, *, bootstrap: bool, remote: bool) -> Demand:
    """Count what `up` creates (see layout.build_steps and bootstrap.bootstrap_tasks); `offerings` and `networks`
    are the zone's compute offerings and networks as the pre-flight listed them."""
    need = Demand()
    if not _exists(state, VM_KEY):
        name = (config.get("inception") or {}).get("offering")
        if not name:
            try:
                name = default_offering(offerings)["name"]
            except LookupError:
                name = None     # reported with the offerings
        need.vm("the inception VM", _size(offerings, name))
        need.add("volume", 1, "the inception VM's ROOT disk")
    if bootstrap and remote and _step(state, "bootstrap") != "done":
        director = (config.get("offerings") or {}).get("director") or {}
        disks = 3 if director.get("ephemeral_disk_offering") or director.get("ephemeral_disk_size") else 2
        need.vm("the director VM create-env makes", _size(offerings, director.get("compute")))
        what = "ROOT, ephemeral and persistent disks" if disks == 3 else "ROOT and persistent disks"
        need.add("volume", disks, f"the director's {what}")
    elif bootstrap and not remote and _step(state, "cpi_check") != "passed":
        need.vm("the CPI check's VM", CPI_CHECK_VM)
        need.add("volume", 3, "the CPI check's ROOT, ephemeral and test disks")
        need.add("snapshot", 1, "the CPI check's snapshot")
        need.add("template", 1, "the CPI check's stemcell")
    if config.zone_type != "advanced":
        return need
    wanted = list(dict.fromkeys(n["cloudstack_network"] for n in config.networks if n.get("cloudstack_network")))
    for name in wanted:
        if name not in networks:
            need.add("network", 1, f"network {name}")
    if config.security_groups_enabled or not wanted:
        return need
    if not _exists(state, IP_KEY):
        need.add("public_ip", 1, "the inception VM's public IP")
    first = networks.get(config.director_network.get("cloudstack_network") or wanted[0])
    if first is None or not client.list("listPublicIpAddresses", associatednetworkid=first["id"], issourcenat=True):
        need.add("public_ip", 1, f"the source NAT address of network {first['name'] if first else wanted[0]}")
    address = config.director.get("public_ip")
    if address and not _exists(state, DIRECTOR_IP_KEY) and held_address(client, address) is None:
        need.add("public_ip", 1, f"director.public_ip {address}")
        need.acquire = address
    return need


def held_address(client: Lister, address: str) -> dict[str, Any] | None:
    """The account's own acquired address, if it holds it."""
    return next((ip for ip in client.list("listPublicIpAddresses", ipaddress=address)
                 if ip.get("ipaddress") == address), None)


def account_limits(client: Lister, need: Demand) -> Iterator[Problem]:
    """One problem per resource type whose limit leaves less room than `up` needs (none for unlimited ones).

    A role may be denied listAccounts (CloudStack answers 432, as for an unknown command): the limits cannot be
    read then, and CloudStack still enforces them when `up` creates, so that check alone is left out rather
    than the whole pre-flight failing as if the keys were wrong."""
    try:
        accounts = client.list("listAccounts")
    except CloudStackError as exc:
        if exc.errorcode != NOT_ALLOWED:
            raise
        log.info("listAccounts refused (%s): the account's limits are not checked before up", exc.message)
        return
    if not accounts:
        return
    account = accounts[0]
    for kind, count in need.counts.items():
        spec = KINDS[kind]
        limit = account.get(f"{spec.field}limit")
        if limit in (None, "Unlimited"):
            continue
        total = int(account.get(f"{spec.field}total") or 0)
        room = max(int(limit) - total, 0)
        if count > room:
            yield Problem(f"account {account.get('name')}",
                          f"{spec.label}: `up` creates {count} ({', '.join(need.reasons[kind])}), the account may "
                          f"create {room} more (limit {limit}, {total} in use)",
                          f"free {count - room} of them, or ask the cloud admin to raise the limit: "
                          f"updateResourceLimit account={account.get('name')} domainid={account.get('domainid')} "
                          f"resourcetype={spec.number} max={total + count}")


def public_addresses(client: Lister, zone: dict[str, Any], need: Demand) -> Iterator[Problem]:
    """A director.public_ip to acquire is Free in the zone; the addresses `up` acquires without a choice are there."""
    address = need.acquire
    unchosen = [r for r in need.reasons.get("public_ip", []) if r != f"director.public_ip {address}"]
    if address is None and not unchosen:
        return
    free = {ip.get("ipaddress") for ip in client.list("listPublicIpAddresses", zoneid=zone["id"], allocatedonly=False,
                                                       state="Free", forvirtualnetwork=True)
            if ip.get("state") == "Free"}
    if address is not None and address not in free:
        yield Problem("director.public_ip", f"{address} is not a Free public address of zone {zone['name']}: another "
                      "account or network holds it, or it is not in the zone's public ranges",
                      "use a Free one (listPublicIpAddresses allocatedonly=false state=Free), or leave it unset")
    usable = free - {address}
    if len(unchosen) > len(usable):
        yield Problem("cloudstack.zone", f"zone {zone['name']} has {len(usable)} Free public address(es); `up` "
                      f"acquires {len(unchosen)} ({', '.join(unchosen)})",
                      "release public IPs that are not used, or ask the cloud admin for more public addresses")


# -- guest addresses of manual networks ---------------------------------------------------------------------

def _hosts(net: dict[str, Any]) -> tuple[ipaddress.IPv4Network, list[str], list[str]] | None:
    """(cidr, reserved, static) of a manual network, None when malformed (the config check reports that)."""
    try:
        cidr = ipaddress.IPv4Network(net["cidr"])
        reserved, static = list(net.get("reserved") or []), list(net.get("static") or [])
        for text in reserved + static:
            parse_range(text)
    except (KeyError, ValueError):
        return None
    return cidr, reserved, static


def guest_addresses(config: ProjectConfig, client: Lister, zone: dict[str, Any], networks: dict[str, dict[str, Any]],
                    state: State | None, *, bootstrap: bool) -> Iterator[Problem]:
    """Static addresses another VM holds, and dynamic parts too small for what BOSH places there."""
    shared = next((n for n in networks.values() if n.get("type") == "Shared"), None)
    vms = [vm for vm in client.list("listVirtualMachines", zoneid=zone["id"]) if vm.get("state") not in GONE]
    director_live = _step(state, "bootstrap") == "done"     # the running director holds director.ip itself
    for i, net in enumerate(config.networks):
        live = shared if config.zone_type == "basic" else networks.get(net.get("cloudstack_network") or "")
        held = {nic.get("ipaddress"): vm.get("name") for vm in vms for nic in vm.get("nic") or []
                if live is not None and nic.get("networkid") == live["id"]}
        ip = config.director.get("ip")
        if bootstrap and net is config.director_network and ip in held and not director_live:
            yield Problem("director.ip", f"{ip} is held by VM {held[ip]}", "pick a free address")
        parsed = _hosts(net) if config.network_type(net) == "manual" else None
        if parsed is None:
            continue
        cidr, reserved, static = parsed
        taken = sorted((addr for addr in held if addr and addr != ip and _in(addr, static)),
                       key=ipaddress.IPv4Address)
        if taken:
            yield Problem(f"networks[{i}].static", f"{', '.join(taken)} inside the static range "
                          f"{'held by VM' if len(taken) == 1 else 'held by VMs'} "
                          f"{', '.join(sorted({held[ip] for ip in taken}))}",
                          "take them out of networks[].static (BOSH gives static addresses to its instances), or "
                          "free them")
        yield from _dynamic_room(config, i, net, cidr, reserved, static, held, state)


def _in(ip: str, ranges: list[str]) -> bool:
    try:
        return in_ranges(ipaddress.IPv4Address(ip), ranges)
    except ValueError:
        return False


def _unclaimed(cidr: ipaddress.IPv4Network, addresses: list[Any], ranges: list[str]) -> int:
    """How many host addresses of `cidr` are neither one of `addresses` nor in `ranges`: counted as intervals,
    since walking every host takes a second for a /16 and minutes for a /8."""
    first, last = int(cidr.network_address), int(cidr.broadcast_address)
    if cidr.prefixlen < 31:          # network and broadcast addresses are not hosts
        first, last = first + 1, last - 1
    claimed = [tuple(map(int, parse_range(text))) for text in ranges]
    for text in addresses:
        try:
            claimed.append((int(ipaddress.IPv4Address(text)),) * 2)
        except (ValueError, TypeError):
            continue                 # none, or not an IPv4 address: claims no host of an IPv4 cidr
    taken, end = 0, first - 1        # `end`: the last address counted so far
    for start, stop in sorted(claimed):
        start, stop = max(start, end + 1), min(stop, last)
        if start <= stop:
            taken, end = taken + stop - start + 1, stop
    return last - first + 1 - taken


def _dynamic_room(config: ProjectConfig, i: int, net: dict[str, Any], cidr: ipaddress.IPv4Network,
                  reserved: list[str], static: list[str], held: dict[str, Any],
                  state: State | None) -> Iterator[Problem]:
    """BOSH places compilation workers (the cloud-config's, on its first network) and CloudStack the inception VM
    (on the director's network) in the addresses no range claims."""
    needs: list[tuple[int, str]] = []
    if i == 0 and (config.get("offerings") or {}).get("vm_types"):
        needs.append((COMPILATION_WORKERS, f"{COMPILATION_WORKERS} compilation workers (cloud-config)"))
    if net is config.director_network and not _exists(state, VM_KEY):
        needs.append((1, "the inception VM (CloudStack gives it any free address)"))
    wanted = sum(count for count, _ in needs)
    if not wanted:
        return
    room = _unclaimed(cidr, [net.get("gateway"), *held], reserved + static)
    if room < wanted:
        yield Problem(f"networks[{i}]", f"the dynamic part of {cidr} (not gateway, reserved, static or held) has "
                      f"{room} address(es); {wanted} go there: {', '.join(why for _, why in needs)}",
                      f"shrink networks[{i}].reserved or .static, or free addresses")
