"""IP literals in manifests, one parser for every rule that needs one.

Which IP version a rule accepts is the rule's business: a manual subnet (`range`, `gateway`, `static`) is IPv4
here, as the CloudStack guest networks the project manages and `parse_range` are; an address handed to a job
(nats.address, the host of agent.mbus, ...) is an IP of either version or else a DNS name, since an IPv6
literal is never a host name.
"""
from __future__ import annotations

import ipaddress
from typing import Any

from inception.config.loader import parse_range

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def parse_ip(text: Any, version: int | None = None) -> IPAddress | None:
    """`text` as an IP address (of `version` when given), None when it is not one."""
    try:
        address = ipaddress.ip_address(str(text))
    except ValueError:
        return None
    return address if version is None or address.version == version else None


def static_ips(entry: Any) -> list[str] | None:
    """A job's static_ips entry, an IP or a range `a - b` as the BOSH director accepts it, as its IPs (None when
    it is neither)."""
    try:
        first, last = parse_range(str(entry))
    except ValueError:
        return None
    if int(last) - int(first) >= 65536:
        return None
    return [str(ipaddress.IPv4Address(n)) for n in range(int(first), int(last) + 1)]


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8, ::1, or the unspecified 0.0.0.0 / ::: never where another VM's job runs."""
    address = parse_ip(host)
    return host == "localhost" or (address is not None and (address.is_loopback or address.is_unspecified))
