"""The director's address in a Basic zone whose config leaves it open (a dynamic network, no director.ip).

create-env must know the director's address before the VM exists (the agent's mbus URL, the director's
certificate). A Basic zone's shared guest network takes a chosen address at deploy time
(deployVirtualMachine ipaddress=, which the CPI sends for a manual network), so `up` picks one: the highest
address of the shared network's CIDR that no VM this account sees holds, recorded in the state (`director_ip`)
and kept on every later run. The director is rendered on a manual network of that CIDR; the rest of the config
(cf, cloud-config) keeps the network as written. `director.ip` in the config always wins.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from inception.config.loader import ConfigError, Problem, ProjectConfig
from inception.state import State

STATE_KEY = "director_ip"


@dataclass(frozen=True)
class Placement:
    ip: str
    cidr: str
    gateway: str
    network: str       # the CloudStack network's name, for messages
    chosen: bool       # False: recorded by an earlier run

    def describe(self) -> str:
        how = "chosen now" if self.chosen else "chosen on an earlier run"
        return (f"director address {self.ip} in {self.network} ({self.cidr}), {how}; set director.ip to pick "
                "another")


def needs_placement(config: ProjectConfig) -> bool:
    if config.zone_type != "basic" or config.director.get("ip") or not config.networks:
        return False
    return config.network_type(config.director_network) == "dynamic"


def place_director(config: ProjectConfig, client: Any, zone_id: str, state: State | None) -> Placement | None:
    """The director's address when the config leaves it to `up` (None: the config gives it). Read-only."""
    if not needs_placement(config):
        return None
    shared = [n for n in client.list("listNetworks", zoneid=zone_id) if n.get("type") == "Shared" and n.get("cidr")]
    if not shared:
        raise ConfigError(config.source, [Problem("director.ip", "the zone shows no shared guest network to place "
                                                  "the director in", "set director.ip and the network's cidr, "
                                                  "gateway and type: manual")])
    network = shared[0]
    subnet = ipaddress.IPv4Network(network["cidr"], strict=False)
    recorded = (state.get_value(STATE_KEY) if state is not None else None) or {}
    if recorded.get("ip") and ipaddress.IPv4Address(recorded["ip"]) in subnet:
        return Placement(recorded["ip"], str(subnet), network["gateway"], network["name"], chosen=False)
    held = {nic.get("ipaddress") for vm in client.list("listVirtualMachines", zoneid=zone_id)
            for nic in vm.get("nic") or [] if nic.get("networkid") == network["id"]}
    held.add(network.get("gateway"))
    free = next((str(host) for host in reversed(list(subnet.hosts())) if str(host) not in held), None)
    if free is None:
        raise ConfigError(config.source, [Problem("director.ip", f"no free address in {network['name']} "
                                                  f"({subnet})", "free one, or set director.ip")])
    return Placement(free, str(subnet), network["gateway"], network["name"], chosen=True)


def record_placement(state: State, placement: Placement | None) -> None:
    if placement is not None and (state.get_value(STATE_KEY) or {}).get("ip") != placement.ip:
        state.set_value(STATE_KEY, {"ip": placement.ip, "cidr": placement.cidr, "gateway": placement.gateway})


def apply_placement(data: dict[str, Any], config: ProjectConfig, ip: str, cidr: str, gateway: str) -> None:
    """Put the director on a manual network of the shared CIDR in a config dict (for rendering only)."""
    name = config.director_network["name"]
    for net in data["networks"]:
        if net["name"] == name:
            net.update(type="manual", cidr=cidr, gateway=gateway)
            net.pop("static", None)
            net.pop("reserved", None)
    data.setdefault("director", {})["ip"] = ip
